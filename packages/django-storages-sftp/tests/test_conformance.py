"""The core conformance kit against OpenSSH's sshd, with no test overridden."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from storages.testing import StorageConformanceTests


class TestSFTPConformance(StorageConformanceTests):
    # url() joins names on base_url; sshd serves no HTTP, so there is nothing to fetch.
    supports_url_fetch = False
    supports_accessed_time = True
    supports_created_time = False
    public_class_path = "storages.backends.sftpstorage.SFTPStorage"

    @pytest.fixture
    def storage(self, make_storage: Any) -> Any:
        return make_storage()

    # The test sshd serves a local folder: changes behind the storage's back go straight to it.

    def raw_write(self, storage: Any, name: str, data: bytes) -> None:
        Path(storage._path(name)).write_bytes(data)

    def raw_delete(self, storage: Any, name: str) -> None:
        Path(storage._path(name)).unlink()

    def pending_uploads(self, storage: Any, name: str) -> list[str]:
        folder = Path(storage._path(name)).parent
        return sorted(p.name for p in folder.glob(".*.part")) if folder.exists() else []
