"""Behaviour through each real driver: aborted uploads, request counts, listing, URLs, stalls."""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import os
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.test import override_settings
from libcloud.storage.base import Container

from shared.testservers.proxy import cuttable_proxy
from storages.backends.apache_libcloud import LibCloudFile
from storages.backends.apache_libcloud._files import TEMPORARY_PREFIX
from storages.testing import run_threads

MiB = 1024 * 1024


class Interrupted(Exception):
    pass


@pytest.fixture(params=["local", "s3", "azure"])
def driver_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def storage(driver_name: str, request: pytest.FixtureRequest, make_storage: Callable[..., Any]) -> Any:
    entry = request.getfixturevalue(f"{driver_name}_entry")
    return make_storage(entry)


@pytest.fixture
def s3_storage(make_storage: Callable[..., Any], s3_entry: dict[str, Any]) -> Any:
    return make_storage(s3_entry)


@dataclass
class Requests:
    """The requests one driver sends: (method, action, params)."""

    sent: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    @property
    def methods(self) -> list[str]:
        return [method for method, _action, _params in self.sent]

    def __len__(self) -> int:
        return len(self.sent)


def count(storage: Any) -> Requests:
    """Record the requests of ``storage``'s driver on this thread."""
    log = Requests()
    connection = storage.driver.connection
    original = connection.request

    def request(
        action: str, params: Any = None, data: Any = None, headers: Any = None, method: str = "GET", **kw: Any
    ) -> Any:
        log.sent.append((method, action, dict(params or {})))
        return original(action, params=params, data=data, headers=headers, method=method, **kw)

    connection.request = request
    return log


def pattern(size: int) -> Iterator[bytes]:
    block = hashlib.sha256(b"libcloud").digest() * (MiB // 32)
    for start in range(0, size, MiB):
        yield block[: min(MiB, size - start)]


# -- aborted uploads publish nothing, on every driver --------------------------------------------


def test_aborted_large_upload_publishes_nothing(storage: Any, driver_name: str) -> None:
    name = "aborted/big.bin"
    with pytest.raises(Interrupted), storage.open(name, "wb") as f:
        for chunk in pattern(3 * LibCloudFile.part_size + 100):
            f.write(chunk)
        raise Interrupted
    assert not storage.exists(name)
    assert storage.listdir("aborted") == ([], [])
    assert storage.listdir("") == ([], [])


def test_aborted_overwrite_keeps_the_previous_object(storage: Any) -> None:
    name = "kept.bin"
    storage.save(name, ContentFile(b"previous"))
    with pytest.raises(Interrupted), storage.open(name, "wb") as f:
        for chunk in pattern(2 * LibCloudFile.part_size + 100):
            f.write(chunk)
        raise Interrupted
    with storage.open(name, "rb") as f:
        assert f.read() == b"previous"


def test_aborted_stream_on_the_s3_driver_aborts_its_multipart_upload(
    s3_storage: Any, s3_entry: dict[str, Any]
) -> None:
    # The upload runs on a worker thread with a driver of its own: record that driver's requests.
    logs: list[Requests] = []
    original = LibCloudFile._upload_stream

    def upload(self: LibCloudFile, stream: Any) -> None:
        logs.append(count(self.storage))
        original(self, stream)

    LibCloudFile._upload_stream = upload  # type: ignore[method-assign]
    try:
        with pytest.raises(Interrupted), s3_storage.open("multipart.bin", "wb") as f:
            for chunk in pattern(2 * LibCloudFile.part_size + 100):
                f.write(chunk)
            raise Interrupted
    finally:
        LibCloudFile._upload_stream = original  # type: ignore[method-assign]
    sent = logs[0].sent
    assert sent[0][0] == "POST" and "uploads" in sent[0][2]  # initiated
    assert sent[-1][0] == "DELETE" and "uploadId" in sent[-1][2]  # and aborted, never completed
    assert not any(method == "POST" and "uploadId" in params for method, _a, params in sent)
    driver = s3_storage.driver
    assert list(driver.ex_iterate_multipart_uploads(Container(s3_entry["bucket"], {}, driver))) == []
    assert not s3_storage.exists("multipart.bin")


def test_aborted_azure_upload_leaves_only_invisible_uncommitted_blocks(
    make_storage: Callable[..., Any], azure_entry: dict[str, Any]
) -> None:
    import xml.etree.ElementTree as ET

    storage = make_storage(azure_entry)
    with pytest.raises(Interrupted), storage.open("blocks.bin", "wb") as f:
        for chunk in pattern(4 * LibCloudFile.part_size):
            f.write(chunk)
        raise Interrupted
    assert not storage.exists("blocks.bin")
    assert storage.listdir("") == ([], [])
    with pytest.raises(FileNotFoundError):
        storage.open("blocks.bin", "rb")
    # What is left is a blob with uncommitted blocks only: listed with include=uncommittedblobs.
    driver = storage.driver
    params = {"restype": "container", "comp": "list", "include": "uncommittedblobs"}
    body = driver.connection.request(f"/{azure_entry['bucket']}", params=params).body
    names = [n.text for n in ET.fromstring(body).iter("Name")]  # noqa: S314 - Azurite's answer
    assert names in ([], ["blocks.bin"])


def test_libcloud_local_driver_swallows_the_stream_error(local_entry: dict[str, Any]) -> None:
    """Why LOCAL uploads go to a temporary name and are checked: the driver itself, with
    locking off, reports an upload whose stream raised as a success (the object is there)."""
    from libcloud.storage.drivers.local import LocalStorageDriver

    driver = LocalStorageDriver(local_entry["user"], ex_use_locking=False)

    def failing() -> Iterator[bytes]:
        yield b"half"
        raise Interrupted

    container = Container(local_entry["bucket"], {}, driver)
    driver.upload_object_via_stream(failing(), container, "swallowed.bin")  # no exception
    assert driver.get_object(local_entry["bucket"], "swallowed.bin").size == 4


def test_local_upload_in_progress_is_hidden_and_removed(
    make_storage: Callable[..., Any], local_entry: dict[str, Any]
) -> None:
    storage = make_storage(local_entry)
    container = Path(local_entry["user"]) / local_entry["bucket"]
    f = storage.open("uploads/file.bin", "wb")
    for chunk in pattern(2 * LibCloudFile.part_size):
        f.write(chunk)
    deadline = time.monotonic() + 10
    while not list(container.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.01)  # the upload thread creates its temporary file
    temporary = [p.name for p in container.iterdir()]
    assert len(temporary) == 1 and temporary[0].startswith(TEMPORARY_PREFIX)
    assert storage.listdir("") == ([], [])
    assert not storage.exists("uploads/file.bin")
    f.close()
    assert [p.name for p in container.iterdir()] == ["uploads"]
    assert storage.size("uploads/file.bin") == 2 * LibCloudFile.part_size


# -- reads -------------------------------------------------------------------------------------


def test_download_streams_in_chunks(storage: Any) -> None:
    size = 3 * LibCloudFile.part_size + 7
    storage.save("big.bin", ContentFile(b"".join(pattern(size))))
    reads: list[int] = []
    with storage.open("big.bin", "rb") as f:
        raw = f._reader._stream  # type: ignore[union-attr]
        read = raw.read

        def spy(n: int = -1) -> bytes:
            data = read(n)
            reads.append(len(data))
            return data

        raw.read = spy
        digest = hashlib.sha256()
        while chunk := f.read(MiB):
            digest.update(chunk)
    assert digest.hexdigest() == hashlib.sha256(b"".join(pattern(size))).hexdigest()
    assert max(reads) <= LibCloudFile.chunk_size
    assert len(reads) > 3


def test_empty_object_reads_as_empty(storage: Any) -> None:
    storage.save("empty.txt", ContentFile(b""))
    with storage.open("empty.txt", "rb") as f:
        assert f.read() == b""
        assert f.read(10) == b""
    with storage.open("empty.txt", "r") as f:
        assert list(f) == []


def test_read_after_seek_to_the_end_is_empty(storage: Any) -> None:
    storage.save("ten.bin", ContentFile(b"0123456789"))
    with storage.open("ten.bin", "rb") as f:
        f.seek(0, os.SEEK_END)
        assert f.read() == b""
        f.seek(4)
        assert f.read() == b"456789"


# -- listing ------------------------------------------------------------------------------------


def test_listdir_nested_folders_and_folder_markers(storage: Any, driver_name: str) -> None:
    for name in ("top.txt", "a/one.txt", "a/b/two.txt", "a/b/c/three.txt", "d/four.txt"):
        storage.save(name, ContentFile(b"x"))
    assert sorted(storage.listdir("")[0]) == ["a", "d"]
    assert storage.listdir("")[1] == ["top.txt"]
    assert storage.listdir("a") == (["b"], ["one.txt"])
    assert storage.listdir("a/b/") == (["c"], ["two.txt"])
    assert storage.listdir("a/b/c") == ([], ["three.txt"])
    assert storage.listdir("missing") == ([], [])


def test_listdir_lists_by_prefix_on_the_server(s3_storage: Any) -> None:
    for name in ("a/1.txt", "a/2.txt", "b/3.txt"):
        s3_storage.save(name, ContentFile(b"x"))
    log = count(s3_storage)
    assert s3_storage.listdir("a") == ([], ["1.txt", "2.txt"])
    assert len(log) == 1
    assert log.sent[0][2].get("prefix") == "a/"


def test_google_folder_markers_are_folders(s3_storage: Any, s3_entry: dict[str, Any]) -> None:
    driver = s3_storage.driver
    driver.upload_object_via_stream(iter([b""]), Container(s3_entry["bucket"], {}, driver), "photos_$folder$")
    s3_storage.save("photos/a.jpg", ContentFile(b"x"))
    assert s3_storage.listdir("") == (["photos"], [])


# -- request counts ----------------------------------------------------------------------------


@pytest.mark.parametrize("driver_name", ["s3", "azure"])
def test_one_request_each(storage: Any) -> None:
    storage.save("counted.txt", ContentFile(b"small"))
    for call in (
        lambda: storage.exists("counted.txt"),
        lambda: storage.exists("absent.txt"),
        lambda: storage.size("counted.txt"),
        lambda: storage.get_modified_time("counted.txt"),
        lambda: storage.listdir(""),
    ):
        log = count(storage)
        call()
        assert len(log) == 1, log.sent
    log = count(storage)
    with storage.open("counted.txt", "rb") as f:
        assert f.read() == b"small"
    assert log.methods == ["GET"]  # no HEAD first
    log = count(storage)
    storage.delete("counted.txt")
    assert log.methods == ["DELETE"]


@pytest.mark.parametrize("driver_name", ["s3", "azure"])
def test_small_save_is_one_upload_request(
    driver_name: str, request: pytest.FixtureRequest, make_storage: Callable[..., Any]
) -> None:
    entry = request.getfixturevalue(f"{driver_name}_entry")
    overwriting = make_storage(entry, file_overwrite=True)
    log = count(overwriting)
    overwriting.save("one.txt", ContentFile(b"one request"))
    assert log.methods == ["PUT"]
    renaming = make_storage(entry)
    log = count(renaming)
    assert renaming.save("one.txt", ContentFile(b"two")) != "one.txt"
    assert log.methods == ["GET", "GET", "PUT"]  # the name is taken, the next is free, then the upload


@pytest.mark.parametrize("driver_name", ["s3", "azure"])
def test_url_makes_no_request(storage: Any) -> None:
    log = count(storage)
    url = storage.url("some folder/a b.txt")
    assert len(log) == 0
    assert "some%20folder/a%20b.txt" in url


def test_missing_object_raises_file_not_found(storage: Any) -> None:
    for call in (
        lambda: storage.open("nope.txt", "rb"),
        lambda: storage.size("nope.txt"),
        lambda: storage.get_modified_time("nope.txt"),
    ):
        with pytest.raises(FileNotFoundError):
            call()
    storage.delete("nope.txt")


@pytest.mark.parametrize("use_tz", [True, False])
def test_modified_time(storage: Any, use_tz: bool) -> None:
    storage.save("timed.txt", ContentFile(b"x"))
    with override_settings(USE_TZ=use_tz):
        modified = storage.get_modified_time("timed.txt")
    assert (modified.tzinfo is not None) is use_tz
    now = datetime.datetime.now(datetime.UTC) if use_tz else datetime.datetime.now()
    assert abs((now - modified).total_seconds()) < 120


def test_local_url_needs_base_url(make_storage: Callable[..., Any], local_entry: dict[str, Any]) -> None:
    from storages.exceptions import StorageConfigurationError

    with pytest.raises(StorageConfigurationError, match="base_url"):
        make_storage(local_entry).url("a.txt")
    storage = make_storage(local_entry, base_url="https://cdn.example.com/media/", location="up")
    assert storage.url("a b+c.txt") == "https://cdn.example.com/media/up/a%20b%2Bc.txt"


def test_fallback_urls_per_provider(make_storage: Callable[..., Any]) -> None:
    google = {
        "type": "libcloud.storage.types.Provider.GOOGLE_STORAGE",
        "user": "u",
        "key": "k",
        "bucket": "b",
    }
    assert make_storage(google).url("x y.txt") == "https://storage.googleapis.com/b/x%20y.txt"
    minio = {
        "type": "libcloud.storage.types.Provider.MINIO",
        "user": "u",
        "key": "k",
        "bucket": "b",
        "host": "files.example.com",
        "port": 9000,
        "secure": False,
    }
    assert make_storage(minio).url("x.txt") == "http://files.example.com:9000/b/x.txt"


# -- a stalled or unreachable server ------------------------------------------------------------


@contextlib.contextmanager
def through_proxy(entry: dict[str, Any]) -> Iterator[tuple[Any, dict[str, Any]]]:
    with cuttable_proxy(entry["port"]) as proxy:
        yield proxy, {**entry, "port": proxy.port}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("driver_name", ["s3", "azure"])
def test_stalled_server_raises_within_the_timeout(
    driver_name: str, request: pytest.FixtureRequest, make_storage: Callable[..., Any]
) -> None:
    entry = request.getfixturevalue(f"{driver_name}_entry")
    make_storage(entry).save("stall.bin", ContentFile(b"".join(pattern(48 * MiB))))
    with through_proxy(entry) as (proxy, proxied):
        storage = make_storage(proxied, timeout=2)
        f = storage.open("stall.bin", "rb")
        try:
            f.read(MiB)
            proxy.stall()
            started = time.monotonic()
            with pytest.raises(Exception) as caught:
                while f.read(MiB):
                    pass
            assert time.monotonic() - started < 2 + 2, caught.value
        finally:
            f.close()
        started = time.monotonic()
        with pytest.raises(Exception):
            storage.exists("stall.bin")
        assert time.monotonic() - started < 2 + 2
        proxy.resume()
        assert storage.exists("stall.bin")  # the same instance works again


@pytest.mark.timeout(60)
def test_stalled_upload_raises_and_publishes_nothing(
    make_storage: Callable[..., Any], s3_entry: dict[str, Any]
) -> None:
    with through_proxy(s3_entry) as (proxy, proxied):
        storage = make_storage(proxied, timeout=2)
        f = storage.open("stalled-upload.bin", "wb")
        started = 0.0
        try:
            f.write(b"".join(pattern(LibCloudFile.part_size)))
            proxy.stall()
            started = time.monotonic()
            with pytest.raises(Exception):
                for chunk in pattern(4 * LibCloudFile.part_size):
                    f.write(chunk)
                f.close()
        finally:
            f.abort()
        assert time.monotonic() - started < 2 + 2 + 2  # the part in flight, then the abort
    assert not make_storage(s3_entry).exists("stalled-upload.bin")


def test_unreachable_host_is_a_clear_error_without_the_key(
    make_storage: Callable[..., Any], s3_entry: dict[str, Any]
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    storage = make_storage({**s3_entry, "port": port}, timeout=2)
    with pytest.raises(Exception) as caught:
        storage.exists("x")
    assert "127.0.0.1" in str(caught.value) or "onnection" in type(caught.value).__name__
    assert s3_entry["key"] not in str(caught.value)


def test_sixteen_threads_share_one_storage(storage: Any) -> None:
    def work(index: int) -> None:
        for round_ in range(5):
            payload = f"{index}-{round_}".encode() * 100
            name = storage.save(f"threads/{index}.txt", ContentFile(payload))
            with storage.open(name, "rb") as f:
                assert f.read() == payload
            assert storage.exists(name)
            storage.listdir("threads")
            storage.delete(name)

    run_threads(work, timeout=120)
