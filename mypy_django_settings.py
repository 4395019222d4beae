"""Django settings used only by mypy's django-stubs plugin."""

SECRET_KEY = "mypy-only"
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.staticfiles", "storages"]
