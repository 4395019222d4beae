"""``manage.py storages``: list, show and the check probe, with secrets never printed."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile, File
from django.core.files.storage import FileSystemStorage
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from storages import registry
from storages.base import BaseStorage
from storages.options import Option

SECRET = "s3cr3t-api-key-value"


class DemoStorage(BaseStorage):
    """Construction only: ``show`` and ``check`` read its options, never its files."""

    options = BaseStorage.options.extend(
        Option("bucket_name", setting="DEMO_BUCKET_NAME", required=True, doc="The bucket."),
        Option("api_key", setting="DEMO_API_KEY", env="DEMO_API_KEY", secret=True),
        Option("region_name", default="eu-west-1"),
    )


class ClassAttributeStorage(DemoStorage):
    region_name = "us-east-2"


class ReadOnlyFileSystemStorage(FileSystemStorage):
    """A storage whose writes fail with a message that (carelessly) holds a secret."""

    def __init__(self, password: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.password = password

    def _save(self, name: str, content: Any) -> str:
        raise PermissionError(f"read-only storage (password {self.password})")


class CorruptingFileSystemStorage(FileSystemStorage):
    """Reads back something else than what was saved."""

    def open(self, name: str, mode: str = "rb") -> File[Any]:
        return ContentFile(b"corrupted", name=name)


class NoURLStorage(FileSystemStorage):
    def url(self, name: str | None) -> str:
        raise NotImplementedError("no URLs here")


class BrokenURLStorage(FileSystemStorage):
    def url(self, name: str | None) -> str:
        raise RuntimeError("the URL signer is misconfigured")


class SignedURLStorage(FileSystemStorage):
    def url(self, name: str | None) -> str:
        return f"https://files.example.com/{name}?Signature={SECRET}&Expires=60"


HERE = __name__


def storages_command(*args: str) -> str:
    out = io.StringIO()
    call_command("storages", *args, stdout=out)
    return out.getvalue()


def table(output: str) -> dict[str, list[str]]:
    """The rows of the first table in ``output``, by first cell (cells split on whitespace)."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("---")) + 1
    rows: dict[str, list[str]] = {}
    for line in lines[start:]:
        if not line.strip():
            break
        cells = line.split()
        rows[cells[0]] = cells[1:]
    return rows


def fs(tmp_path: Path, backend: str = "django.core.files.storage.FileSystemStorage") -> Any:
    return {"BACKEND": backend, "OPTIONS": {"location": str(tmp_path), "base_url": "/media/"}}


@pytest.fixture
def entry_points(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    points: list[Any] = []
    monkeypatch.setattr(registry, "_entry_points", lambda: points)
    registry.clear_cache()
    yield points
    registry.clear_cache()


class FakeDist:
    def __init__(self, name: str, version: str) -> None:
        self.metadata = {"Name": name}
        self.version = version


def entry_point(alias: str, value: str, dist: str, version: str = "1.2.3") -> Any:
    point = metadata.EntryPoint(alias, value, registry.ENTRY_POINT_GROUP)
    return point._for(FakeDist(dist, version))  # type: ignore[attr-defined]


# -- list ---------------------------------------------------------------------------------


def test_list_shows_providers_and_the_storages_using_them(entry_points: list[Any]) -> None:
    entry_points.append(entry_point("demo", f"{HERE}:DemoStorage", "django-storages-demo"))
    entry_points.append(entry_point("other", "nowhere:OtherStorage", "django-storages-other"))
    storages = {
        "default": {"BACKEND": "storages.aliases.demo", "OPTIONS": {"bucket_name": "b"}},
        "media": {"BACKEND": f"{HERE}.ClassAttributeStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(STORAGES=storages):
        output = storages_command("list")
    providers = table(output)
    assert providers["demo"] == [f"{HERE}.DemoStorage", "django-storages-demo", "1.2.3", "default,", "media"]
    assert providers["other"] == ["nowhere.OtherStorage", "django-storages-other", "1.2.3"]
    assert "staticfiles  django.contrib.staticfiles.storage.StaticFilesStorage" in output


def test_list_attributes_a_storage_to_the_nearest_provider_class(entry_points: list[Any]) -> None:
    entry_points.append(entry_point("demo", f"{HERE}:DemoStorage", "django-storages-demo"))
    entry_points.append(entry_point("demo_us", f"{HERE}:ClassAttributeStorage", "django-storages-demo"))
    storages = {
        "default": {"BACKEND": f"{HERE}.DemoStorage"},
        "media": {"BACKEND": f"{HERE}.ClassAttributeStorage"},
    }
    with override_settings(STORAGES=storages):
        providers = table(storages_command("list"))
    assert providers["demo"][3:] == ["default"]
    assert providers["demo_us"][3:] == ["media"]


def test_show_names_the_provider_of_the_backend(entry_points: list[Any]) -> None:
    entry_points.append(entry_point("demo", f"{HERE}:DemoStorage", "django-storages-demo"))
    with override_settings(STORAGES={"media": {"BACKEND": f"{HERE}.ClassAttributeStorage"}}):
        output = storages_command("show", "media")
    assert "(alias demo, django-storages-demo 1.2.3)" in output


def test_list_without_providers_says_what_to_install(entry_points: list[Any]) -> None:
    output = storages_command("list")
    assert "No storage providers are installed" in output
    assert "pip install django-storages-<provider>" in output


# -- show ---------------------------------------------------------------------------------


def test_show_gives_each_option_its_value_and_source(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEMO_API_KEY", SECRET)
    storages = {"media": {"BACKEND": f"{HERE}.ClassAttributeStorage"}}
    with override_settings(STORAGES=storages, DEMO_BUCKET_NAME="uploads"):
        output = storages_command("show", "media")
    rows = {line.split()[0]: line.split(None, 2)[1:] for line in output.splitlines() if line}
    assert rows["bucket_name"] == ["'uploads'", "setting DEMO_BUCKET_NAME"]
    assert rows["api_key"] == ["***", "environment DEMO_API_KEY"]
    assert rows["region_name"] == [
        "'us-east-2'",
        "class attribute ClassAttributeStorage.region_name",
    ]
    assert f"backend  {HERE}.ClassAttributeStorage" in output
    assert SECRET not in output


def test_show_marks_options_given_in_OPTIONS_and_defaults() -> None:
    options = {"bucket_name": "b", "api_key": SECRET}
    with override_settings(STORAGES={"default": {"BACKEND": f"{HERE}.DemoStorage", "OPTIONS": options}}):
        output = storages_command("show", "default")
    rows = {line.split()[0]: line.split(None, 2)[1:] for line in output.splitlines() if line}
    assert rows["bucket_name"] == ["'b'", "OPTIONS"]
    assert rows["api_key"] == ["***", "OPTIONS"]
    assert rows["region_name"] == ["'eu-west-1'", "default"]
    assert SECRET not in output


def test_show_of_a_plain_django_storage_hides_secret_looking_options() -> None:
    # A location that fits the table: ``show`` shortens values over 70 characters, and a
    # tmp_path can be longer than that (under pytest-xdist it is). ``show`` never touches it.
    config = fs(Path("/srv/media"), f"{HERE}.ReadOnlyFileSystemStorage")
    config["OPTIONS"]["password"] = SECRET
    with override_settings(STORAGES={"default": config}):
        output = storages_command("show", "default")
    assert "does not declare its options" in output
    assert "location  '/srv/media'" in output
    assert "password  ***" in output
    assert SECRET not in output


def test_show_of_an_unknown_name_lists_the_configured_ones() -> None:
    with (
        override_settings(STORAGES={"default": {"BACKEND": f"{HERE}.DemoStorage"}}),
        pytest.raises(CommandError, match=re.escape("has no entry 'medai'. Its entries: default.")),
    ):
        storages_command("show", "medai")


def test_show_of_a_misconfigured_storage_fails_without_the_secret() -> None:
    options = {"bukcet_name": "b", "api_key": SECRET}
    with (
        override_settings(STORAGES={"default": {"BACKEND": f"{HERE}.DemoStorage", "OPTIONS": options}}),
        pytest.raises(CommandError) as caught,
    ):
        storages_command("show", "default")
    assert "Did you mean 'bucket_name'?" in str(caught.value)
    assert SECRET not in str(caught.value)


# -- check --------------------------------------------------------------------------------


def test_check_lists_the_root_with_timings(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "sub").mkdir()
    with override_settings(STORAGES={"default": fs(tmp_path)}):
        output = storages_command("check", "default")
    assert "1 folders, 1 files at the root" in output
    assert "STORAGES['default'] works." in output
    assert list(table(output)) == ["configure", "list"]


def test_check_write_saves_reads_urls_and_deletes_a_probe_file(tmp_path: Path) -> None:
    with override_settings(STORAGES={"default": fs(tmp_path / "not-created-yet")}):
        output = storages_command("check", "default", "--write")
    rows = table(output)
    assert list(rows) == ["configure", "list", "save", "read", "url", "delete"]
    assert {row[1] for row in rows.values()} == {"ok"}
    assert all(float(row[0]) >= 0 for row in rows.values())
    assert "/media/.storages-probe-" in output
    assert list((tmp_path / "not-created-yet").iterdir()) == []


def test_check_write_fails_with_a_non_zero_exit_and_no_secret(tmp_path: Path) -> None:
    config = fs(tmp_path, f"{HERE}.ReadOnlyFileSystemStorage")
    config["OPTIONS"]["password"] = SECRET
    out = io.StringIO()
    with override_settings(STORAGES={"default": config}), pytest.raises(CommandError) as caught:
        call_command("storages", "check", "default", "--write", stdout=out)
    message = str(caught.value)
    assert "failed at step 'save'" in message
    assert "PermissionError: read-only storage" in message
    assert SECRET not in message and SECRET not in out.getvalue()
    assert "FAILED" in out.getvalue()


def test_check_write_fails_when_the_content_read_back_differs(tmp_path: Path) -> None:
    with (
        override_settings(STORAGES={"default": fs(tmp_path, f"{HERE}.CorruptingFileSystemStorage")}),
        pytest.raises(CommandError, match="failed at step 'read'"),
    ):
        storages_command("check", "default", "--write")
    assert list(tmp_path.iterdir()) == []  # the probe file was deleted all the same


def test_check_write_skips_url_for_a_storage_without_urls(tmp_path: Path) -> None:
    with override_settings(STORAGES={"default": fs(tmp_path, f"{HERE}.NoURLStorage")}):
        output = storages_command("check", "default", "--write")
    assert table(output)["url"][1] == "skipped"
    assert "works." in output


def test_check_write_skips_url_when_no_base_url_is_set(tmp_path: Path) -> None:
    config = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path)},
    }
    with override_settings(STORAGES={"default": config}, MEDIA_URL=None):
        output = storages_command("check", "default", "--write")
    assert table(output)["url"][1] == "skipped"


def test_check_write_reports_a_failing_url(tmp_path: Path) -> None:
    with (
        override_settings(STORAGES={"default": fs(tmp_path, f"{HERE}.BrokenURLStorage")}),
        pytest.raises(CommandError, match="failed at step 'url': RuntimeError"),
    ):
        storages_command("check", "default", "--write")
    assert list(tmp_path.iterdir()) == []


def test_check_write_hides_signed_url_query_values(tmp_path: Path) -> None:
    with override_settings(STORAGES={"default": fs(tmp_path, f"{HERE}.SignedURLStorage")}):
        output = storages_command("check", "default", "--write")
    assert "?Signature=***&Expires=***" in output
    assert SECRET not in output


def test_check_of_a_storage_missing_a_required_option_fails_at_configure() -> None:
    with (
        override_settings(STORAGES={"default": {"BACKEND": f"{HERE}.DemoStorage"}}),
        pytest.raises(CommandError, match=r"failed at step 'configure'.*'bucket_name'"),
    ):
        storages_command("check", "default")


def test_check_of_an_alias_not_installed_names_the_distribution(entry_points: list[Any]) -> None:
    with (
        override_settings(STORAGES={"default": {"BACKEND": "storages.aliases.sftp"}}),
        pytest.raises(CommandError, match="pip install django-storages-sftp"),
    ):
        storages_command("check", "default")
