"""The optional Django app: ``INSTALLED_APPS += ["storages"]``.

It adds the system checks of :mod:`storages.checks` and the ``storages`` management command.
"""

from __future__ import annotations

from pathlib import Path

from django.apps import AppConfig


class StoragesConfig(AppConfig):
    name = "storages"
    label = "storages"
    verbose_name = "django-storages"
    # ``storages`` is a namespace package spread over several distributions, so Django cannot
    # pick its location by itself; the app's own files (this module, ``management/``) are here.
    path = str(Path(__file__).resolve().parent)

    def ready(self) -> None:
        from storages import checks  # noqa: F401  (registers the checks)
