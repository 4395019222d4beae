"""Settings of the example project. ``STORAGES`` comes from the environment variable
``EXAMPLE_STORAGES`` (JSON) so each test can point the project at its own server."""

import json
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = "example-project-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1"]
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "storages",  # above staticfiles: its collectstatic opens the one-listing scope
    "django.contrib.staticfiles",
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
USE_TZ = True
STATIC_URL = "/static/"
STATIC_ROOT = os.environ.get("EXAMPLE_STATIC_ROOT", str(BASE_DIR / "static-root"))
STATICFILES_DIRS = [p for p in os.environ.get("EXAMPLE_STATICFILES_DIRS", "").split(os.pathsep) if p]
MEDIA_URL = "/media/"
STORAGES = json.loads(
    os.environ.get(
        "EXAMPLE_STORAGES",
        json.dumps(
            {
                "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
                "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
            }
        ),
    )
)
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
