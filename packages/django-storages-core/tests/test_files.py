"""The streaming file base class, through the in-memory provider of these tests."""

from __future__ import annotations

import io
import uuid

import pytest
from django.core.files.base import ContentFile
from memory_provider import MemoryStorage

from storages.files import StreamingFile, parse_mode


@pytest.fixture
def storage() -> MemoryStorage:
    return MemoryStorage(bucket_name=f"files-{uuid.uuid4().hex}", location="media")


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("r", (False, False)),
        ("rb", (False, True)),
        ("w", (True, False)),
        ("wb", (True, True)),
        ("bw", (True, True)),
    ],
)
def test_parse_mode(mode: str, expected: tuple[bool, bool]) -> None:
    assert parse_mode(mode) == expected


@pytest.mark.parametrize("mode", ["a", "ab", "r+", "w+", "rw", "x", "", "rt+"])
def test_unsupported_modes_raise_value_error(mode: str) -> None:
    with pytest.raises(ValueError, match="Unsupported file mode"):
        parse_mode(mode)


def test_small_write_is_one_commit_without_parts(storage: MemoryStorage) -> None:
    with storage.open("a.txt", "wb") as f:
        f.write(b"small")
    assert [c[0] for c in storage.calls] == ["commit"]


def test_large_write_sends_bounded_parts(storage: MemoryStorage) -> None:
    part = MemoryStorage.file_class.part_size
    with storage.open("big.bin", "wb") as f:
        for _ in range(10):
            f.write(b"x" * (part // 3 + 7))
    kinds = [c for c in storage.calls if c[0] == "part"]
    assert kinds and all(size == part for _, _, size in kinds)
    assert storage.objects["media/big.bin"][0] == b"x" * (10 * (part // 3 + 7))


def test_exception_in_with_block_aborts_and_publishes_nothing(storage: MemoryStorage) -> None:
    with pytest.raises(RuntimeError), storage.open("a.txt", "wb") as f:
        f.write(b"x" * (MemoryStorage.file_class.part_size * 2 + 1))
        raise RuntimeError("boom")
    assert "media/a.txt" not in storage.objects
    assert storage.calls[-1][0] == "abort"
    assert "commit" not in [c[0] for c in storage.calls]


def test_failed_commit_aborts_and_reraises(storage: MemoryStorage) -> None:
    storage.fail_commit = True
    f = storage.open("a.txt", "wb")
    f.write(b"data")
    with pytest.raises(ConnectionError):
        f.close()
    assert storage.calls[-1][0] == "abort"
    assert f.closed
    assert "media/a.txt" not in storage.objects


def test_open_for_read_asks_once_and_missing_file_raises_at_open(storage: MemoryStorage) -> None:
    with pytest.raises(FileNotFoundError):
        storage.open("missing.txt")
    storage.save("x.txt", ContentFile(b"abc"))
    storage.calls.clear()
    with storage.open("x.txt") as f:
        assert f.read() == b"abc"
        assert f.size == 3
    assert [c[0] for c in storage.calls] == ["get"]


def test_seek_reopens_stream_at_offset(storage: MemoryStorage) -> None:
    storage.save("x.txt", ContentFile(b"0123456789"))
    storage.calls.clear()
    with storage.open("x.txt") as f:
        f.seek(7)
        assert f.read() == b"789"
    assert storage.calls == [("get", "media/x.txt", 0), ("get", "media/x.txt", 7)]


def test_text_mode_reads_and_writes_utf8(storage: MemoryStorage) -> None:
    with storage.open("t.txt", "w") as f:
        f.write("é\n")
        f.write(b"raw bytes too\n")
    assert storage.objects["media/t.txt"][0] == "é\nraw bytes too\n".encode()
    with storage.open("t.txt", "r") as f:
        assert f.readlines() == ["é\n", "raw bytes too\n"]


def test_wrong_direction_raises(storage: MemoryStorage) -> None:
    storage.save("x.txt", ContentFile(b"abc"))
    with storage.open("x.txt", "rb") as f, pytest.raises(io.UnsupportedOperation):
        f.write(b"no")
    with storage.open("y.txt", "wb") as f, pytest.raises(io.UnsupportedOperation):
        f.read()


def test_closed_file_refuses_io_and_can_reopen(storage: MemoryStorage) -> None:
    storage.save("x.txt", ContentFile(b"abc"))
    f = storage.open("x.txt", "rb")
    f.close()
    assert f.closed
    with pytest.raises(ValueError):
        f.read()
    with f.open():
        assert f.read() == b"abc"
    with pytest.raises(ValueError, match="new mode"):
        f.open("wb")


def test_empty_write_creates_empty_file(storage: MemoryStorage) -> None:
    with storage.open("empty.txt", "wb") as f:
        f.write(b"")
    assert storage.objects["media/empty.txt"][0] == b""


def test_file_never_written_publishes_nothing(storage: MemoryStorage) -> None:
    with storage.open("untouched.txt", "wb"):
        pass
    assert "media/untouched.txt" not in storage.objects
    assert [c[0] for c in storage.calls] == []


def test_file_reports_name_mode_and_size(storage: MemoryStorage) -> None:
    with storage.open("n.txt", "wb") as f:
        assert isinstance(f, StreamingFile)
        f.write(b"1234")
        assert (f.name, f.mode, f.size) == ("n.txt", "wb", 4)
        assert f.writable() and not f.readable()


def test_unclosed_file_warns_and_never_closes_its_stream_in_the_collector(storage: MemoryStorage) -> None:
    import gc
    import threading
    import warnings

    storage.save("x.txt", ContentFile(b"abc"))
    closed_by: list[str] = []
    closed = threading.Event()

    class Stream(io.BytesIO):
        def close(self) -> None:
            closed_by.append(threading.current_thread().name)
            closed.set()
            super().close()

    f = storage.open("x.txt")
    f._reader._stream = Stream(b"abc")  # type: ignore[union-attr]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        del f
        gc.collect()
    assert closed.wait(5)
    assert closed_by == ["storages-close-unclosed-file"]
    assert any(issubclass(w.category, ResourceWarning) for w in caught)
