"""The core conformance kit against the GCS emulator, with no test overridden."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from storages.testing import StorageConformanceTests

from .conftest import SigningAnonymousCredentials


class GCSKit(StorageConformanceTests):
    """The kit's provider hooks through the raw google-cloud-storage client."""

    overwrites = True  # GS_FILE_OVERWRITE defaults to True, as in django-storages
    supports_created_time = True
    listdir_entries = 1001  # GCS (and the emulator) page listings by 1000
    public_class_path = "storages.backends.gcloud.GoogleCloudStorage"

    def raw_write(self, storage: Any, name: str, data: bytes) -> None:
        storage.bucket.blob(storage._normalize_name(name)).upload_from_string(data)

    def raw_delete(self, storage: Any, name: str) -> None:
        storage.bucket.delete_blob(storage._normalize_name(name))

    def pending_uploads(self, storage: Any, name: str) -> list[str]:
        # GCS has no API that lists resumable sessions; an unfinished one is invisible (no
        # object, no listing entry) and an aborted write cancels its session (tested in
        # test_files.py by reusing the session URL).
        return []


class TestGCSConformance(GCSKit):
    """Signed URLs (a throwaway service-account key signs; the emulator does not check)."""

    @pytest.fixture
    def storage(self, make_storage: Callable[..., Any], service_account_credentials: Any) -> Any:
        return make_storage(credentials=SigningAnonymousCredentials(service_account_credentials))


class TestGCSConformanceWithLocation(GCSKit):
    @pytest.fixture
    def storage(self, make_storage: Callable[..., Any]) -> Any:
        return make_storage(location="media/uploads", querystring_auth=False)


class TestGCSConformanceWithoutOverwrite(GCSKit):
    overwrites = False
    listdir_entries = 10

    @pytest.fixture
    def storage(self, make_storage: Callable[..., Any]) -> Any:
        return make_storage(file_overwrite=False, querystring_auth=False)


class TestGCSStaticConformance(GCSKit):
    """Outside collectstatic the static storage answers every call from the server."""

    listdir_entries = 10
    public_class_path = "storages.backends.gcloud.GoogleCloudStaticStorage"

    @pytest.fixture
    def storage(self, make_storage: Callable[..., Any]) -> Any:
        from storages.backends.gcloud import GoogleCloudStaticStorage

        return make_storage(GoogleCloudStaticStorage, location="static")
