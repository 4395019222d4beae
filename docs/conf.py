"""Sphinx configuration of the django-storages documentation.

Build with ``hatch run docs:build`` (or ``sphinx-build -W --keep-going -b html docs
docs/_build/html``). The settings tables come from the backends' option declarations through
the local ``storages_settings`` extension, so the packages being documented must be importable.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import django
from django.conf import settings

sys.path.insert(0, str(Path(__file__).parent / "_ext"))

# Importing a storage class reads nothing from settings, but Django wants to be configured
# before its storage modules are used; a minimal configuration is enough for the docs.
if not settings.configured:
    settings.configure(INSTALLED_APPS=["storages"], USE_TZ=True)
    django.setup()

project = "django-storages"
author = "django-storages contributors"
copyright = "django-storages contributors"

# No intersphinx: the build must not need the network.
extensions = ["storages_settings"]

exclude_patterns = ["_build"]
templates_path: list[str] = []

try:
    import furo  # noqa: F401

    html_theme = "furo"
except ImportError:  # pragma: no cover - the docs environment installs furo
    html_theme = "alabaster"

html_title = "django-storages"
html_static_path: list[str] = []


# -- the Providers toctree ----------------------------------------------------------------------
# Provider pages (providers/<name>.rst) are written with their packages. A glob toctree that
# matches nothing is a warning, and warnings fail the build, so the toctree is only added to
# the index once at least one provider page exists.

PROVIDERS_MARKER = ".. providers-toctree\n"
PROVIDERS_TOCTREE = """
.. toctree::
   :maxdepth: 1
   :caption: Providers
   :glob:

   providers/*
"""


def _add_providers_toctree(app: Any, docname: str, source: list[str]) -> None:
    if docname == "index" and any((Path(app.srcdir) / "providers").glob("*.rst")):
        source[0] = source[0].replace(PROVIDERS_MARKER, PROVIDERS_TOCTREE)


def setup(app: Any) -> None:
    app.connect("source-read", _add_providers_toctree)
