"""The core conformance kit against moto's S3 server, with no test overridden."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from storages.testing import StorageConformanceTests


class TestS3Conformance(StorageConformanceTests):
    overwrites = True  # AWS_S3_FILE_OVERWRITE defaults to True, as in django-storages
    listdir_entries = 1001
    supports_url_fetch = True
    supports_modified_time = True
    supports_atomic_write = True

    @pytest.fixture
    def storage(self, make_storage: Callable[..., Any]) -> Any:
        return make_storage()


class TestS3ConformanceWithLocation(StorageConformanceTests):
    overwrites = True
    listdir_entries = 1001

    @pytest.fixture
    def storage(self, make_storage: Callable[..., Any]) -> Any:
        # Unsigned URLs: the objects are made public-read so that moto serves them.
        return make_storage(location="media/uploads", querystring_auth=False, default_acl="public-read")
