"""Exact request counts, recorded with a botocore ``before-send`` hook on the shared client."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.base import ContentFile

from storages.testing import run_threads

Make = Callable[..., Any]


@pytest.fixture
def storage(make_storage: Make) -> Any:
    return make_storage()


def test_exists_is_one_head(storage: Any, count_requests: Any) -> None:
    storage.save("a.txt", ContentFile(b"x"))
    log = count_requests(storage)
    assert storage.exists("a.txt")
    assert not storage.exists("missing.txt")
    assert log.operations == ["HeadObject", "HeadObject"]


def test_size_is_one_head(storage: Any, count_requests: Any) -> None:
    storage.save("a.txt", ContentFile(b"12345"))
    log = count_requests(storage)
    assert storage.size("a.txt") == 5
    assert log.operations == ["HeadObject"]


def test_modified_time_is_one_head(storage: Any, count_requests: Any) -> None:
    storage.save("a.txt", ContentFile(b"12345"))
    log = count_requests(storage)
    storage.get_modified_time("a.txt")
    assert log.operations == ["HeadObject"]


def test_save_of_100_kb_is_one_put(storage: Any, count_requests: Any) -> None:
    log = count_requests(storage)
    storage.save("big.bin", ContentFile(b"x" * 100_000))
    assert log.operations == ["PutObject"]


def test_small_read_is_one_get_and_no_head(storage: Any, count_requests: Any) -> None:
    storage.save("a.txt", ContentFile(b"small"))
    log = count_requests(storage)
    with storage.open("a.txt") as f:
        assert f.read() == b"small"
        assert f.size == 5  # from the GET's Content-Length
    assert log.operations == ["GetObject"]


def test_partial_read_of_a_large_object_does_not_download_it(storage: Any, count_requests: Any) -> None:
    storage.save("large.bin", ContentFile(b"y" * (12 * 1024 * 1024)))
    log = count_requests(storage)
    with storage.open("large.bin") as f:
        assert f.read(10) == b"y" * 10
    assert log.operations == ["GetObject"]
    assert "Range" not in log.requests[0].headers


def test_seek_reads_a_range(storage: Any, count_requests: Any) -> None:
    storage.save("a.txt", ContentFile(b"0123456789"))
    with storage.open("a.txt") as f:
        log = count_requests(storage)
        f.seek(7)
        assert f.read() == b"789"
    assert log.operations == ["GetObject"]
    assert log.requests[0].headers["Range"] == "bytes=7-"


def test_small_write_through_open_is_one_put(storage: Any, count_requests: Any) -> None:
    log = count_requests(storage)
    with storage.open("w.txt", "wb") as f:
        f.write(b"tiny")
    assert log.operations == ["PutObject"]


def test_listdir_of_2500_keys_is_three_requests(
    storage: Any, count_requests: Any, raw: Any, bucket_name: str
) -> None:
    def put_every_eighth(first: int) -> None:  # eight threads: one at a time took 25 s on moto
        for index in range(first, 2500, 8):
            raw.put_object(Bucket=bucket_name, Key=f"many/f{index:05d}", Body=b"")

    run_threads(put_every_eighth, count=8)
    log = count_requests(storage)
    dirs, files = storage.listdir("many")
    assert dirs == []
    assert len(files) == 2500
    assert log.operations == ["ListObjectsV2"] * 3


def test_url_makes_no_request(make_storage: Make, count_requests: Any) -> None:
    signed = make_storage()
    unsigned = make_storage(querystring_auth=False)
    log = count_requests(signed)
    signed.url("a.txt")
    unsigned.url("a.txt")
    assert len(log) == 0


def test_construction_and_unsigned_urls_create_no_client(make_storage: Make) -> None:
    storage = make_storage(querystring_auth=False)
    storage.url("a.txt")
    custom = make_storage(custom_domain="cdn.example.com")
    custom.url("a.txt")
    assert storage._client is None
    assert custom._client is None


def test_delete_is_one_request(storage: Any, count_requests: Any) -> None:
    storage.save("a.txt", ContentFile(b"x"))
    log = count_requests(storage)
    storage.delete("a.txt")
    storage.delete("a.txt")  # missing: silent
    assert log.operations == ["DeleteObject", "DeleteObject"]
