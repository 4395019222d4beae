"""Test helpers for storage providers: the conformance kit and Django test settings.

Install with the ``testing`` extra: ``pip install "django-storages-core[testing]"``.
"""

from storages.testing.conformance import StorageConformanceTests
from storages.testing.django_settings import configure_django
from storages.testing.threads import mixed_work, run_threads

__all__ = ["StorageConformanceTests", "configure_django", "mixed_work", "run_threads"]
