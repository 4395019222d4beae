"""Options: names, settings and defaults of the original; misconfiguration refused before any
request; no secret in repr, errors or migrations."""

from __future__ import annotations

import datetime
import pickle
import warnings
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured, SuspiciousFileOperation
from django.test import override_settings

from storages.backends.gcloud import GoogleCloudFile, GoogleCloudStorage

ORIGINAL_SETTINGS = {
    "project_id": ("GS_PROJECT_ID", None),
    "credentials": ("GS_CREDENTIALS", None),
    "bucket_name": ("GS_BUCKET_NAME", None),
    "custom_endpoint": ("GS_CUSTOM_ENDPOINT", None),
    "location": ("GS_LOCATION", ""),
    "default_acl": ("GS_DEFAULT_ACL", None),
    "querystring_auth": ("GS_QUERYSTRING_AUTH", True),
    "expiration": ("GS_EXPIRATION", datetime.timedelta(seconds=86400)),
    "gzip": ("GS_IS_GZIPPED", False),
    "gzip_content_types": (
        "GZIP_CONTENT_TYPES",
        (
            "text/css",
            "text/javascript",
            "application/javascript",
            "application/x-javascript",
            "image/svg+xml",
        ),
    ),
    "file_overwrite": ("GS_FILE_OVERWRITE", True),
    "object_parameters": ("GS_OBJECT_PARAMETERS", {}),
    "max_memory_size": ("GS_MAX_MEMORY_SIZE", 0),
    "blob_chunk_size": ("GS_BLOB_CHUNK_SIZE", None),
    "iam_sign_blob": ("GS_IAM_SIGN_BLOB", False),
    "sa_email": ("GS_SA_EMAIL", None),
}


@pytest.mark.parametrize("option", sorted(ORIGINAL_SETTINGS))
def test_the_originals_settings_and_defaults(option: str) -> None:
    setting, default = ORIGINAL_SETTINGS[option]
    declared = GoogleCloudStorage.options[option]
    assert declared.settings[0] == setting
    assert declared.make_default() == default


def test_timeout_and_retry_options() -> None:
    assert GoogleCloudStorage.options["timeout"].settings == ("GS_TIMEOUT",)
    assert GoogleCloudStorage.options["retry"].settings == ("GS_RETRY",)


def test_settings_are_read() -> None:
    with override_settings(GS_BUCKET_NAME="from-settings", GS_LOCATION="media", GS_FILE_OVERWRITE=False):
        storage = GoogleCloudStorage()
    assert (storage.bucket_name, storage.location, storage.file_overwrite) == (
        "from-settings",
        "media",
        False,
    )


def test_public_class_paths() -> None:
    assert GoogleCloudStorage.__module__ == "storages.backends.gcloud"
    assert GoogleCloudFile.__module__ == "storages.backends.gcloud"
    path, _, _ = GoogleCloudStorage(bucket_name="b").deconstruct()
    assert path == "storages.backends.gcloud.GoogleCloudStorage"


def test_entry_point_names_the_class_without_importing_the_sdk() -> None:
    from importlib.metadata import entry_points

    (point,) = [e for e in entry_points(group="django_storages.backends") if e.name == "gcs"]
    assert point.value == "storages.backends.gcloud:GoogleCloudStorage"


def test_missing_bucket_is_reported_before_any_request() -> None:
    storage = GoogleCloudStorage()
    with pytest.raises(ImproperlyConfigured, match="GS_BUCKET_NAME"):
        storage.exists("a.txt")
    assert storage._client is None


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"blob_chunk_size": 1000}, "multiple of 256 KiB"),
        ({"object_parameters": {"cache_contol": "x"}}, "cache_contol"),
        ({"object_parameters": {"name": "x"}}, "'name' is set from the file name"),
        ({"custom_endpoint": "cdn.example.com"}, "https://cdn.example.com"),
        ({"location": "/media"}, "location"),
        ({"expiration": "1 day"}, "GS_EXPIRATION"),
    ],
)
def test_bad_options_are_refused_at_construction(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=message):
        GoogleCloudStorage(bucket_name="b", **options)


def test_misspelt_option_names_the_closest() -> None:
    with pytest.raises(ImproperlyConfigured, match="bucket_name"):
        GoogleCloudStorage(buckett_name="b")


def test_max_memory_size_warns_that_it_has_no_effect() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        GoogleCloudStorage(bucket_name="b", max_memory_size=1024)
    assert any("GS_MAX_MEMORY_SIZE" in str(w.message) for w in caught)


def test_emulator_host_without_scheme() -> None:
    storage = GoogleCloudStorage(bucket_name="b", api_endpoint="127.0.0.1:9023")
    assert storage.api_base == "http://127.0.0.1:9023"


def test_credentials_never_in_repr_or_deconstruct(service_account_credentials: Any) -> None:
    storage = GoogleCloudStorage(bucket_name="b", credentials=service_account_credentials)
    assert "BEGIN" not in repr(storage) and "***" in repr(storage)
    _, _, kwargs = storage.deconstruct()
    assert "credentials" not in kwargs


def test_key_limit_is_refused_before_sending(make_storage: Callable[..., Any], count_requests: Any) -> None:
    storage = make_storage()
    log = count_requests(storage)
    with pytest.raises(SuspiciousFileOperation):
        storage.exists("é" * 600)
    assert len(log) == 0


def test_pickle_with_service_account_credentials_keeps_signing(service_account_credentials: Any) -> None:
    storage = GoogleCloudStorage(
        bucket_name="b", credentials=service_account_credentials, api_endpoint="http://h:1"
    )
    first = storage.url("a.txt")
    clone = pickle.loads(pickle.dumps(storage))
    assert clone.url("a.txt").split("X-Goog-Date")[0] == first.split("X-Goog-Date")[0]


def test_importing_creates_no_client() -> None:
    storage = GoogleCloudStorage(bucket_name="b", querystring_auth=False)
    storage.url("x")
    assert storage._client is None
