"""Minimal Django configuration for provider test suites."""

from __future__ import annotations

from typing import Any


def configure_django(**overrides: Any) -> None:
    """Configure Django once for a test session (later calls do nothing).

    ``INSTALLED_APPS`` holds ``storages`` so the system checks, the management commands and the
    conformance kit's ``FileField`` model work; it comes before ``django.contrib.staticfiles``
    so that its ``collectstatic`` replaces Django's. Pass overrides for anything else.
    """
    import django
    from django.conf import settings

    if settings.configured:
        return
    options: dict[str, Any] = {
        "SECRET_KEY": "storages-tests-not-secret",
        "INSTALLED_APPS": [
            "django.contrib.contenttypes",
            "django.contrib.auth",
            # Before staticfiles, so that storages' collectstatic (with the collect scope) wins.
            "storages",
            "django.contrib.staticfiles",
        ],
        "DATABASES": {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        "USE_TZ": True,
        "TIME_ZONE": "UTC",
        "MEDIA_URL": "/media/",
        "STATIC_URL": "/static/",
        "DEFAULT_AUTO_FIELD": "django.db.models.AutoField",
    }
    options.update(overrides)
    settings.configure(**options)
    django.setup()
