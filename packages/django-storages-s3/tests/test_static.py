"""The static storages: one listing inside ``collectstatic``, plain ``S3Storage`` everywhere else.

``collectstatic`` here is the command of ``storages`` (``configure_django`` lists ``storages``
before ``django.contrib.staticfiles``), which opens core's collect scope around the run.
"""

from __future__ import annotations

import gc
import io
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.test import override_settings

from shared.testservers.moto import MOTO_CREDENTIALS

FILES = 1000
STATIC = "storages.backends.s3.S3StaticStorage"
MANIFEST = "storages.backends.s3.S3ManifestStaticStorage"


def make_tree(root: Path, count: int = FILES) -> list[Path]:
    paths = []
    for index in range(count):
        folder = root / f"app{index % 4}"
        folder.mkdir(parents=True, exist_ok=True)
        if index % 100 == 0:
            path = folder / f"style{index}.css"
            path.write_text(f'body {{ background: url("img{index + 4}.png"); }} /* {index} */\n')
        else:
            path = folder / f"img{index}.png"
            path.write_bytes(f"file number {index}".encode() * 3)
        paths.append(path)
    return paths


def set_mtime(paths: list[Path], when: float) -> None:
    for path in paths:
        os.utime(path, (when, when))


@pytest.fixture
def tree(tmp_path: Path) -> tuple[Path, list[Path]]:
    root = tmp_path / "static"
    paths = make_tree(root)
    set_mtime(paths, time.time() - 3600)  # sources older than anything uploaded now
    return root, paths


def keys(raw: Any, bucket: str) -> list[str]:
    return sorted(item["Key"] for item in raw.list_objects_v2(Bucket=bucket).get("Contents", ()))


def stored(raw: Any, bucket: str, key: str) -> bytes | None:
    try:
        return bytes(raw.get_object(Bucket=bucket, Key=key)["Body"].read())
    except raw.exceptions.NoSuchKey:
        return None


def static_settings(backend: str, endpoint_url: str, bucket_name: str, **options: Any) -> dict[str, Any]:
    options = {
        **MOTO_CREDENTIALS,
        "endpoint_url": endpoint_url,
        "bucket_name": bucket_name,
        "location": "static",
        **options,
    }
    return {
        "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
        "staticfiles": {"BACKEND": backend, "OPTIONS": options},
    }


@pytest.fixture
def collect(endpoint_url: str, bucket_name: str) -> Callable[..., None]:
    def run(backend: str, root: Path, clear: bool = False, **options: Any) -> None:
        storages = static_settings(backend, endpoint_url, bucket_name, **options)
        # A new settings block builds a new storage instance: one "command run" each.
        with override_settings(STORAGES=storages, STATICFILES_DIRS=[str(root)]):
            call_command("collectstatic", interactive=False, verbosity=0, clear=clear)

    return run


def counter_for(make_storage: Any, count_requests: Any, cls: Any) -> Any:
    # Storages with the same configuration share one client: count on it.
    return count_requests(make_storage(cls, location="static"))


# -- inside collectstatic -------------------------------------------------------------------


def test_static_collectstatic_request_counts(
    tree: Any, collect: Any, make_storage: Any, count_requests: Any
) -> None:
    """One test, one upload of the tree: first run, unchanged re-run, 10 changed, fresh checkout."""
    from storages.backends.s3 import S3StaticStorage

    root, paths = tree
    log = counter_for(make_storage, count_requests, S3StaticStorage)
    collect(STATIC, root)
    assert sorted(log.operations) == ["ListObjectsV2"] + ["PutObject"] * FILES

    log.clear()
    collect(STATIC, root)
    assert log.operations == ["ListObjectsV2"]

    changed = [p for p in paths if p.suffix == ".png"][:10]
    for path in changed:
        path.write_bytes(b"new content " + path.name.encode())
    set_mtime(changed, time.time() + 3600)
    log.clear()
    collect(STATIC, root)
    assert sorted(log.operations) == ["ListObjectsV2"] + ["PutObject"] * 10
    storage = make_storage(S3StaticStorage, location="static")
    relative = changed[0].relative_to(root).as_posix()
    with storage.open(relative) as f:
        assert f.read() == changed[0].read_bytes()

    # A fresh checkout: every source looks newer, the MD5 against the ETag decides.
    set_mtime(paths, time.time() + 7200)
    log.clear()
    collect(STATIC, root)
    assert log.operations == ["ListObjectsV2"]


def test_gzipped_static_files_are_skipped_when_unchanged(
    tmp_path: Path, collect: Any, make_storage: Any, count_requests: Any
) -> None:
    from storages.backends.s3 import S3StaticStorage

    root = tmp_path / "static"
    root.mkdir()
    (root / "site.css").write_text("body { color: red; }\n" * 50)
    (root / "logo.png").write_bytes(b"png" * 50)
    set_mtime(list(root.iterdir()), time.time() + 3600)  # always looks newer
    log = counter_for(make_storage, count_requests, S3StaticStorage)
    collect(STATIC, root, gzip=True)
    assert sorted(log.operations) == ["ListObjectsV2", "PutObject", "PutObject"]
    log.clear()
    collect(STATIC, root, gzip=True)
    assert log.operations == ["ListObjectsV2"]


def test_manifest_collectstatic_unchanged_rerun_is_the_listing_alone(
    tree: Any, collect: Any, make_storage: Any, count_requests: Any
) -> None:
    from storages.backends.s3 import S3ManifestStaticStorage

    root, _ = tree
    log = counter_for(make_storage, count_requests, S3ManifestStaticStorage)
    collect(MANIFEST, root)
    # originals + hashed copies + the manifest; the listing of 1,000 keys, none hashed yet
    assert sorted(log.operations) == ["ListObjectsV2"] + ["PutObject"] * (2 * FILES + 1)
    log.clear()
    collect(MANIFEST, root)
    # 2,001 keys: three pages of ListObjectsV2, and nothing else.
    assert log.operations == ["ListObjectsV2"] * 3


def test_manifest_is_read_once_and_not_at_construction(
    tree: Any, collect: Any, make_storage: Any, count_requests: Any
) -> None:
    from storages.backends.s3 import S3ManifestStaticStorage

    root, _ = tree
    collect(MANIFEST, root)
    with override_settings(STATIC_URL="/static/"):
        log = counter_for(make_storage, count_requests, S3ManifestStaticStorage)
        storage = make_storage(S3ManifestStaticStorage, location="static")
        assert len(log) == 0
        first = storage.url("app0/style0.css")
        second = storage.url("app1/img1.png")
    assert "style0." in first and first.endswith(".css")
    assert "img1." in second
    assert log.operations == ["GetObject"]


def test_collectstatic_clear_deletes_everything_under_the_location_and_nothing_else(
    tmp_path: Path, collect: Any, raw: Any, bucket_name: str
) -> None:
    root = tmp_path / "static"
    (root / "css").mkdir(parents=True)
    (root / "css" / "site.css").write_text("body {}")
    for key in ("static/stale.css", "static/old/deep/stale.js", "media/keep.jpg", "staticfiles.txt"):
        raw.put_object(Bucket=bucket_name, Key=key, Body=b"x")
    collect(STATIC, root, clear=True)
    assert keys(raw, bucket_name) == ["media/keep.jpg", "static/css/site.css", "staticfiles.txt"]


def test_collectstatic_clear_with_an_empty_location_deletes_everything(
    tmp_path: Path, collect: Any, raw: Any, bucket_name: str
) -> None:
    root = tmp_path / "static"
    root.mkdir()
    (root / "site.css").write_text("body {}")
    for key in ("stale.css", "old/deep/stale.js"):
        raw.put_object(Bucket=bucket_name, Key=key, Body=b"x")
    collect(STATIC, root, clear=True, location="")
    assert keys(raw, bucket_name) == ["site.css"]


def test_collectstatic_clear_rewrites_every_file_and_deletes_only_stale_ones(
    tree: Any, collect: Any, make_storage: Any, count_requests: Any, raw: Any, bucket_name: str
) -> None:
    from storages.backends.s3 import S3StaticStorage

    root, _ = tree
    collect(STATIC, root, object_parameters={"CacheControl": "max-age=60"})
    raw.put_object(Bucket=bucket_name, Key="static/stale.css", Body=b"x")
    log = counter_for(make_storage, count_requests, S3StaticStorage)
    collect(STATIC, root, clear=True, object_parameters={"CacheControl": "max-age=3600"})
    # The walk (root and four folders), the listing of 1,001 keys (two pages), every file
    # uploaded again (new metadata), and a delete for the stale file only.
    assert sorted(log.operations) == ["DeleteObject"] + ["ListObjectsV2"] * 7 + ["PutObject"] * FILES
    assert len(keys(raw, bucket_name)) == FILES
    assert stored(raw, bucket_name, "static/stale.css") is None
    head = raw.head_object(Bucket=bucket_name, Key="static/app0/style0.css")
    assert head["CacheControl"] == "max-age=3600"


def test_w004_when_django_collectstatic_wins(endpoint_url: str, bucket_name: str) -> None:
    from storages.checks import check_collectstatic_command

    apps = ["django.contrib.contenttypes", "django.contrib.auth", "django.contrib.staticfiles", "storages"]
    storages = static_settings(STATIC, endpoint_url, bucket_name)
    with override_settings(STORAGES=storages, INSTALLED_APPS=apps):
        messages = check_collectstatic_command()
    assert [m.id for m in messages] == ["storages.W004"]
    assert "S3StaticStorage" in messages[0].msg
    assert messages[0].hint == 'Move "storages" above "django.contrib.staticfiles" in INSTALLED_APPS.'
    with override_settings(STORAGES=storages):
        assert check_collectstatic_command() == []


# -- outside collectstatic: plain S3Storage -------------------------------------------------


def test_outside_collectstatic_every_call_is_a_request(make_storage: Any, count_requests: Any) -> None:
    from storages.backends.s3 import S3StaticStorage

    storage = make_storage(S3StaticStorage)
    storage.save("a.css", ContentFile(b"a"))
    log = count_requests(storage)
    assert storage.exists("a.css")
    assert storage.size("a.css") == 1
    storage.get_modified_time("a.css")
    storage.delete("a.css")
    storage.save("a.css", ContentFile(b"a"))
    assert log.operations == ["HeadObject", "HeadObject", "HeadObject", "DeleteObject", "PutObject"]


def test_two_instances_on_one_location_see_each_others_changes(
    make_storage: Any, count_requests: Any, raw: Any, bucket_name: str
) -> None:
    from storages.backends.s3 import S3StaticStorage

    first = make_storage(S3StaticStorage, location="static")
    second = make_storage(S3StaticStorage, location="static")
    first.save("a.css", ContentFile(b"same"))
    assert second.exists("a.css")
    first.delete("a.css")
    assert not second.exists("a.css")
    log = count_requests(second)
    second.save("a.css", ContentFile(b"same"))
    assert log.operations == ["PutObject"]
    assert stored(raw, bucket_name, "static/a.css") == b"same"


def test_changes_behind_the_storages_back_are_seen_at_once(
    make_storage: Any, raw: Any, bucket_name: str
) -> None:
    from storages.backends.s3 import S3StaticStorage

    storage = make_storage(S3StaticStorage)
    storage.save("a.css", ContentFile(b"one"))
    assert storage.exists("a.css") and storage.size("a.css") == 3
    raw.delete_object(Bucket=bucket_name, Key="a.css")
    assert not storage.exists("a.css")
    with pytest.raises(FileNotFoundError):
        storage.size("a.css")
    raw.put_object(Bucket=bucket_name, Key="a.css", Body=b"longer")
    assert storage.exists("a.css")
    assert storage.size("a.css") == 6
    with storage.open("a.css") as f:
        assert f.read() == b"longer"


def test_delete_is_immediate_and_not_lost_at_garbage_collection(
    make_storage: Any, raw: Any, bucket_name: str
) -> None:
    from storages.backends.s3 import S3StaticStorage

    storage = make_storage(S3StaticStorage)
    storage.save("a.css", ContentFile(b"a"))
    storage.save("b.css", ContentFile(b"b"))
    storage.delete("a.css")
    assert stored(raw, bucket_name, "a.css") is None
    storage.delete("b.css")
    del storage
    gc.collect()
    assert keys(raw, bucket_name) == []


def test_a_delete_is_not_replayed_over_a_newer_object(make_storage: Any, raw: Any, bucket_name: str) -> None:
    from storages.backends.s3 import S3StaticStorage

    storage = make_storage(S3StaticStorage)
    storage.save("a.css", ContentFile(b"old"))
    storage.delete("a.css")
    raw.put_object(Bucket=bucket_name, Key="a.css", Body=b"newer, by someone else")
    storage.listdir("")
    storage.exists("b.css")
    assert stored(raw, bucket_name, "a.css") == b"newer, by someone else"


def test_file_overwrite_false_never_overwrites_another_instances_upload(
    make_storage: Any, raw: Any, bucket_name: str
) -> None:
    from storages.backends.s3 import S3StaticStorage

    mine = make_storage(S3StaticStorage, file_overwrite=False)
    theirs = make_storage(S3StaticStorage, file_overwrite=False)
    assert not mine.exists("a.css")
    theirs.save("a.css", ContentFile(b"theirs"))
    name = mine.save("a.css", ContentFile(b"mine"))
    assert name != "a.css"
    assert stored(raw, bucket_name, "a.css") == b"theirs"
    assert stored(raw, bucket_name, name) == b"mine"


def test_storages_check_write_really_deletes_its_probe(
    endpoint_url: str, bucket_name: str, raw: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from storages.management.commands import storages as command

    # Checked when the command reports the delete, not later (a held-back delete would be
    # sent when the storage is garbage-collected after the command).
    seen_after_delete: list[list[str]] = []
    delete = command.Command._delete

    def delete_and_look(storage: Any, name: str) -> tuple[None, str]:
        result = delete(storage, name)
        seen_after_delete.append(keys(raw, bucket_name))
        return result

    monkeypatch.setattr(command.Command, "_delete", staticmethod(delete_and_look))
    with override_settings(STORAGES=static_settings(STATIC, endpoint_url, bucket_name)):
        call_command("storages", "check", "staticfiles", "--write", stdout=io.StringIO())
    assert seen_after_delete == [[]]
    assert keys(raw, bucket_name) == []
