"""``LibCloudFile``: the file object returned by ``LibCloudStorage.open()``.

Reads stream the driver's ``download_object_as_stream`` (a ranged download after a seek), so
memory holds one chunk whatever the object's size, and a missing object raises
:class:`FileNotFoundError` from ``open()``. Writes are pull style: the driver's
``upload_object_via_stream`` reads the data as it is written (core's part pipe keeps at most
two parts waiting), and an aborted write makes that read raise, so the driver never finishes:

* S3 and S3-compatible drivers upload a multipart upload that libcloud aborts when the stream
  raises; nothing appears under the name.
* Azure Blobs uploads blocks that are committed only after the stream ended; uncommitted
  blocks are never visible (Azure discards them at the next commit of the name, or after seven
  days; they cannot be deleted safely: see the docs).
* LOCAL writes in place and, with locking off, swallows the stream's error (libcloud's
  ``NoOpLockLocalStorage.__exit__`` returns the exception, which suppresses it). So the local
  upload goes to a hidden temporary name at the top of the container, is checked to have
  ended, and only then is renamed over the name (``os.replace``, atomic); an abort deletes the
  temporary file.

A file that fits in one part is one request: it is handed to the driver's ``upload_object``
from a temporary file (a single ``PUT``), not through a multipart upload.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
import uuid
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, Any

from libcloud.storage.types import Provider

from storages.files import StreamingFile

if TYPE_CHECKING:
    from storages.backends.apache_libcloud._storage import LibCloudStorage

__all__ = ["TEMPORARY_PREFIX", "LibCloudFile"]

#: Name prefix of the LOCAL driver's in-progress uploads (hidden from ``listdir``).
TEMPORARY_PREFIX = ".storages-upload-"

_READ_CHUNK = 1024 * 1024


class _ChunkReader(io.RawIOBase):
    """A readable stream over the driver's iterator of byte chunks."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._pending = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        while not self._pending:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._pending = memoryview(chunk)
        count = min(len(view), len(self._pending))
        view[:count] = self._pending[:count]
        self._pending = self._pending[count:]
        return count

    def close(self) -> None:
        close = getattr(self._chunks, "close", None)
        if close is not None:
            close()
        self._pending = memoryview(b"")
        super().close()


class _StreamChunks:
    """Iterates ``stream`` in chunks for the driver, remembering whether it reached the end.

    A driver that swallows the stream's error (LOCAL, see the module) would otherwise report
    an aborted upload as a finished one.
    """

    def __init__(self, stream: IO[bytes], chunk_size: int = _READ_CHUNK) -> None:
        self._stream = stream
        self._chunk_size = chunk_size
        self.ended = False
        self.consumed = False
        self.error: BaseException | None = None

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        self.consumed = True
        try:
            data = self._stream.read(self._chunk_size)
        except BaseException as exc:
            self.error = exc
            raise
        if not data:
            self.ended = True
            raise StopIteration
        return bytes(data)

    def check(self) -> None:
        """Raise the stream's error, or refuse a stream the driver stopped reading early."""
        if self.error is not None:
            raise self.error
        if not self.ended:
            raise RuntimeError("The libcloud driver returned before reading the whole upload.")


class LibCloudFile(StreamingFile):
    """A streaming file in a libcloud container. ``key`` is the object name with the location."""

    storage: LibCloudStorage

    #: Bytes handed to the upload at a time, and the largest file sent in one request.
    part_size = 5 * 1024 * 1024

    def __init__(self, name: str, mode: str, storage: LibCloudStorage, key: str | None = None) -> None:
        self._temporary_key: str | None = None
        super().__init__(name, mode, storage, key=key)

    # -- reading --------------------------------------------------------------------------

    def _open_stream(self, offset: int) -> IO[bytes]:
        storage = self.storage
        if storage.is_local:
            return self._open_local(offset)
        if offset and self._size is not None and offset >= self._size:
            return io.BytesIO(b"")
        driver = storage.driver
        obj = storage._object(self.key, driver)
        with storage._translate_missing(self.name or ""):
            if offset:
                try:
                    chunks = driver.download_object_range_as_stream(obj, offset, chunk_size=self.chunk_size)
                except storage.LibcloudError as exc:
                    if "416" in str(exc):  # a range at or past the end: nothing to read
                        return io.BytesIO(b"")
                    raise
            else:
                chunks = driver.download_object_as_stream(obj, chunk_size=self.chunk_size)
        return io.BufferedReader(_ChunkReader(iter(chunks)), buffer_size=self.chunk_size)

    def _open_local(self, offset: int) -> IO[bytes]:
        path = self.storage._local_path(self.key)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"File does not exist: {self.name}")
        self._size = os.stat(path).st_size
        if not offset:
            driver = self.storage.driver
            chunks = driver.download_object_as_stream(self.storage._object(self.key, driver), self.chunk_size)
            return io.BufferedReader(_ChunkReader(iter(chunks)), buffer_size=self.chunk_size)
        # libcloud's LOCAL range download reads the whole file into memory: seek instead.
        stream = open(path, "rb")  # noqa: SIM115 - closed by the reader
        stream.seek(offset)
        return stream

    # -- writing --------------------------------------------------------------------------

    def _upload_stream(self, stream: IO[bytes]) -> None:
        storage = self.storage
        driver = storage.driver
        container = storage._container(driver)
        if storage.is_local:
            self._upload_local(stream, driver, container)
        elif isinstance(stream, io.BytesIO) and not (
            storage._entry.provider == Provider.AZURE_BLOBS and not stream.getbuffer().nbytes
        ):
            # Smaller than one part (core hands it over whole): one PUT, no multipart upload.
            # (Not an empty blob on Azure: libcloud's single PUT of 0 bytes is refused with 400;
            # an empty block list below is one request too.)
            with tempfile.NamedTemporaryFile(prefix="storages-libcloud-") as spool:
                spool.write(stream.getbuffer())
                spool.flush()
                driver.upload_object(spool.name, container, self.key)
        else:
            chunks = _StreamChunks(stream)
            driver.upload_object_via_stream(chunks, container, self.key)
            chunks.check()

    def _upload_local(self, stream: IO[bytes], driver: Any, container: Any) -> None:
        # The temporary file lives at the container's top (never pruned), so a delete that
        # removes the target's folder meanwhile cannot make the driver's open() fail (which it
        # would swallow, see the module); the folder is created when the file moves in.
        self._temporary_key = f"{TEMPORARY_PREFIX}{uuid.uuid4().hex}"
        chunks = _StreamChunks(stream)
        driver.upload_object_via_stream(chunks, container, self._temporary_key)
        chunks.check()
        self.storage._move_local(self._temporary_key, self.key)
        self._temporary_key = None

    def _abort(self) -> None:
        temporary, self._temporary_key = self._temporary_key, None
        if temporary is not None:
            with contextlib.suppress(FileNotFoundError):
                os.remove(self.storage._local_path(temporary))
