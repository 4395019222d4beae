"""Exact request counts against Azurite (an azure-core raw_request_hook sees every request)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.files.base import ContentFile

from storages.backends.azure_storage import AzureStorageFile


def test_small_save_is_one_put_blob(logged_storage: Callable[..., Any]) -> None:
    storage, log = logged_storage()
    assert storage.client is not None  # creating the client sends nothing
    log.clear()
    storage.save("one.txt", ContentFile(b"small"))
    # get_available_name asks once whether the name is free (overwrite_files=False).
    assert log.summary == ["HEAD", "PUT"]


def test_small_save_with_overwrite_is_one_request(logged_storage: Callable[..., Any]) -> None:
    storage, log = logged_storage(overwrite_files=True)
    storage.save("one.txt", ContentFile(b"small"))
    assert log.summary == ["PUT"]
    assert "x-ms-blob-type" in {k.lower() for k in log.requests[0].headers}


def test_metadata_calls_are_one_request_each(logged_storage: Callable[..., Any]) -> None:
    storage, log = logged_storage(overwrite_files=True)
    storage.save("meta.txt", ContentFile(b"x"))
    for call in (storage.exists, storage.size, storage.get_modified_time, storage.get_created_time):
        log.clear()
        call("meta.txt")
        assert log.summary == ["HEAD"], call.__name__
    log.clear()
    assert storage.exists("missing.txt") is False
    assert log.summary == ["HEAD"]


def test_small_read_is_one_get_without_metadata_request(logged_storage: Callable[..., Any]) -> None:
    storage, log = logged_storage(overwrite_files=True)
    storage.save("read.txt", ContentFile(b"read me"))
    log.clear()
    with storage.open("read.txt") as f:
        assert f.read() == b"read me"
        assert f.size == 7
    assert log.summary == ["GET"]


def test_large_write_is_staged_blocks_and_one_block_list(logged_storage: Callable[..., Any]) -> None:
    storage, log = logged_storage(overwrite_files=True)
    block = AzureStorageFile.part_size
    with storage.open("big.bin", "wb") as f:
        for _ in range(3):
            f.write(b"z" * block)
        f.write(b"tail")
    assert sorted(log.summary) == ["PUT block"] * 4 + ["PUT blocklist"]
    assert log.summary[-1] == "PUT blocklist"
    assert storage.size("big.bin") == 3 * block + 4


def test_large_read_is_ranged_gets(logged_storage: Callable[..., Any]) -> None:
    storage, log = logged_storage(overwrite_files=True)
    size = AzureStorageFile.read_range_size
    storage.save("ranged.bin", ContentFile(b"r" * (2 * size + 10)))
    log.clear()
    with storage.open("ranged.bin") as f:
        while f.read(1024 * 1024):
            pass
    assert log.summary == ["GET"] * 3
    ranges = [r.headers.get("x-ms-range") for r in log.requests]
    assert ranges == [
        f"bytes=0-{size - 1}",
        f"bytes={size}-{2 * size - 1}",
        f"bytes={2 * size}-{2 * size + 9}",
    ]


def test_listdir_is_one_request_per_page(logged_storage: Callable[..., Any]) -> None:
    storage, log = logged_storage(overwrite_files=True)
    for i in range(12):
        storage.save(f"paged/f{i:02d}.txt", ContentFile(b""))
    storage.save("paged/sub/x.txt", ContentFile(b""))
    storage.list_page_size = 5
    log.clear()
    dirs, files = storage.listdir("paged")
    assert (dirs, sorted(files)) == (["sub"], [f"f{i:02d}.txt" for i in range(12)])
    assert log.summary == ["GET list"] * 3  # 13 entries, 5 per page


def test_delete_is_one_request(logged_storage: Callable[..., Any]) -> None:
    storage, log = logged_storage(overwrite_files=True)
    storage.save("gone.txt", ContentFile(b"x"))
    log.clear()
    storage.delete("gone.txt")
    storage.delete("gone.txt")  # missing: silent
    assert log.summary == ["DELETE", "DELETE"]


def test_fractional_timeout_is_sent_as_whole_seconds(logged_storage: Callable[..., Any]) -> None:
    storage, log = logged_storage(overwrite_files=True, timeout=1.5)
    storage.save("t.txt", ContentFile(b"x"))
    assert storage.exists("t.txt")
    assert all("timeout=2" in r.query.split("&") for r in log.requests)
