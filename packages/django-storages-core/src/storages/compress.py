"""Streaming gzip for uploads and downloads.

:class:`GzipCompressionWrapper` compresses a readable file as it is read, holding at most one
read's worth of input and output in memory. Its output is deterministic: the gzip header
carries no timestamp and no file name, so the same input always gives the same bytes (and the
same ETag or checksum on the server).
"""

from __future__ import annotations

import gzip
import io
import mimetypes
import zlib
from typing import IO, Any, Protocol

from storages.utils import to_bytes

__all__ = [
    "CompressStorageMixin",
    "CompressedFileMixin",
    "GzipCompressionWrapper",
    "SkipReader",
    "guess_content_type",
    "is_gzip_archive_name",
    "should_gzip",
]

# Names whose bytes are already a compressed archive: never gzip them again, and never
# label them ``Content-Encoding: gzip`` (browsers would unpack the download).
_ARCHIVE_SUFFIXES = (".gz", ".tgz", ".gzip", ".bz2", ".xz", ".zip", ".br", ".zst", ".7z")


class Readable(Protocol):
    """Anything with ``read(size)``: a file, an upload, a ``ReadBytesWrapper``."""

    def read(self, size: int, /) -> Any: ...


class GzipCompressionWrapper(io.RawIOBase):
    """A readable stream of the gzip-compressed bytes of ``raw``."""

    def __init__(self, raw: Readable, level: int = zlib.Z_BEST_COMPRESSION) -> None:
        super().__init__()
        self._raw = raw
        # wbits=31 selects the gzip container; zlib writes mtime 0 and no name, so the output
        # depends on the input bytes only.
        self._compressor = zlib.compressobj(level=level, wbits=31)
        self._pending = bytearray()
        self._finished = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        size = len(view)
        while len(self._pending) < size and not self._finished:
            chunk = self._raw.read(size)
            if chunk:
                self._pending += self._compressor.compress(to_bytes(chunk))
            else:
                self._pending += self._compressor.flush(zlib.Z_FINISH)
                self._finished = True
        count = min(size, len(self._pending))
        view[:count] = self._pending[:count]
        del self._pending[:count]
        return count


# Content types for names of compressed archives: their bytes are stored and served as they
# are, so the type describes the archive and no ``Content-Encoding`` is set (#917, #451).
_ARCHIVE_TYPES = {
    "gzip": "application/gzip",
    "bzip2": "application/x-bzip2",
    "xz": "application/x-xz",
    "br": "application/x-brotli",
    "compress": "application/x-compress",
}

# Encodings that browsers decode; a file of a web type so encoded is served decoded.
_WEB_ENCODINGS = frozenset({"gzip", "br", "deflate"})
_WEB_APPLICATION_TYPES = frozenset(
    {
        "application/javascript",
        "application/json",
        "application/xml",
        "application/wasm",
        "application/manifest+json",
    }
)


def guess_content_type(name: str, default: str = "application/octet-stream") -> tuple[str, str | None]:
    """The content type and ``Content-Encoding`` to store ``name`` with, from its name.

    A web file stored compressed (``.svgz``, ``.js.gz``, ``.css.br``) keeps its type and its
    encoding, so that browsers decode it, as django-storages 1.x did. An archive (``.tar.gz``,
    ``.sql.gz``, ``.bz2``, ``.xz``) gets its archive type and no encoding: its bytes are
    downloaded as they are (1.x labelled them ``Content-Encoding: gzip`` and browsers unpacked
    the download).
    """
    guessed, encoding = mimetypes.guess_type(name)
    if encoding is None:
        return guessed or default, None
    if (
        guessed
        and encoding in _WEB_ENCODINGS
        and (guessed.startswith(("text/", "image/", "font/")) or guessed in _WEB_APPLICATION_TYPES)
    ):
        return guessed, encoding
    return _ARCHIVE_TYPES.get(encoding, "application/octet-stream"), None


def is_gzip_archive_name(name: str) -> bool:
    """True for names of files that are already compressed archives (``.gz``, ``.zip`` ...)."""
    return name.lower().endswith(_ARCHIVE_SUFFIXES)


def should_gzip(name: str, content_type: str, gzip_content_types: Any, params: dict[str, Any]) -> bool:
    """Whether an upload should be gzipped on the way: the type asks for it, the name is not
    an archive already, and no ``ContentEncoding`` was set explicitly."""
    if params.get("ContentEncoding") or params.get("content_encoding"):
        return False
    if is_gzip_archive_name(name):
        return False
    return content_type in tuple(gzip_content_types)


class CompressStorageMixin:
    """Gives a storage ``_compress_content``: the streaming gzip of an upload."""

    def _compress_content(self, content: Readable) -> GzipCompressionWrapper:
        return GzipCompressionWrapper(content)


class CompressedFileMixin:
    """Gives a file ``_decompress_file``: a gzip reader over a stored compressed stream."""

    def _decompress_file(self, mode: str, file: IO[bytes], mtime: float = 0.0) -> gzip.GzipFile:
        return gzip.GzipFile(mode=mode, fileobj=file, mtime=mtime)


class SkipReader(io.RawIOBase):
    """Reads ``stream`` after discarding its first ``skip`` bytes.

    For a position in decoded data that the server cannot seek to: a gzip-encoded object read
    decoded after a ``seek()`` is read from its start and the decoded bytes before the position
    are dropped, a chunk at a time.
    """

    def __init__(self, stream: IO[bytes], skip: int) -> None:
        self._stream = stream
        self._skip = skip

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while self._skip:
            dropped = self._stream.read(min(self._skip, 1024 * 1024))
            if not dropped:
                self._skip = 0
                break
            self._skip -= len(dropped)
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._stream.close()
        super().close()
