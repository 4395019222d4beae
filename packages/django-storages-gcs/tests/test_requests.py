"""Exact request counts against the emulator (the checklist's "Speed" lines)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.base import ContentFile

MiB = 1024 * 1024


@pytest.fixture
def storage(make_storage: Callable[..., Any]) -> Any:
    return make_storage(querystring_auth=False)


@pytest.fixture
def saved(storage: Any) -> str:
    return storage.save("dir/present.txt", ContentFile(b"present"))


def test_exists_size_and_times_are_one_request_each(storage: Any, saved: str, count_requests: Any) -> None:
    log = count_requests(storage)
    for call in (storage.exists, storage.size, storage.get_modified_time, storage.get_created_time):
        log.clear()
        call(saved)
        assert [r.method for r in log.requests] == ["GET"], call.__name__


def test_missing_file_is_one_request(storage: Any, count_requests: Any) -> None:
    log = count_requests(storage)
    assert storage.exists("nope.txt") is False
    assert len(log) == 1


def test_small_save_is_one_request(storage: Any, count_requests: Any) -> None:
    log = count_requests(storage)
    storage.save("small.txt", ContentFile(b"x" * 1000))
    assert [(r.method, "uploadType=multipart" in r.url) for r in log.requests] == [("POST", True)]


def test_small_open_read_is_one_request_without_metadata_first(
    storage: Any, saved: str, count_requests: Any
) -> None:
    log = count_requests(storage)
    with storage.open(saved, "rb") as f:
        assert f.read() == b"present"
    assert len(log) == 1
    assert "alt=media" in log.requests[0].url


def test_large_save_is_one_session_and_one_request_per_chunk(
    make_storage: Callable[..., Any], count_requests: Any
) -> None:
    storage = make_storage(blob_chunk_size=MiB)
    log = count_requests(storage)
    data = os.urandom(3 * MiB + 10)
    storage.save("big.bin", ContentFile(data))
    methods = [r.method for r in log.requests]
    assert methods == ["POST", "PUT", "PUT", "PUT", "PUT"]  # session, 3 chunks, the last with the total
    assert log.requests[-1].headers["Content-Range"] == f"bytes {3 * MiB}-{3 * MiB + 9}/{3 * MiB + 10}"
    assert all(r.headers["Content-Range"].endswith("/*") for r in log.requests[1:-1])
    with storage.open("big.bin") as f:
        assert f.read() == data


def test_exact_multiple_of_the_chunk_ends_with_an_empty_final_chunk(
    make_storage: Callable[..., Any], count_requests: Any
) -> None:
    storage = make_storage(blob_chunk_size=256 * 1024)
    log = count_requests(storage)
    data = os.urandom(512 * 1024)
    storage.save("exact.bin", ContentFile(data))
    assert log.requests[-1].headers["Content-Range"] == f"bytes */{512 * 1024}"
    assert storage.size("exact.bin") == 512 * 1024
    with storage.open("exact.bin") as f:
        assert f.read() == data


def test_save_makes_no_metadata_request(storage: Any, saved: str, count_requests: Any) -> None:
    # The original fetched the blob's metadata before every upload.
    log = count_requests(storage)
    storage.save(saved, ContentFile(b"again"))
    assert [r.method for r in log.requests] == ["POST"]


def test_delete_is_one_request_and_missing_is_silent(storage: Any, saved: str, count_requests: Any) -> None:
    log = count_requests(storage)
    storage.delete(saved)
    storage.delete(saved)
    assert [r.method for r in log.requests] == ["DELETE", "DELETE"]
    assert not storage.exists(saved)


class TestListdirPages:
    """One request per page; nested prefixes; complete over every page."""

    @pytest.fixture
    def tree(self, storage: Any) -> Any:
        for name in [
            "a/1.txt",
            "a/2.txt",
            "a/3.txt",
            "a/4.txt",
            "a/5.txt",
            "a/b/x.txt",
            "a/c/d/y.txt",
            "a/e/z.txt",
        ]:
            storage.bucket.blob(storage._normalize_name(name)).upload_from_string(b"1")
        storage.bucket.blob("a/").upload_from_string(b"")  # a folder marker, as the console makes
        storage.bucket.blob("a/b/").upload_from_string(b"")
        return storage

    def test_every_page_is_read(
        self, tree: Any, count_requests: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        pages = tree._iter_pages

        def small_pages(prefix: str, delimiter: str | None = "/", page_size: int | None = None) -> Any:
            return pages(prefix, delimiter, page_size=2)

        monkeypatch.setattr(tree, "_iter_pages", small_pages)
        log = count_requests(tree)
        dirs, files = tree.listdir("a")
        assert dirs == ["b", "c", "e"]
        assert sorted(files) == ["1.txt", "2.txt", "3.txt", "4.txt", "5.txt"]
        assert "" not in files
        assert len(log) > 1  # two entries a page: the emulator pages, one request each
        assert all(r.method == "GET" for r in log.requests)

    def test_nested(self, tree: Any, count_requests: Any) -> None:
        log = count_requests(tree)
        assert tree.listdir("a/c") == (["d"], [])
        assert tree.listdir("a/c/d/") == ([], ["y.txt"])
        assert tree.listdir("a/b") == ([], ["x.txt"])
        assert len(log) == 3


def test_url_makes_no_request(storage: Any, count_requests: Any) -> None:
    log = count_requests(storage)
    storage.url("anything.txt")
    assert len(log) == 0
