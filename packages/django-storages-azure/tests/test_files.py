"""Uploads, downloads and content settings of AzureStorageFile against Azurite."""

from __future__ import annotations

import gzip
import io
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.base import ContentFile

from storages.backends.azure_storage import AzureStorageFile


def properties(storage: Any, name: str) -> Any:
    return storage.client.get_blob_client(storage._normalize_name(name)).get_blob_properties()


def test_gzip_archive_keeps_its_bytes(make_storage: Callable[..., Any]) -> None:
    storage = make_storage()
    archive = gzip.compress(b"a database dump\n" * 1000)
    name = storage.save("backups/dump.sql.gz", ContentFile(archive))
    props = properties(storage, name)
    assert props.content_settings.content_encoding in (None, "")
    assert props.content_settings.content_type == "application/gzip"
    with storage.open(name) as f:
        assert f.read() == archive


def test_content_type_from_the_name_not_the_upload(make_storage: Callable[..., Any]) -> None:
    storage = make_storage()
    upload = ContentFile(b"<script>", name="x.png")
    upload.content_type = "text/html"  # type: ignore[attr-defined]  # what a browser claimed
    name = storage.save("avatar.png", upload)
    assert properties(storage, name).content_settings.content_type == "image/png"
    name = storage.save("unknown.zzz-type", ContentFile(b"x"))
    assert properties(storage, name).content_settings.content_type == "application/octet-stream"


def test_object_parameters_and_cache_control(make_storage: Callable[..., Any]) -> None:
    storage = make_storage(
        cache_control="public, max-age=60",
        object_parameters={"content_disposition": "attachment", "content_language": "fr"},
    )
    name = storage.save("doc.txt", ContentFile(b"bonjour"))
    settings = properties(storage, name).content_settings
    assert settings.cache_control == "public, max-age=60"
    assert settings.content_disposition == "attachment"
    assert settings.content_language == "fr"
    assert settings.content_type == "text/plain"


def test_content_settings_apply_to_block_uploads(make_storage: Callable[..., Any]) -> None:
    storage = make_storage(cache_control="no-cache", overwrite_files=True)
    storage.save("big.css", ContentFile(b"a" * (AzureStorageFile.part_size + 5)))
    settings = properties(storage, "big.css").content_settings
    assert (settings.content_type, settings.cache_control) == ("text/css", "no-cache")


def test_get_object_parameters_is_per_object(make_storage: Callable[..., Any]) -> None:
    from storages.backends.azure_storage import AzureStorage

    class PerObject(AzureStorage):
        def get_object_parameters(self, name: str) -> dict[str, Any]:
            return {"cache_control": "max-age=1"} if name.endswith(".js") else {}

    storage = make_storage(PerObject)
    js = storage.save("app.js", ContentFile(b"x"))
    txt = storage.save("app.txt", ContentFile(b"x"))
    assert properties(storage, js).content_settings.cache_control == "max-age=1"
    assert not properties(storage, txt).content_settings.cache_control


def test_save_does_not_close_the_callers_file(make_storage: Callable[..., Any]) -> None:
    content = io.BytesIO(b"still mine")
    make_storage().save("kept-open.txt", content)
    assert not content.closed
    content.seek(0)
    assert content.read() == b"still mine"


def test_read_after_seek_past_the_end(make_storage: Callable[..., Any]) -> None:
    storage = make_storage()
    name = storage.save("ten.txt", ContentFile(b"0123456789"))
    with storage.open(name) as f:
        f.seek(50)
        assert f.read() == b""
        f.seek(4)
        assert f.read(2) == b"45"


def test_readinto_and_reopen(make_storage: Callable[..., Any]) -> None:
    import hashlib

    storage = make_storage()
    name = storage.save("hashed.bin", ContentFile(b"hash me" * 1000))
    f = storage.open(name)
    assert hashlib.file_digest(f, "sha256").hexdigest() == hashlib.sha256(b"hash me" * 1000).hexdigest()
    f.close()
    f.open()
    try:
        assert f.read(7) == b"hash me"
    finally:
        f.close()


def test_interrupted_block_upload_to_a_new_name_leaves_no_blocks(make_storage: Callable[..., Any]) -> None:
    storage = make_storage()
    with pytest.raises(RuntimeError), storage.open("half.bin", "wb") as f:
        f.write(b"h" * (2 * AzureStorageFile.part_size))
        raise RuntimeError("interrupted")
    blob = storage.client.get_blob_client("half.bin")
    from azure.core.exceptions import ResourceNotFoundError

    with pytest.raises(ResourceNotFoundError):
        blob.get_block_list("all")
    assert not storage.exists("half.bin")


def test_missing_blob_errors(make_storage: Callable[..., Any]) -> None:
    storage = make_storage()
    for call in (storage.size, storage.get_modified_time, storage.get_created_time, storage.open):
        with pytest.raises(FileNotFoundError):
            call("nope.txt")
