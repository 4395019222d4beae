"""Fixtures: pyftpdlib servers for the session (plain, FTPS, LIST-only), and storages on them.

Each test gets an empty folder of its own on the server, used as the location's path.
"""

from __future__ import annotations

import contextlib
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from storages.testing import configure_django

# The repository root holds the shared test-server helpers (``shared.testservers``).
sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from shared.testservers import serve
from shared.testservers.ftp import FTPServer, ftp_server

configure_django()


@pytest.fixture(scope="session")
def ftpd() -> Iterator[FTPServer]:
    yield from serve(ftp_server())


@pytest.fixture(scope="session")
def ftpd_tls() -> Iterator[FTPServer]:
    yield from serve(ftp_server(tls=True))


@pytest.fixture(scope="session")
def ftpd_list_only() -> Iterator[FTPServer]:
    """No MLSD/MLST: listings come from LIST in the Unix format."""
    yield from serve(ftp_server(mlsd=False))


@pytest.fixture(scope="session")
def ftpd_windows() -> Iterator[FTPServer]:
    """No MLSD/MLST, and LIST answers in the DOS/IIS format."""
    yield from serve(ftp_server(mlsd=False, list_format="windows"))


StorageFactory = Callable[..., Any]


def storage_factory(server: FTPServer, scheme: str = "") -> Iterator[StorageFactory]:
    """Build storages on ``server`` in a fresh folder; every one is closed after the test."""
    from storages.backends.ftp import FTPStorage

    folder = uuid.uuid4().hex[:12]
    (Path(server.root) / folder).mkdir()
    made: list[FTPStorage] = []

    def make(**options: Any) -> FTPStorage:
        options.setdefault("location", server.location(scheme, f"/{folder}/"))
        if server.tls:
            options.setdefault("tls_ca_file", server.certfile)
        storage = FTPStorage(**options)
        made.append(storage)
        return storage

    make.root = Path(server.root) / folder  # type: ignore[attr-defined]
    make.server = server  # type: ignore[attr-defined]
    yield make
    for storage in made:
        storage.close()


@pytest.fixture
def storages_on() -> Callable[..., contextlib.AbstractContextManager[StorageFactory]]:
    """``with storages_on(server) as make:`` for tests that pick their server at run time."""
    return contextlib.contextmanager(storage_factory)


@pytest.fixture
def make_storage(ftpd: FTPServer) -> Iterator[StorageFactory]:
    yield from storage_factory(ftpd)


@pytest.fixture
def make_tls_storage(ftpd_tls: FTPServer) -> Iterator[StorageFactory]:
    yield from storage_factory(ftpd_tls)


@pytest.fixture(params=["ftp", "aftp"], ids=["passive", "active"])
def make_any_mode_storage(request: pytest.FixtureRequest, ftpd: FTPServer) -> Iterator[StorageFactory]:
    yield from storage_factory(ftpd, request.param)
