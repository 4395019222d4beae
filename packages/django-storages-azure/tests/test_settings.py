"""Options: the original's 20 settings and defaults, precedence, validation before any request,
secrets kept out of repr, errors and migrations, pickling."""

from __future__ import annotations

import copy
import pickle
import warnings
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.db.migrations.writer import MigrationWriter
from django.test import override_settings

from shared.testservers.azurite import AzuriteServer
from storages.backends.azure_storage import AzureStorage
from storages.exceptions import MissingOptionError, StorageConfigurationError

ORIGINAL_SETTINGS: dict[str, tuple[str | None, Any]] = {
    "account_name": ("AZURE_ACCOUNT_NAME", None),
    "account_key": ("AZURE_ACCOUNT_KEY", None),
    "object_parameters": ("AZURE_OBJECT_PARAMETERS", {}),
    "azure_container": ("AZURE_CONTAINER", None),
    "azure_ssl": ("AZURE_SSL", True),
    "upload_max_conn": ("AZURE_UPLOAD_MAX_CONN", 2),
    "timeout": ("AZURE_CONNECTION_TIMEOUT_SECS", 20),
    "max_memory_size": ("AZURE_BLOB_MAX_MEMORY_SIZE", 2 * 1024 * 1024),
    "expiration_secs": ("AZURE_URL_EXPIRATION_SECS", None),
    "overwrite_files": ("AZURE_OVERWRITE_FILES", False),
    "location": ("AZURE_LOCATION", ""),
    "default_content_type": (None, "application/octet-stream"),
    "cache_control": ("AZURE_CACHE_CONTROL", None),
    "sas_token": ("AZURE_SAS_TOKEN", None),
    "endpoint_suffix": ("AZURE_ENDPOINT_SUFFIX", "core.windows.net"),
    "custom_domain": ("AZURE_CUSTOM_DOMAIN", None),
    "connection_string": ("AZURE_CONNECTION_STRING", None),
    "token_credential": ("AZURE_TOKEN_CREDENTIAL", None),
    "api_version": ("AZURE_API_VERSION", None),
    "client_options": ("AZURE_CLIENT_OPTIONS", {}),
}
SECRETS = {"account_key", "sas_token", "connection_string", "token_credential"}


def test_the_originals_twenty_options_with_settings_and_defaults() -> None:
    options = {option.name: option for option in AzureStorage.options}
    assert set(options) == set(ORIGINAL_SETTINGS)
    for name, (setting, default) in ORIGINAL_SETTINGS.items():
        assert options[name].settings == ((setting,) if setting else ()), name
        assert options[name].make_default() == default, name
    assert {name for name, option in options.items() if option.secret} == SECRETS


def test_settings_are_read_and_kwargs_win() -> None:
    with override_settings(
        AZURE_CONTAINER="from-settings", AZURE_LOCATION="media", AZURE_URL_EXPIRATION_SECS=60
    ):
        storage = AzureStorage(account_name="a")
        assert (storage.azure_container, storage.location, storage.expiration_secs) == (
            "from-settings",
            "media",
            60,
        )
        assert AzureStorage(account_name="a", azure_container="kw").azure_container == "kw"


def test_subclass_attributes_as_in_the_docs() -> None:
    class PublicAzureStorage(AzureStorage):
        account_name = "myaccount"
        account_key = "bXlrZXk="
        azure_container = "mypublic_container"
        expiration_secs = None

    storage = PublicAzureStorage()
    assert storage.url("a.txt") == "https://myaccount.blob.core.windows.net/mypublic_container/a.txt"


def test_connection_string_fills_name_and_key_independently() -> None:
    storage = AzureStorage(
        connection_string="AccountName=fromcs;AccountKey=a2V5;EndpointSuffix=core.windows.net",
        account_name="explicit",
        azure_container="c",
    )
    assert (storage.account_name, storage.account_key) == ("explicit", "a2V5")


def test_missing_container_is_reported_before_any_request(logged_storage: Callable[..., Any]) -> None:
    storage = AzureStorage(account_name="a")
    with pytest.raises(MissingOptionError, match="AZURE_CONTAINER"):
        storage.exists("x.txt")
    with pytest.raises(MissingOptionError, match="AZURE_CONTAINER"):
        storage.url("x.txt")


def test_missing_account_is_a_clear_error() -> None:
    storage = AzureStorage(azure_container="c")
    with pytest.raises(StorageConfigurationError, match="AZURE_ACCOUNT_NAME"):
        storage.exists("x.txt")


def test_unknown_option_names_the_closest() -> None:
    with pytest.raises(ImproperlyConfigured, match="azure_container"):
        AzureStorage(azure_containr="c")


def test_bad_values_are_refused_at_construction() -> None:
    with pytest.raises(ImproperlyConfigured, match="leading slash"):
        AzureStorage(azure_container="c", location="/media")
    with pytest.raises(StorageConfigurationError, match="upload_max_conn"):
        AzureStorage(azure_container="c", upload_max_conn=0)
    with pytest.raises(StorageConfigurationError, match="client_options"):
        AzureStorage(azure_container="c", client_options=["retry_total", 1])


def test_malformed_connection_string_does_not_echo_it() -> None:
    with pytest.raises(StorageConfigurationError) as info:
        AzureStorage(connection_string="AccountName=x;SharedSecretWithoutEquals", azure_container="c")
    assert "SharedSecretWithoutEquals" not in str(info.value)


def test_secrets_are_not_in_repr_or_option_sources(azurite: AzuriteServer) -> None:
    storage = AzureStorage(
        connection_string=azurite.connection_string, azure_container="c", sas_token="sv=1&sig=SECRETSIG"
    )
    for text in (repr(storage), str(storage.option_sources())):
        assert azurite.account_key not in text
        assert "SECRETSIG" not in text


def test_migration_has_no_secret_and_rebuild_works(azurite: AzuriteServer, container_name: str) -> None:
    options = {"connection_string": azurite.connection_string, "azure_container": container_name}
    with override_settings(
        STORAGES={"media": {"BACKEND": "storages.backends.azure_storage.AzureStorage", "OPTIONS": options}}
    ):
        from django.core.files.storage import storages

        storage = storages["media"]
        serialized, _ = MigrationWriter.serialize(storage)
        assert azurite.account_key not in serialized
        assert "storages.backends.azure_storage.AzureStorage" in serialized
        path, args, kwargs = storage.deconstruct()  # type: ignore[attr-defined]
        from django.utils.module_loading import import_string

        rebuilt = import_string(path)(*args, **kwargs)
        storage.save("rebuilt.txt", ContentFile(b"x"))
        assert rebuilt.exists("rebuilt.txt")


def test_api_version_is_deprecated_and_used(logged_storage: Callable[..., Any]) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        storage, log = logged_storage(api_version="2021-08-06")
    assert any(
        issubclass(w.category, DeprecationWarning) and "client_options" in str(w.message) for w in caught
    )
    storage.exists("x.txt")
    assert log.requests[0].headers["x-ms-version"] == "2021-08-06"


def test_client_options_are_not_mutated(make_storage: Callable[..., Any]) -> None:
    given = {"retry_total": 1}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        storage = make_storage(client_options=given, api_version="2021-08-06")
    storage.exists("x.txt")
    assert given == {"retry_total": 1}


def test_importing_and_building_make_no_client(azurite: AzuriteServer) -> None:
    storage = AzureStorage(connection_string=azurite.connection_string, azure_container="c")
    assert storage._service_client is None


def test_pickle_and_deepcopy_before_and_after_use(make_storage: Callable[..., Any]) -> None:
    storage = make_storage(overwrite_files=True)
    for clone in (pickle.loads(pickle.dumps(storage)), copy.deepcopy(storage)):
        clone.save("p.txt", ContentFile(b"fresh"))
    storage.save("p.txt", ContentFile(b"used"))
    for clone in (pickle.loads(pickle.dumps(storage)), copy.deepcopy(storage)):
        assert clone._service_client is None
        with clone.open("p.txt") as f:
            assert f.read() == b"used"


def test_discovery_does_not_import_the_sdk_and_the_alias_resolves() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from storages import registry; "
        "b = [b for b in registry.backends() if b.alias == 'azure']; "
        "print(registry.resolve('azure'), 'azure.storage.blob' in sys.modules, len(b))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["storages.backends.azure_storage.AzureStorage", "False", "1"]
