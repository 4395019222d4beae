"""System checks on settings.STORAGES: ids, messages, hints, and no secret in any of them."""

from __future__ import annotations

from collections.abc import Iterator
from importlib import metadata
from typing import Any

import pytest
from django.core.checks import CheckMessage
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

from storages import checks, registry
from storages.base import BaseStorage
from storages.options import Option

SECRET = "s3cr3t-api-key-value"


class DemoStorage(BaseStorage):
    """A storage with a required option, a secret and a check of combinations."""

    options = BaseStorage.options.extend(
        Option("bucket_name", setting="DEMO_BUCKET_NAME", required=True, doc="The bucket."),
        Option("api_key", setting="DEMO_API_KEY", env="DEMO_API_KEY", secret=True),
        Option("profile", setting="DEMO_PROFILE"),
        Option("region_name", default="eu-west-1"),
    )

    def validate_options(self) -> None:
        if self.api_key and self.profile:  # type: ignore[attr-defined]
            # Deliberately careless: the checks must scrub what a provider lets slip.
            raise ImproperlyConfigured(
                f"Give api_key ({self.api_key}) or profile, not both."  # type: ignore[attr-defined]
            )


class BrokenStorage(BaseStorage):
    options = BaseStorage.options.extend(Option("token", secret=True))

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        raise RuntimeError(f"cannot start with {self.token}")  # type: ignore[attr-defined]


DEMO = f"{__name__}.DemoStorage"


def run(storages: dict[str, Any], **more_settings: Any) -> list[CheckMessage]:
    with override_settings(STORAGES=storages, **more_settings):
        return [
            *checks.check_storages(None),
            *checks.check_legacy_storage_settings(None),
            *checks.check_registry(None),
        ]


def ids(messages: list[CheckMessage]) -> list[str]:
    return [m.id or "" for m in messages]


def text(messages: list[CheckMessage]) -> str:
    return "\n".join(f"{m.msg}\n{m.hint}" for m in messages)


class FakeDist:
    def __init__(self, name: str, version: str = "1.0") -> None:
        self.metadata = {"Name": name}
        self.version = version


@pytest.fixture
def entry_points(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    points: list[Any] = []
    monkeypatch.setattr(registry, "_entry_points", lambda: points)
    registry.clear_cache()
    yield points
    registry.clear_cache()


def entry_point(alias: str, value: str, dist: str) -> Any:
    point = metadata.EntryPoint(alias, value, registry.ENTRY_POINT_GROUP)
    return point._for(FakeDist(dist))  # type: ignore[attr-defined]


def test_a_valid_configuration_gives_no_message() -> None:
    assert run({"default": {"BACKEND": DEMO, "OPTIONS": {"bucket_name": "media"}}}) == []


def test_misspelt_option_is_E001_naming_alias_class_key_and_closest_option() -> None:
    messages = run({"default": {"BACKEND": DEMO, "OPTIONS": {"bukcet_name": "media"}}})
    assert ids(messages) == ["storages.E001"]
    assert messages[0].msg == (
        "STORAGES['default']['OPTIONS'] has 'bukcet_name', which DemoStorage does not accept. "
        "Did you mean 'bucket_name'?"
    )
    assert "Valid options of" in (messages[0].hint or "")
    assert "region_name" in (messages[0].hint or "")


def test_each_unknown_option_is_reported() -> None:
    options = {"bucket_name": "b", "regoin_name": "x", "colour": "blue"}
    messages = run({"media": {"BACKEND": DEMO, "OPTIONS": options}})
    assert ids(messages) == ["storages.E001", "storages.E001"]
    assert "Did you mean 'region_name'?" in messages[0].msg
    assert "'colour'" in messages[1].msg and "Did you mean" not in messages[1].msg


def test_missing_required_option_is_E002_saying_where_to_set_it() -> None:
    messages = run({"default": {"BACKEND": DEMO}})
    assert ids(messages) == ["storages.E002"]
    assert messages[0].msg == (
        "STORAGES['default'] uses DemoStorage, which needs the option 'bucket_name', but it is not set."
    )
    assert "STORAGES['default']['OPTIONS']['bucket_name']" in (messages[0].hint or "")
    assert "settings.DEMO_BUCKET_NAME" in (messages[0].hint or "")


def test_required_option_from_a_django_setting_is_enough() -> None:
    assert run({"default": {"BACKEND": DEMO}}, DEMO_BUCKET_NAME="media") == []


def test_misspelt_required_option_is_reported_once() -> None:
    messages = run({"default": {"BACKEND": DEMO, "OPTIONS": {"bucket": "media"}}})
    assert ids(messages) == ["storages.E001"]


def test_alias_not_installed_is_E003_with_the_pip_install_line(entry_points: list[Any]) -> None:
    messages = run({"default": {"BACKEND": "storages.aliases.s3"}})
    assert ids(messages) == ["storages.E003"]
    assert "STORAGES['default']['BACKEND']" in messages[0].msg
    assert "pip install django-storages-s3" in text(messages)


def test_installed_alias_resolves_through_the_registry(entry_points: list[Any]) -> None:
    entry_points.append(entry_point("demo", f"{__name__}:DemoStorage", "django-storages-demo"))
    messages = run({"default": {"BACKEND": "storages.aliases.demo", "OPTIONS": {"bukcet_name": 1}}})
    assert ids(messages) == ["storages.E001"]


def test_first_party_module_not_installed_names_its_distribution(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(registry.FIRST_PARTY_MODULES, "storages.backends.nowhere", "django-storages-nowhere")
    messages = run({"default": {"BACKEND": "storages.backends.nowhere.NowhereStorage"}})
    assert ids(messages) == ["storages.E003"]
    assert "pip install django-storages-nowhere" in (messages[0].hint or "")


def test_unimportable_backend_is_E003() -> None:
    messages = run({"default": {"BACKEND": f"{__name__}.NoSuchStorage"}})
    assert ids(messages) == ["storages.E003"]
    assert "NoSuchStorage" in messages[0].msg


def test_conflicting_options_are_E004_without_the_secret() -> None:
    options = {"bucket_name": "b", "api_key": SECRET, "profile": "dev"}
    messages = run({"default": {"BACKEND": DEMO, "OPTIONS": options}})
    assert ids(messages) == ["storages.E004"]
    assert "not both" in messages[0].msg
    assert SECRET not in text(messages)
    assert "***" in messages[0].msg


def test_secret_from_a_setting_is_scrubbed_too() -> None:
    messages = run(
        {"default": {"BACKEND": DEMO, "OPTIONS": {"bucket_name": "b", "profile": "dev"}}},
        DEMO_API_KEY=SECRET,
    )
    assert ids(messages) == ["storages.E004"]
    assert SECRET not in text(messages)


class SelfCheckingStorage(DemoStorage):
    def check_configuration(self, where: str) -> list[Any]:
        from django.core.checks import Error

        return [Error(f"{where} is checked by its backend", id="demo.E001")]


def test_a_backend_adds_its_own_configuration_messages() -> None:
    backend = f"{__name__}.SelfCheckingStorage"
    messages = run({"media": {"BACKEND": backend, "OPTIONS": {"bucket_name": "b"}}})
    assert ids(messages) == ["demo.E001"]
    assert "STORAGES['media']" in messages[0].msg


def test_unexpected_construction_error_is_E004_with_its_type() -> None:
    messages = run({"default": {"BACKEND": f"{__name__}.BrokenStorage", "OPTIONS": {"token": SECRET}}})
    assert ids(messages) == ["storages.E004"]
    assert "RuntimeError" in messages[0].msg
    assert SECRET not in text(messages)


def test_secrets_never_appear_in_any_message() -> None:
    options = {"api_kye": SECRET, "api_key": SECRET, "bukcet_name": "b", "profile": "p"}
    messages = run({"default": {"BACKEND": DEMO, "OPTIONS": options}})
    assert "storages.E001" in ids(messages)
    assert SECRET not in text(messages)


def test_backends_that_are_not_base_storage_are_only_import_checked() -> None:
    storages = {
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"anything": "goes"},
        },
        "broken": {"BACKEND": "django.core.files.storage.NoSuchStorage"},
    }
    messages = run(storages)
    assert ids(messages) == ["storages.E003"]
    assert "STORAGES['broken']" in messages[0].msg


def test_original_django_storages_installed_is_W001(monkeypatch: pytest.MonkeyPatch) -> None:
    class Original:
        version = "1.14.6"

    def distribution(name: str) -> Any:
        if name == "django-storages":
            return Original()
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "distribution", distribution)
    [message] = checks.check_original_distribution(None)
    assert message.id == "storages.W001"
    assert "1.14.6" in message.msg
    assert "pip uninstall django-storages" in (message.hint or "")


def test_no_W001_without_the_original(monkeypatch: pytest.MonkeyPatch) -> None:
    def distribution(name: str) -> Any:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "distribution", distribution)
    assert checks.check_original_distribution(None) == []


def test_legacy_storage_settings_are_W002_with_the_storages_equivalent() -> None:
    messages = run(
        {
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
        DEFAULT_FILE_STORAGE=DEMO,
    )
    assert ids(messages) == ["storages.W002"]
    assert "settings.DEFAULT_FILE_STORAGE" in messages[0].msg
    assert "ignores it" in messages[0].msg
    assert messages[0].hint is not None
    assert f'"default": {{"BACKEND": "{DEMO}"}},' in messages[0].hint
    assert (
        '"staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},'
        in messages[0].hint
    )


def test_both_legacy_settings_give_one_warning_each() -> None:
    messages = run(
        {"default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}},
        DEFAULT_FILE_STORAGE="django.core.files.storage.FileSystemStorage",
        STATICFILES_STORAGE="django.contrib.staticfiles.storage.ManifestStaticFilesStorage",
    )
    assert ids(messages) == ["storages.W002", "storages.W002"]
    assert "ManifestStaticFilesStorage" in (messages[0].hint or "")


def test_duplicate_alias_is_W003_naming_both_distributions(entry_points: list[Any]) -> None:
    entry_points.append(entry_point("demo", "a:Demo", "django-storages-demo"))
    entry_points.append(entry_point("demo", "b:Demo", "other-demo-storage"))
    messages = checks.check_registry(None)
    assert ids(messages) == ["storages.W003"]
    assert "django-storages-demo" in messages[0].msg
    assert "other-demo-storage" in messages[0].msg


def test_manage_py_check_prints_the_id_and_the_closest_option() -> None:
    storages = {"default": {"BACKEND": DEMO, "OPTIONS": {"bukcet_name": "m", "api_key": SECRET}}}
    with override_settings(STORAGES=storages), pytest.raises(SystemCheckError) as caught:
        call_command("check", tags=["storages"])
    output = str(caught.value)
    assert "storages.E001" in output
    assert "Did you mean 'bucket_name'?" in output
    assert SECRET not in output


def test_legacy_setting_already_matching_storages_only_asks_to_remove_it() -> None:
    messages = run({"default": {"BACKEND": DEMO, "OPTIONS": {"bucket_name": "b"}}}, DEFAULT_FILE_STORAGE=DEMO)
    assert ids(messages) == ["storages.W002"]
    assert messages[0].hint == "STORAGES already does what it asks for: remove DEFAULT_FILE_STORAGE."
