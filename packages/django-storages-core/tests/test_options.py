"""Settings resolution, validation and redaction driven by one option declaration."""

from __future__ import annotations

import pickle
import warnings

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from memory_provider import MemoryStorage

from storages.base import BaseStorage
from storages.exceptions import MissingOptionError, StorageConfigurationError, UnknownOptionError
from storages.options import Option, OptionSet, settings_table_rst


def test_default_applies_when_nothing_else_is_set() -> None:
    storage = MemoryStorage()
    assert storage.location == ""
    assert storage.option_sources()["location"] == ("", "default")


def test_environment_beats_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEMORY_BUCKET", "from-env")
    storage = MemoryStorage()
    assert storage.bucket_name == "from-env"
    assert storage.option_sources()["bucket_name"][1] == "environment MEMORY_BUCKET"


def test_empty_environment_variable_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEMORY_BUCKET", "")
    assert MemoryStorage().bucket_name is None


def test_django_setting_beats_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEMORY_BUCKET", "from-env")
    with override_settings(MEMORY_BUCKET="from-settings"):
        storage = MemoryStorage()
    assert storage.bucket_name == "from-settings"
    assert storage.option_sources()["bucket_name"][1] == "setting MEMORY_BUCKET"


def test_subclass_attribute_beats_django_setting() -> None:
    class MediaStorage(MemoryStorage):
        bucket_name = "from-class"

    with override_settings(MEMORY_BUCKET="from-settings"):
        storage = MediaStorage()
    assert storage.bucket_name == "from-class"
    assert storage.option_sources()["bucket_name"][1] == "class attribute MediaStorage.bucket_name"


def test_options_beat_subclass_attribute() -> None:
    class MediaStorage(MemoryStorage):
        bucket_name = "from-class"

    storage = MediaStorage(bucket_name="from-options")
    assert storage.bucket_name == "from-options"
    assert MediaStorage.bucket_name == "from-class"
    assert storage.option_sources()["bucket_name"][1] == "OPTIONS"


def test_mutable_defaults_are_not_shared() -> None:
    class Dicty(BaseStorage):
        options = OptionSet(Option("params", default_factory=dict))

    first, second = Dicty(), Dicty()
    first.params["x"] = 1  # type: ignore[attr-defined]
    assert second.params == {}  # type: ignore[attr-defined]


def test_unknown_option_names_backend_key_and_closest_option() -> None:
    with pytest.raises(UnknownOptionError) as caught:
        MemoryStorage(bucketname="x")
    message = str(caught.value)
    assert "MemoryStorage" in message
    assert "'bucketname'" in message
    assert "Did you mean 'bucket_name'?" in message
    assert isinstance(caught.value, ImproperlyConfigured)


def test_unknown_option_without_close_match_lists_valid_options() -> None:
    with pytest.raises(UnknownOptionError) as caught:
        MemoryStorage(zzz=1)
    assert "Did you mean" not in str(caught.value)
    assert "bucket_name" in str(caught.value)


def test_missing_required_option_is_reported_without_network() -> None:
    storage = MemoryStorage()  # construction never fails for a missing value ...
    with pytest.raises(MissingOptionError) as caught:
        storage.check_required()  # ... providers call this before their first request
    message = str(caught.value)
    assert "bucket_name" in message and "MEMORY_BUCKET" in message


def test_choices_are_validated_without_echoing_secrets() -> None:
    class Choosy(BaseStorage):
        options = OptionSet(
            Option("policy", default="reject", choices=("reject", "warn")),
            Option("token", secret=True, choices=(None, "a")),
        )

    with pytest.raises(StorageConfigurationError, match="'policy' is 'accept'"):
        Choosy(policy="accept")
    with pytest.raises(StorageConfigurationError) as caught:
        Choosy(token="hunter2")
    assert "hunter2" not in str(caught.value)


def test_deprecated_option_warns_only_when_set() -> None:
    class Old(BaseStorage):
        options = OptionSet(Option("charset", default="utf-8", deprecated="it has no effect; remove it."))

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Old()
    with pytest.warns(DeprecationWarning, match="has no effect"):
        Old(charset="latin-1")


def test_falsy_is_default_reproduces_or_default_settings() -> None:
    class Proto(BaseStorage):
        options = OptionSet(Option("url_protocol", default="https:", setting="PROTO", falsy_is_default=True))

    with override_settings(PROTO=None):
        assert Proto().url_protocol == "https:"  # type: ignore[attr-defined]


def test_repr_redacts_secrets() -> None:
    storage = MemoryStorage(bucket_name="media", api_key="hunter2")
    assert "hunter2" not in repr(storage)
    assert "api_key='***'" in repr(storage)
    assert "bucket_name='media'" in repr(storage)


def test_option_sources_redact_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEMORY_API_KEY", "hunter2")
    assert MemoryStorage().option_sources()["api_key"] == ("***", "environment MEMORY_API_KEY")


def test_deconstruct_leaves_secret_options_out() -> None:
    storage = MemoryStorage(bucket_name="media", api_key="hunter2")
    path, args, kwargs = storage.deconstruct()
    assert path == "memory_provider.MemoryStorage"
    assert kwargs == {"bucket_name": "media"}
    assert "hunter2" not in repr((path, args, kwargs))


def test_pickling_recreates_transient_state() -> None:
    storage = MemoryStorage(bucket_name="media", api_key="k")
    clone = pickle.loads(pickle.dumps(storage))
    assert clone.bucket_name == "media"
    assert clone.lock is not storage.lock


def test_option_set_refuses_duplicates() -> None:
    with pytest.raises(ValueError, match="declared twice"):
        OptionSet(Option("a"), Option("a"))


def test_extend_replaces_and_removes() -> None:
    base = OptionSet(Option("a", default=1), Option("b"))
    extended = base.extend(Option("a", default=2), Option("c"), remove=["b"])
    assert extended.names == ["a", "c"]
    assert extended["a"].default == 2


def test_settings_table_is_generated_from_the_declaration() -> None:
    table = settings_table_rst(MemoryStorage.options)
    assert "``bucket_name``" in table and "``MEMORY_BUCKET``" in table
    assert "env ``MEMORY_API_KEY``" in table
    assert "**Required.**" in table and "Secret" in table
