"""collectstatic with the static and manifest storages: one listing, zero requests per unchanged file."""

from __future__ import annotations

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


@pytest.fixture
def collect(endpoint_url: str, bucket_name: str) -> Callable[..., None]:
    def run(backend: str, root: Path, **options: Any) -> None:
        options = {
            **MOTO_CREDENTIALS,
            "endpoint_url": endpoint_url,
            "bucket_name": bucket_name,
            "location": "static",
            **options,
        }
        storages = {
            "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
            "staticfiles": {"BACKEND": backend, "OPTIONS": options},
        }
        # A new settings block builds a new storage instance: one "command run" each.
        with override_settings(STORAGES=storages, STATICFILES_DIRS=[str(root)]):
            call_command("collectstatic", interactive=False, verbosity=0)

    return run


STATIC = "storages.backends.s3.S3StaticStorage"
MANIFEST = "storages.backends.s3.S3ManifestStaticStorage"


def counter_for(make_storage: Any, count_requests: Any, cls: Any) -> Any:
    # Storages with the same configuration share one client: count on it.
    return count_requests(make_storage(cls, location="static"))


def test_static_collectstatic_request_counts(
    tree: Any, collect: Any, make_storage: Any, count_requests: Any
) -> None:
    """One test, one upload of the tree: first run, unchanged re-run, 10 changed, fresh checkout."""
    from storages.backends.s3 import S3StaticStorage

    root, paths = tree
    log = counter_for(make_storage, count_requests, S3StaticStorage)
    collect(STATIC, root)
    assert log.operations.count("PutObject") == FILES
    assert log.operations.count("ListObjectsV2") == 1
    assert len(log) == FILES + 1

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


def test_manifest_unchanged_rerun_in_at_most_five_requests(
    tree: Any, collect: Any, make_storage: Any, count_requests: Any
) -> None:
    from storages.backends.s3 import S3ManifestStaticStorage

    root, _ = tree
    first = counter_for(make_storage, count_requests, S3ManifestStaticStorage)
    collect(MANIFEST, root)
    # originals + hashed copies + the manifest, plus the listing
    assert first.operations.count("PutObject") == 2 * FILES + 1
    log = counter_for(make_storage, count_requests, S3ManifestStaticStorage)
    collect(MANIFEST, root)
    assert len(log) <= 5, log.operations
    assert "PutObject" not in log.operations
    assert "DeleteObject" not in log.operations


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


def test_static_storage_delete_then_other_call_really_deletes(make_storage: Any, count_requests: Any) -> None:
    from storages.backends.s3 import S3StaticStorage

    storage = make_storage(S3StaticStorage)
    storage.save("a.css", ContentFile(b"a"))
    storage.save("b.css", ContentFile(b"b"))
    storage.delete("a.css")
    assert not storage.exists("a.css")
    assert storage.listdir("") == ([], ["b.css"])
    fresh = make_storage(S3StaticStorage)
    assert not fresh.exists("a.css")


def test_static_storage_delete_then_save_same_content_keeps_object(
    make_storage: Any, count_requests: Any
) -> None:
    from storages.backends.s3 import S3StaticStorage

    storage = make_storage(S3StaticStorage)
    storage.save("a.css", ContentFile(b"same"))
    log = count_requests(storage)
    storage.delete("a.css")
    storage.save("a.css", ContentFile(b"same"))
    assert len(log) == 0
    assert make_storage().exists("a.css")
