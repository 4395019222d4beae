"""Storage aliases usable wherever Django expects a dotted path.

``STORAGES = {"default": {"BACKEND": "storages.aliases.s3"}}`` works because Django's
``import_string`` imports this module and asks it for the attribute ``s3``, which the
module-level ``__getattr__`` resolves through :mod:`storages.registry`.
"""

from __future__ import annotations

from typing import Any

from storages import registry


def __getattr__(alias: str) -> Any:
    if alias.startswith("__"):
        raise AttributeError(alias)
    return registry.get_class(alias)


def __dir__() -> list[str]:
    return [backend.alias for backend in registry.backends()]
