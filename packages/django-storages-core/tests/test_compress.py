"""Streaming gzip: deterministic, decompressible, bounded memory."""

from __future__ import annotations

import gzip
import io
import tracemalloc

import pytest

from storages.compress import GzipCompressionWrapper, guess_content_type, is_gzip_archive_name, should_gzip


class Endless(io.RawIOBase):
    """``size`` bytes of a repeating pattern, produced on demand."""

    def __init__(self, size: int) -> None:
        self.remaining = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        count = min(len(buffer), self.remaining)
        buffer[:count] = (b"storages " * (count // 9 + 1))[:count]
        self.remaining -= count
        return count


def test_round_trip() -> None:
    data = b"hello " * 10000
    assert gzip.decompress(GzipCompressionWrapper(io.BytesIO(data)).read()) == data


def test_output_is_deterministic() -> None:
    data = b"same input" * 1000
    first = GzipCompressionWrapper(io.BytesIO(data)).read()
    second = GzipCompressionWrapper(io.BytesIO(data)).read()
    assert first == second
    assert first[4:8] == b"\x00\x00\x00\x00"  # no timestamp in the header


def test_text_input_is_encoded() -> None:
    assert gzip.decompress(GzipCompressionWrapper(io.StringIO("é" * 10)).read()) == ("é" * 10).encode()


def test_memory_stays_bounded_for_large_input() -> None:
    size = 64 * 1024 * 1024
    wrapper = GzipCompressionWrapper(Endless(size))
    tracemalloc.start()
    total = 0
    while chunk := wrapper.read(64 * 1024):
        total += len(chunk)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert total > 0
    assert peak < 4 * 1024 * 1024


def test_archives_are_never_gzipped_again() -> None:
    types = ("text/css", "application/x-tar", "application/gzip")
    assert is_gzip_archive_name("backup.tar.gz")
    assert not should_gzip("backup.tar.gz", "application/x-tar", types, {})
    assert should_gzip("site.css", "text/css", types, {})
    assert not should_gzip("site.css", "text/css", types, {"ContentEncoding": "br"})
    assert not should_gzip("image.png", "image/png", types, {})


def test_compatibility_mixins_of_the_original_module() -> None:
    from storages.compress import CompressedFileMixin, CompressStorageMixin

    compressed = CompressStorageMixin()._compress_content(io.BytesIO(b"mixin data")).read()
    with CompressedFileMixin()._decompress_file("rb", io.BytesIO(compressed)) as unpacked:
        assert unpacked.read() == b"mixin data"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("photo.jpg", ("image/jpeg", None)),
        ("unknown.zzz", ("application/x-default", None)),
        ("icon.svgz", ("image/svg+xml", "gzip")),
        ("app.js.gz", ("text/javascript", "gzip")),
        ("site.css.br", ("text/css", "br")),
        ("data.json.gz", ("application/json", "gzip")),
        ("backup.tar.gz", ("application/gzip", None)),
        ("dump.sql.gz", ("application/gzip", None)),
        ("logs.tar.bz2", ("application/x-bzip2", None)),
        ("image.tar.xz", ("application/x-xz", None)),
        ("bundle.tgz", ("application/gzip", None)),
    ],
)
def test_guess_content_type_keeps_web_encodings_and_labels_archives(
    name: str, expected: tuple[str, str | None]
) -> None:
    assert guess_content_type(name, "application/x-default") == expected
