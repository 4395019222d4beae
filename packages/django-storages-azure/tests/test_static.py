"""AzureStaticStorage inside collectstatic: one listing for an unchanged tree, uploads skipped
by the stored Content-MD5; plain AzureStorage behaviour outside the command."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.test import override_settings

from shared.testservers.azurite import AzuriteServer
from storages.backends.azure_storage import AzureManifestStaticStorage, AzureStaticStorage, AzureStorageFile


class RequestLog:
    """``METHOD comp`` of every request (an azure-core raw_request_hook)."""

    def __init__(self) -> None:
        self.summary: list[str] = []

    def __bool__(self) -> bool:
        return True

    def __call__(self, pipeline_request: Any) -> None:
        http = pipeline_request.http_request
        query = http.url.split("?", 1)[1] if "?" in http.url else ""
        comp = [p.split("=", 1)[1] for p in query.split("&") if p.startswith("comp=")]
        self.summary.append(f"{http.method} {comp[0]}" if comp else http.method)


def make_tree(root: Path, count: int) -> list[Path]:
    paths = []
    for index in range(count):
        path = root / f"app{index % 3}" / f"file{index}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(f"static file {index}\n".encode() * 5)
        paths.append(path)
    past = time.time() - 3600
    for path in paths:
        os.utime(path, (past, past))
    return paths


@pytest.fixture
def collect(azurite: AzuriteServer, container_name: str, tmp_path: Path) -> Callable[..., RequestLog]:
    """``log = collect()``: run collectstatic into the container; the log holds its requests."""
    root = tmp_path / "static"
    root.mkdir()

    def run(backend: str = "AzureStaticStorage", **kwargs: Any) -> RequestLog:
        log = RequestLog()
        storages = {
            "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
            "staticfiles": {
                "BACKEND": f"storages.backends.azure_storage.{backend}",
                "OPTIONS": {
                    "connection_string": azurite.connection_string,
                    "azure_container": container_name,
                    "location": "static",
                    "client_options": {"raw_request_hook": log},
                },
            },
        }
        with override_settings(STORAGES=storages, STATICFILES_DIRS=[str(root)], STATIC_URL="/static/"):
            call_command("collectstatic", interactive=False, verbosity=0, **kwargs)
        return log

    run.root = root  # type: ignore[attr-defined]
    return run


def test_unchanged_tree_is_one_listing(collect: Any) -> None:
    paths = make_tree(collect.root, 30)
    first = collect()
    assert first.summary.count("PUT") == 30
    unchanged = collect()
    assert unchanged.summary == ["GET list"]
    changed = paths[:2]
    for path in changed:
        path.write_bytes(b"changed " + path.name.encode())
        future = time.time() + 3600
        os.utime(path, (future, future))
    again = collect()
    assert sorted(again.summary) == ["GET list", "PUT", "PUT"]


def test_touched_but_identical_files_are_not_uploaded(collect: Any) -> None:
    paths = make_tree(collect.root, 5)
    collect()
    future = time.time() + 3600
    for path in paths:
        os.utime(path, (future, future))  # newer, same bytes
    assert collect().summary == ["GET list"]


def test_block_uploads_store_their_md5(make_storage: Callable[..., Any]) -> None:
    storage = make_storage(AzureStaticStorage)
    data = os.urandom(AzureStorageFile.part_size + 123)
    storage.save("big.bin", ContentFile(data))
    stored = storage.client.get_blob_client("big.bin").get_blob_properties().content_settings.content_md5
    assert bytes(stored) == hashlib.md5(data, usedforsecurity=False).digest()
    small = storage.save("small.bin", ContentFile(b"small"))
    stored = storage.client.get_blob_client(small).get_blob_properties().content_settings.content_md5
    assert bytes(stored) == hashlib.md5(b"small", usedforsecurity=False).digest()


def test_outside_collectstatic_every_call_asks_the_server(logged_storage: Callable[..., Any]) -> None:
    storage, log = logged_storage(AzureStaticStorage)
    storage.save("x.css", ContentFile(b"a{}"))
    log.clear()
    assert len(log) == 0
    assert storage.exists("x.css")
    assert storage.size("x.css") == 3
    assert log.summary == ["HEAD", "HEAD"]
    assert storage.overwrite_files is True
    assert type(storage).__module__ == "storages.backends.azure_storage"


def test_manifest_unchanged_rerun_is_the_listing_alone(
    collect: Any, raw_container: Any, container_name: str
) -> None:
    make_tree(collect.root, 20)
    css = collect.root / "app0" / "site.css"
    css.write_text('body { background: url("file3.txt"); }\n')
    first = collect("AzureManifestStaticStorage")
    assert "PUT" in first.summary
    unchanged = collect("AzureManifestStaticStorage")
    # The hashed copies and the manifest are stored already: nothing is read or written again.
    assert unchanged.summary == ["GET list"]
    stored = {blob.name for blob in raw_container(container_name).list_blobs()}
    assert "static/staticfiles.json" in stored
    (hashed_css,) = [n for n in stored if n.startswith("static/app0/site.") and n != "static/app0/site.css"]
    css_bytes = raw_container(container_name).download_blob(hashed_css).readall()
    file3 = (collect.root / "app0" / "file3.txt").read_bytes()
    assert f"file3.{hashlib.md5(file3, usedforsecurity=False).hexdigest()[:12]}.txt".encode() in css_bytes


def test_manifest_is_not_read_at_construction(logged_storage: Callable[..., Any]) -> None:
    storage, log = logged_storage(AzureManifestStaticStorage)
    assert len(log) == 0
    assert storage.hashed_files == {}
    assert log.summary == ["GET"]  # the manifest, once
    storage.hashed_files  # noqa: B018 - read again: cached
    assert log.summary == ["GET"]


def test_reopened_write_file_stores_the_md5_of_its_new_content(make_storage: Callable[..., Any]) -> None:
    storage = make_storage(AzureStaticStorage)
    f = storage.open("again.txt", "wb")
    f.write(b"first")
    f.close()
    f.open()
    f.write(b"second")
    f.close()
    props = storage.client.get_blob_client("again.txt").get_blob_properties()
    assert bytes(props.content_settings.content_md5) == hashlib.md5(b"second", usedforsecurity=False).digest()
    with storage.open("again.txt") as r:
        assert r.read() == b"second"
