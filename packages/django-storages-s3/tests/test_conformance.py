"""The core conformance kit against moto's S3 server, with no test overridden."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from storages.testing import StorageConformanceTests


class S3Kit(StorageConformanceTests):
    """The kit's provider hooks through the raw boto3 client: changes behind the storage's back."""

    overwrites = True  # AWS_S3_FILE_OVERWRITE defaults to True, as in django-storages
    listdir_entries = 1001
    public_class_path = "storages.backends.s3.S3Storage"

    def raw_write(self, storage: Any, name: str, data: bytes) -> None:
        storage.client.put_object(Bucket=storage.bucket_name, Key=storage._normalize_name(name), Body=data)

    def raw_delete(self, storage: Any, name: str) -> None:
        storage.client.delete_object(Bucket=storage.bucket_name, Key=storage._normalize_name(name))

    def pending_uploads(self, storage: Any, name: str) -> list[str]:
        response = storage.client.list_multipart_uploads(Bucket=storage.bucket_name)
        return [upload["Key"] for upload in response.get("Uploads", [])]


class TestS3Conformance(S3Kit):
    @pytest.fixture
    def storage(self, make_storage: Callable[..., Any]) -> Any:
        return make_storage()


class TestS3ConformanceWithLocation(S3Kit):
    @pytest.fixture
    def storage(self, make_storage: Callable[..., Any]) -> Any:
        # Unsigned URLs: the objects are made public-read so that moto serves them.
        return make_storage(location="media/uploads", querystring_auth=False, default_acl="public-read")


class TestS3ConformanceWithoutOverwrite(S3Kit):
    overwrites = False
    listdir_entries = 10

    @pytest.fixture
    def storage(self, make_storage: Callable[..., Any]) -> Any:
        return make_storage(file_overwrite=False)
