"""The core conformance kit against pyftpdlib, over FTP and over FTPS, with no test overridden."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from storages.testing import StorageConformanceTests


class _FTPKit(StorageConformanceTests):
    # url() joins names on base_url; the FTP server serves no HTTP, so there is nothing to fetch.
    supports_url_fetch = False
    supports_accessed_time = False
    supports_created_time = False
    public_class_path = "storages.backends.ftp.FTPStorage"

    # The test server serves a local folder: changes behind the storage's back go straight to it.

    @staticmethod
    def _local(storage: Any, name: str) -> Path:
        return Path(storage._test_root) / storage._key(name)

    def raw_write(self, storage: Any, name: str, data: bytes) -> None:
        self._local(storage, name).write_bytes(data)

    def raw_delete(self, storage: Any, name: str) -> None:
        self._local(storage, name).unlink()

    def pending_uploads(self, storage: Any, name: str) -> list[str]:
        folder = self._local(storage, name).parent
        return sorted(p.name for p in folder.glob(".*.part")) if folder.exists() else []


class TestFTPConformance(_FTPKit):
    @pytest.fixture
    def storage(self, make_storage: Any) -> Any:
        storage = make_storage()
        storage._test_root = make_storage.root
        return storage


class TestFTPSConformance(_FTPKit):
    @pytest.fixture
    def storage(self, make_tls_storage: Any) -> Any:
        storage = make_tls_storage()
        storage._test_root = make_tls_storage.root
        return storage


class TestFTPListOnlyConformance(_FTPKit):
    """A server without MLSD/MLST: listings parsed from LIST, metadata from SIZE and MDTM."""

    @pytest.fixture
    def storage(self, ftpd_list_only: Any, storages_on: Any) -> Any:
        with storages_on(ftpd_list_only) as make:
            storage = make()
            storage._test_root = make.root  # type: ignore[attr-defined]
            yield storage
