"""The core conformance kit against OpenSSH's sshd, with no test overridden."""

from __future__ import annotations

from typing import Any

import pytest

from storages.testing import StorageConformanceTests


class TestSFTPConformance(StorageConformanceTests):
    # url() joins names on base_url; sshd serves no HTTP, so there is nothing to fetch.
    supports_url_fetch = False
    supports_accessed_time = True
    supports_created_time = False

    @pytest.fixture
    def storage(self, make_storage: Any) -> Any:
        return make_storage()
