"""Fixtures: one OpenSSH sshd for the session, and storages pointed at an empty folder on it."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from storages.testing import configure_django

# The repository root holds the shared test-server helpers (``shared.testservers``).
sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from shared.testservers import serve
from shared.testservers.sshd import SSHServer, sshd_server

configure_django()


@pytest.fixture(scope="session")
def sshd() -> Iterator[SSHServer]:
    yield from serve(sshd_server())


@pytest.fixture
def root(sshd: SSHServer) -> str:
    """An empty folder on the server, for ``root_path``."""
    folder = Path(sshd.root) / uuid.uuid4().hex[:12]
    folder.mkdir()
    return str(folder)


@pytest.fixture
def make_storage(sshd: SSHServer, root: str) -> Iterator[Any]:
    """Build storages on the test server; every one is closed after the test."""
    from storages.backends.sftpstorage import SFTPStorage

    made: list[SFTPStorage] = []

    def make(**options: Any) -> SFTPStorage:
        options.setdefault("host", sshd.host)
        options.setdefault("params", sshd.params())
        options.setdefault("known_host_file", sshd.known_hosts)
        options.setdefault("root_path", root)
        storage = SFTPStorage(**options)
        made.append(storage)
        return storage

    yield make
    for storage in made:
        storage.close()
