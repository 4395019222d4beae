"""Configuration: LIBCLOUD_PROVIDERS entries, provider_name, errors, and the entry's secret key."""

from __future__ import annotations

import io
import pickle
import warnings
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db.migrations.writer import MigrationWriter
from django.test import override_settings
from libcloud.storage.types import Provider

from storages.backends.apache_libcloud import LibCloudStorage
from storages.exceptions import MissingOptionError, StorageConfigurationError

SECRET = "entry-secret-0123456789"


def entry(tmp_path: Path, **overrides: Any) -> dict[str, Any]:
    (tmp_path / "bucket").mkdir(exist_ok=True)
    values: dict[str, Any] = {
        "type": "libcloud.storage.types.Provider.LOCAL",
        "user": str(tmp_path),
        "bucket": "bucket",
    }
    values.update(overrides)
    return {key: value for key, value in values.items() if value is not None}


def s3_entry(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "type": "libcloud.storage.types.Provider.S3",
        "user": "AKIDEXAMPLE",
        "key": SECRET,
        "bucket": "media",
    }
    values.update(overrides)
    return {key: value for key, value in values.items() if value is not None}


# -- choosing the entry -----------------------------------------------------------------------


def test_default_entry_is_named_default(tmp_path: Path) -> None:
    with override_settings(LIBCLOUD_PROVIDERS={"default": entry(tmp_path)}):
        storage = LibCloudStorage()
    assert storage.provider_name == "default"
    assert storage.bucket == "bucket"
    assert storage.is_local


def test_default_libcloud_provider_setting_picks_the_entry(tmp_path: Path) -> None:
    providers = {"one": s3_entry(bucket="first"), "two": entry(tmp_path)}
    with override_settings(LIBCLOUD_PROVIDERS=providers, DEFAULT_LIBCLOUD_PROVIDER="two"):
        assert LibCloudStorage().bucket == "bucket"
        assert LibCloudStorage("one").bucket == "first"  # the positional provider_name wins
        assert LibCloudStorage(provider_name="one").bucket == "first"


def test_type_as_provider_constant_or_dotted_path(tmp_path: Path) -> None:
    for value in (Provider.LOCAL, "libcloud.storage.types.Provider.LOCAL"):
        storage = LibCloudStorage(providers={"default": entry(tmp_path, type=value)})
        assert storage._entry.provider == Provider.LOCAL


def test_extra_entry_keys_are_driver_keywords() -> None:
    storage = LibCloudStorage(
        providers={"default": s3_entry(host="127.0.0.1", port=9000, secure=False, region="eu-west-1")}
    )
    driver = storage.driver
    assert (driver.connection.host, driver.connection.port, driver.secure) == ("127.0.0.1", 9000, False)
    assert driver.region_name == "eu-west-1"


def test_the_driver_is_created_lazily_and_per_thread() -> None:
    storage = LibCloudStorage(providers={"default": s3_entry()})
    assert getattr(storage._drivers, "driver", None) is None
    driver = storage.driver
    assert storage.driver is driver
    import threading

    seen: list[Any] = []
    thread = threading.Thread(target=lambda: seen.append(storage.driver))
    thread.start()
    thread.join()
    assert seen[0] is not driver


def test_pickle_drops_the_driver() -> None:
    storage = LibCloudStorage(providers={"default": s3_entry()})
    storage.driver  # noqa: B018 - create it
    state = storage.__getstate__()
    assert "_drivers" not in state
    clone = pickle.loads(pickle.dumps(storage))
    assert clone.driver is not storage.driver


def test_option_argument_is_ignored_with_a_warning(tmp_path: Path) -> None:
    with override_settings(LIBCLOUD_PROVIDERS={"default": entry(tmp_path)}):
        with pytest.warns(DeprecationWarning, match="'option' was never used"):
            LibCloudStorage(None, {"anything": 1})
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            LibCloudStorage()


def test_timeout_reaches_the_driver() -> None:
    storage = LibCloudStorage(providers={"default": s3_entry()}, timeout=7)
    assert storage.driver.connection.timeout == 7
    storage = LibCloudStorage(providers={"default": s3_entry(timeout=3)}, timeout=7)
    assert storage.driver.connection.timeout == 3  # the entry's own keyword wins


def test_a_driver_without_a_timeout_keyword_still_builds() -> None:
    # libcloud's MinIO driver takes no **kwargs: passing a timeout would be a TypeError.
    storage = LibCloudStorage(providers={"default": s3_entry(type=Provider.MINIO, host="127.0.0.1")})
    assert storage.driver.connection.host == "127.0.0.1"


# -- errors, before any request -----------------------------------------------------------------


def test_missing_libcloud_providers_names_the_setting() -> None:
    with pytest.raises(MissingOptionError, match="LIBCLOUD_PROVIDERS"):
        LibCloudStorage()


def test_unknown_entry_names_it_and_the_defined_ones(tmp_path: Path) -> None:
    providers = {"default": entry(tmp_path), "backup": s3_entry()}
    with override_settings(LIBCLOUD_PROVIDERS=providers), pytest.raises(ImproperlyConfigured) as caught:
        LibCloudStorage("amazon")
    message = str(caught.value)
    assert "LIBCLOUD_PROVIDERS has no entry 'amazon'" in message
    assert "'default'" in message and "'backup'" in message


@pytest.mark.parametrize("missing", ["type", "user", "key", "bucket"])
def test_missing_entry_key_names_entry_and_key(missing: str) -> None:
    with pytest.raises(StorageConfigurationError) as caught:
        LibCloudStorage("amazon", providers={"amazon": s3_entry(**{missing: None})})
    assert f"LIBCLOUD_PROVIDERS['amazon'] has no '{missing}'" in str(caught.value)
    assert SECRET not in str(caught.value)


def test_local_entry_needs_no_key(tmp_path: Path) -> None:
    assert LibCloudStorage(providers={"default": entry(tmp_path)}).is_local


def test_entry_that_is_not_a_dict() -> None:
    with pytest.raises(StorageConfigurationError, match=r"LIBCLOUD_PROVIDERS\['default'\] must be a dict"):
        LibCloudStorage(providers={"default": "s3"})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            "libcloud.storage.types.Provider.AZURE_BLOB",
            "Did you mean libcloud.storage.types.Provider.AZURE_BLOBS",
        ),
        ("libcloud.storage.types.Provider.S3_US_STANDARD_HOST", "Provider.S3 with the entry key 'region'"),
        ("libcloud.storage.Provider.S3", "must start with 'libcloud.storage.types.Provider.'"),
        ("amazon", "use a libcloud.storage.types.Provider constant"),
    ],
)
def test_bad_type_is_explained(value: str, expected: str) -> None:
    with pytest.raises(StorageConfigurationError) as caught:
        LibCloudStorage(providers={"default": s3_entry(type=value)})
    assert "LIBCLOUD_PROVIDERS['default']['type']" in str(caught.value)
    assert expected in str(caught.value)


def test_driver_construction_error_is_improperly_configured_without_the_key(tmp_path: Path) -> None:
    storage = LibCloudStorage(
        providers={"default": entry(tmp_path, user=str(tmp_path / "nowhere"), key=SECRET)}
    )
    with pytest.raises(StorageConfigurationError) as caught:
        storage.exists("x")
    message = str(caught.value)
    assert "Unable to create the libcloud driver for LIBCLOUD_PROVIDERS['default']" in message
    assert "base path is not a directory" in message
    assert SECRET not in message


def test_leading_slash_location_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ImproperlyConfigured, match="leading slash"):
        LibCloudStorage(providers={"default": entry(tmp_path)}, location="/media")


def test_unknown_option_is_refused_with_the_closest_name(tmp_path: Path) -> None:
    with pytest.raises(ImproperlyConfigured, match="Did you mean 'provider_name'"):
        LibCloudStorage(providers={"default": entry(tmp_path)}, provider_nam="default")


# -- the entry's key is a secret everywhere -----------------------------------------------------


def test_key_is_not_in_repr_or_option_sources() -> None:
    storage = LibCloudStorage(providers={"default": s3_entry(token="session-token-abcdef")})
    shown = repr(storage)
    assert SECRET not in shown and "session-token-abcdef" not in shown
    assert "AKIDEXAMPLE" in shown  # the access key id is not a secret
    sources = repr(storage.option_sources())
    assert SECRET not in sources and "session-token-abcdef" not in sources


def test_key_is_not_in_the_management_command() -> None:
    storages = {"default": {"BACKEND": "storages.backends.apache_libcloud.LibCloudStorage", "OPTIONS": {}}}
    with override_settings(LIBCLOUD_PROVIDERS={"default": s3_entry()}, STORAGES=storages):
        out = io.StringIO()
        call_command("storages", "show", "default", stdout=out)
    assert "LIBCLOUD_PROVIDERS" in out.getvalue()
    assert SECRET not in out.getvalue()


def test_key_is_not_in_a_migration_and_the_rebuilt_storage_has_it() -> None:
    from django.core.files.storage import storages as configured
    from django.utils.module_loading import import_string

    providers = {"amazon": s3_entry()}
    storages = {
        "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
        "media": {
            "BACKEND": "storages.backends.apache_libcloud.LibCloudStorage",
            "OPTIONS": {"provider_name": "amazon", "providers": providers},
        },
    }
    with override_settings(STORAGES=storages):
        storage = configured["media"]
        serialized, _ = MigrationWriter.serialize(storage)
        assert SECRET not in serialized
        path, args, kwargs = storage.deconstruct()
        assert path == "storages.backends.apache_libcloud.LibCloudStorage"
        rebuilt = import_string(path)(*args, **kwargs)
        assert rebuilt._entry.key == SECRET


def test_storage_from_settings_deconstructs_to_its_provider_name_only() -> None:
    with override_settings(LIBCLOUD_PROVIDERS={"amazon": s3_entry()}):
        storage = LibCloudStorage("amazon")
        assert storage.deconstruct() == ("storages.backends.apache_libcloud.LibCloudStorage", ("amazon",), {})
        assert SECRET not in MigrationWriter.serialize(storage)[0]
