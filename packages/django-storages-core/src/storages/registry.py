"""Discovery of installed storage providers through entry points.

Each provider distribution declares entry points in the group ``django_storages.backends``:
the entry point's name is the alias, its value the storage class
(``"storages.backends.s3:S3Storage"``). Listing reads distribution metadata only: no provider
module, and so no SDK, is imported until an alias is resolved to a class.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from django.utils.module_loading import import_string

from storages.exceptions import BackendNotInstalledError, DuplicateAliasError

ENTRY_POINT_GROUP = "django_storages.backends"

#: First-party aliases and the distribution that provides each, so that an alias that is not
#: installed can say what to install.
FIRST_PARTY_ALIASES: dict[str, str] = {
    "s3": "django-storages-s3",
    "s3_static": "django-storages-s3",
    "s3_manifest": "django-storages-s3",
    "azure": "django-storages-azure",
    "gcs": "django-storages-gcs",
    "dropbox": "django-storages-dropbox",
    "ftp": "django-storages-ftp",
    "sftp": "django-storages-sftp",
    "libcloud": "django-storages-libcloud",
}

#: Modules of the original library and the distribution that now ships each, so that a
#: ``BACKEND`` path whose provider is not installed says what to install.
FIRST_PARTY_MODULES: dict[str, str] = {
    "storages.backends.s3": "django-storages-s3",
    "storages.backends.s3boto3": "django-storages-s3",
    "storages.backends.azure_storage": "django-storages-azure",
    "storages.backends.gcloud": "django-storages-gcs",
    "storages.backends.dropbox": "django-storages-dropbox",
    "storages.backends.ftp": "django-storages-ftp",
    "storages.backends.sftpstorage": "django-storages-sftp",
    "storages.backends.apache_libcloud": "django-storages-libcloud",
}

__all__ = [
    "ENTRY_POINT_GROUP",
    "FIRST_PARTY_ALIASES",
    "FIRST_PARTY_MODULES",
    "Backend",
    "backends",
    "get_backend",
    "get_class",
    "resolve",
]


@dataclass(frozen=True)
class Backend:
    """An installed storage backend, as its distribution declares it."""

    alias: str
    class_path: str
    distribution: str
    version: str

    def load(self) -> type[Any]:
        """Import and return the storage class (this imports the provider and its SDK)."""
        return import_string(self.class_path)  # type: ignore[no-any-return]


def _entry_points() -> list[metadata.EntryPoint]:
    return list(metadata.entry_points(group=ENTRY_POINT_GROUP))


@functools.lru_cache(maxsize=1)
def _discover() -> dict[str, Backend]:
    found: dict[str, Backend] = {}
    for entry_point in _entry_points():
        dist = entry_point.dist
        backend = Backend(
            alias=entry_point.name,
            class_path=entry_point.value.replace(":", "."),
            distribution=dist.metadata["Name"] if dist is not None else "unknown",
            version=dist.version if dist is not None else "unknown",
        )
        previous = found.get(backend.alias)
        if previous is not None and previous.distribution != backend.distribution:
            raise DuplicateAliasError(
                f"The storage alias '{backend.alias}' is declared by two installed "
                f"distributions: {previous.distribution} ({previous.class_path}) and "
                f"{backend.distribution} ({backend.class_path}). Uninstall one of them."
            )
        found[backend.alias] = backend
    return found


def clear_cache() -> None:
    """Forget discovered backends (after installing a distribution at run time, or in tests)."""
    _discover.cache_clear()


def backends() -> list[Backend]:
    """Every installed backend, sorted by alias."""
    return sorted(_discover().values(), key=lambda b: b.alias)


def get_backend(alias: str) -> Backend:
    """The installed backend for ``alias``, or an error that says what to install."""
    found = _discover()
    if alias in found:
        return found[alias]
    installed = ", ".join(sorted(found)) or "none"
    distribution = FIRST_PARTY_ALIASES.get(alias)
    if distribution is not None:
        raise BackendNotInstalledError(
            f"The storage backend '{alias}' ({distribution})",
            distribution,
            extra=f"Installed storage aliases: {installed}.",
        )
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        f"No storage backend is registered under the alias '{alias}'. Installed storage aliases: {installed}."
    )


def resolve(alias: str) -> str:
    """The dotted class path for ``alias``."""
    return get_backend(alias).class_path


def get_class(alias: str) -> type[Any]:
    """The storage class for ``alias`` (imports the provider)."""
    return get_backend(alias).load()
