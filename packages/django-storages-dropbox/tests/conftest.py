"""Fixtures: one fake Dropbox API server (HTTPS on 127.0.0.1) for the session, a folder per test.

The ``dropbox`` SDK reads its hosts from ``DROPBOX_API_HOST``, ``DROPBOX_API_CONTENT_HOST`` and
``DROPBOX_API_NOTIFY_HOST`` once, when it is first imported. So this module reserves the
server's port and sets those three variables when pytest imports it, before any test module
imports ``dropbox``; the server itself starts in a session fixture on that port. Nothing else
in the process changes: the certificate is trusted through the storage's own ``ca_certs``
(a requests session with ``verify=``), never through ``REQUESTS_CA_BUNDLE``, so other
packages' HTTPS in the same pytest run is untouched.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# The repository root holds the shared test-server helpers (``shared.testservers``).
sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from shared.testservers import serve
from shared.testservers.dropbox import FakeDropbox, dropbox_fake, reserve_listener, sdk_environment

_LISTENER = reserve_listener()
_ENVIRONMENT = sdk_environment(_LISTENER)
if "dropbox.session" in sys.modules:
    _imported = sys.modules["dropbox.session"]
    if getattr(_imported, "API_HOST", None) != _ENVIRONMENT["DROPBOX_API_HOST"]:
        raise pytest.UsageError(
            "the dropbox SDK was imported before the Dropbox tests' conftest, so it points at "
            f"{_imported.API_HOST}; run these tests in their own process, or import nothing "
            "that imports dropbox in an earlier conftest."
        )
os.environ.update(_ENVIRONMENT)

from storages.testing import configure_django  # noqa: E402

configure_django()


@pytest.fixture(scope="session")
def fake() -> Iterator[FakeDropbox]:
    yield from serve(dropbox_fake(_LISTENER))


@pytest.fixture(autouse=True)
def _clean_fake(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "fake" in request.fixturenames:
        server: FakeDropbox = request.getfixturevalue("fake")
        server.clear_faults()


@pytest.fixture
def root_path() -> str:
    """A new, empty folder of the fake Dropbox for this test."""
    return f"/test-{uuid.uuid4().hex[:16]}"


@pytest.fixture
def make_storage(fake: FakeDropbox, root_path: str) -> Callable[..., Any]:
    """Build a DropboxStorage on the fake, in this test's folder, with a long-lived token."""

    def make(**options: Any) -> Any:
        from storages.backends.dropbox import DropboxStorage

        if not {"app_key", "oauth2_refresh_token"} & options.keys():
            options.setdefault("oauth2_access_token", fake.access_token)
        options.setdefault("root_path", root_path)
        options.setdefault("ca_certs", fake.ca_path)
        options.setdefault("timeout", 5)
        return DropboxStorage(**options)

    return make


@pytest.fixture
def storage(make_storage: Callable[..., Any]) -> Any:
    return make_storage()
