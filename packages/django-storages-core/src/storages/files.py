"""The one streaming file object that every provider's ``open()`` returns.

:class:`StreamingFile` owns what is the same everywhere: mode parsing, UTF-8 text mode, lazy
connection, chunked and ranged reads, ``readline`` and iteration, ``seek``/``tell`` where the
provider can read ranges, part buffering for writes, and commit-on-close / abort-on-error.
A provider subclasses it and implements a handful of hooks:

reading
    :meth:`StreamingFile._open_stream` returns a binary stream of the object from an offset.
    It is called once when a read-mode file is opened (so a missing file raises
    :class:`FileNotFoundError` from ``open()``, and the same response then serves the reads)
    and again only after a ``seek`` elsewhere.

writing, push style (SDKs that take parts: S3 multipart, Azure blocks)
    :meth:`StreamingFile._write_part` receives full parts of :attr:`StreamingFile.part_size`
    bytes; :meth:`StreamingFile._commit` receives the remaining tail and publishes the file;
    :meth:`StreamingFile._abort` discards whatever was sent.

writing, pull style (SDKs that read a file object: ftplib, paramiko, libcloud, resumable uploads)
    :meth:`StreamingFile._upload_stream` receives a readable binary stream and uploads until it
    ends. A file that is closed before its first part fills is uploaded from memory on the
    calling thread; a larger one is uploaded on a worker thread that reads the parts as they
    are written (at most two parts wait in memory). The stream ends (EOF) only when the file is
    closed normally; when the write is aborted, the stream's ``read()`` raises
    :class:`UploadAborted` so that the SDK never finishes the upload, and :meth:`_abort` is
    called afterwards to remove what the provider left (a temporary file).

A failure is final: leaving a ``with`` block by an exception aborts, and so does any hook that
raises. After a hook failed, every ``write()`` and the ``close()`` raise
:class:`~storages.exceptions.StorageWriteError` (the first error is its ``__cause__``) and
nothing is published under the file's name, also when ``close()`` is called outside a ``with``
block (``try: ... finally: f.close()``).

Memory stays bounded by one part (writes) or one read chunk (reads) whatever the file size.
"""

from __future__ import annotations

import contextlib
import io
import logging
import queue
import threading
import warnings
from typing import IO, TYPE_CHECKING, Any, BinaryIO

from django.core.files.base import File

from storages.exceptions import StorageWriteError

if TYPE_CHECKING:
    from types import TracebackType

    from storages.base import BaseStorage

    _FileBase = File[Any]
else:
    _FileBase = File  # File is generic only in django-stubs

DEFAULT_CHUNK_SIZE = 1024 * 1024

logger = logging.getLogger("storages")


class UploadAborted(Exception):
    """Raised by the stream given to :meth:`StreamingFile._upload_stream` when the write is aborted.

    Deliberately not an ``OSError``: SDKs that retry I/O errors must not retry this one.
    """


def parse_mode(mode: str) -> tuple[bool, bool]:
    """``(writing, binary)`` for one of ``r``, ``rb``, ``w``, ``wb``; anything else is refused."""
    normalized = "".join(sorted(mode))
    table = {"r": (False, False), "br": (False, True), "w": (True, False), "bw": (True, True)}
    if normalized not in table:
        raise ValueError(f"Unsupported file mode {mode!r}: storages open files with 'r', 'rb', 'w' or 'wb'.")
    return table[normalized]


class _RangeReader(io.RawIOBase):
    """A raw, optionally seekable reader over a provider's ``_open_stream`` hook."""

    def __init__(self, owner: StreamingFile) -> None:
        self._owner = owner
        self._stream: IO[bytes] | None = None
        self._stream_pos = 0
        self._pos = 0
        #: Set by the owning file when it closes this reader itself (not the garbage collector).
        self.closing_explicitly = False

    def start(self) -> None:
        self._stream = self._owner._open_stream(0)
        self._stream_pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._owner.supports_seek

    def readinto(self, buffer: Any) -> int:
        if self._stream is None or self._stream_pos != self._pos:
            self._close_stream()
            self._stream = self._owner._open_stream(self._pos)
            self._stream_pos = self._pos
        view = memoryview(buffer).cast("B")
        data = self._stream.read(len(view))
        count = len(data)
        view[:count] = data
        self._pos += count
        self._stream_pos += count
        return count

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if not self._owner.supports_seek:
            raise io.UnsupportedOperation("This storage cannot seek in a file.")
        if whence == io.SEEK_SET:
            target = offset
        elif whence == io.SEEK_CUR:
            target = self._pos + offset
        elif whence == io.SEEK_END:
            target = self._owner.size + offset
        else:
            raise ValueError(f"Invalid whence {whence!r}")
        if target < 0:
            raise ValueError(f"Negative seek position {target}")
        self._pos = target
        return target

    def _close_stream(self) -> None:
        if self._stream is not None:
            stream, self._stream = self._stream, None
            stream.close()

    def close(self) -> None:
        if not self.closed:
            if self.closing_explicitly:
                self._close_stream()
            elif self._stream is not None:
                # Reached from a garbage-collected file that nobody closed. The collector can
                # run anywhere, also inside the provider's SDK while it holds a lock (paramiko's
                # channel lock, for one): closing the stream there can deadlock. Close it on a
                # helper thread instead.
                stream, self._stream = self._stream, None
                threading.Thread(
                    target=stream.close, name="storages-close-unclosed-file", daemon=True
                ).start()
        super().close()


class _PartPipe(io.RawIOBase):
    """The readable end of a pull-style upload: parts written by the file, read by the SDK.

    At most ``depth`` parts wait in the queue, so a writer faster than the upload blocks
    instead of filling memory. ``read(n)`` returns ``n`` bytes unless the stream ended: some
    SDKs take a short read for the end of the data (resumable uploads do).
    """

    def __init__(self, depth: int = 2) -> None:
        self._parts: queue.Queue[bytes | None] = queue.Queue(maxsize=depth)
        self._current = memoryview(b"")
        self._aborted = threading.Event()
        self.ended = False

    def readable(self) -> bool:
        return True

    def put(self, part: bytes | None, worker: threading.Thread) -> bool:
        """Queue ``part`` (``None``: the end); ``False`` when the reading worker is gone."""
        while True:
            try:
                self._parts.put(part, timeout=0.05)
                return True
            except queue.Full:
                if not worker.is_alive():
                    return False

    def abort(self) -> None:
        """Make the reader's next ``read()`` raise :class:`UploadAborted`."""
        self._aborted.set()
        # Wake a reader blocked on an empty queue; a full queue means it is not blocked.
        with contextlib.suppress(queue.Full):
            self._parts.put_nowait(None)

    def _next_part(self) -> bool:
        while not self._current:
            if self._aborted.is_set():
                raise UploadAborted("The write was aborted: the upload must not be completed.")
            if self.ended:
                return False
            part = self._parts.get()
            if self._aborted.is_set():
                raise UploadAborted("The write was aborted: the upload must not be completed.")
            if part is None:
                self.ended = True
                return False
            self._current = memoryview(part)
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        filled = 0
        while filled < len(view) and self._next_part():
            count = min(len(view) - filled, len(self._current))
            view[filled : filled + count] = self._current[:count]
            self._current = self._current[count:]
            filled += count
        return filled

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            chunks = []
            while self._next_part():
                chunks.append(bytes(self._current))
                self._current = memoryview(b"")
            return b"".join(chunks)
        buffer = bytearray(size)
        return bytes(buffer[: self.readinto(buffer)])


class _PartWriter(io.BufferedIOBase):
    """Collects writes into parts of ``part_size`` bytes and hands them to the owner."""

    def __init__(self, owner: StreamingFile) -> None:
        self._owner = owner
        self._buffer = bytearray()
        self.bytes_written = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        if self.closed:
            raise ValueError("I/O operation on closed file.")
        view = memoryview(data).cast("B")
        size = len(view)
        part_size = self._owner.part_size
        position = 0
        if self._buffer:
            position = min(size, part_size - len(self._buffer))
            self._buffer += view[:position]
            if len(self._buffer) == part_size:
                part, self._buffer = bytes(self._buffer), bytearray()
                self._owner._hand_part(part)
        # Whole parts straight from the caller's data: one copy each, no buffering.
        while size - position >= part_size:
            self._owner._hand_part(bytes(view[position : position + part_size]))
            position += part_size
        self._buffer += view[position:]
        self.bytes_written += size
        return size

    def tell(self) -> int:
        return self.bytes_written

    def take_tail(self) -> bytes:
        tail = bytes(self._buffer)
        self._buffer.clear()
        return tail


class StreamingFile(_FileBase):
    """Base class of every provider's file object.

    ``name`` is the storage name the user asked for (without the location prefix). Providers
    read ``self.storage`` and ``self.key`` (the normalised full key or path) in their hooks.
    """

    #: Bytes handed to :meth:`_write_part` at a time; also the most a write buffers in memory.
    part_size: int = 8 * 1024 * 1024
    #: Bytes requested from the provider stream per read.
    chunk_size: int = DEFAULT_CHUNK_SIZE
    #: Whether :meth:`_open_stream` accepts a non-zero offset (ranged reads).
    supports_seek: bool = True

    def __init__(self, name: str, mode: str, storage: BaseStorage, key: str | None = None) -> None:
        self._writing, self._binary = parse_mode(mode)
        self.name = name
        self.mode = mode
        self.storage = storage
        self.key = key if key is not None else name
        self._size: int | None = None
        self._reader: _RangeReader | None = None
        self._writer: _PartWriter | None = None
        self._file: IO[Any] | None = None
        self._finished = False
        #: The first error of a hook while writing: the write is then final (see the module).
        self._failure: BaseException | None = None
        self._pull_upload: tuple[_PartPipe, threading.Thread] | None = None
        self._upload_error: BaseException | None = None
        self._start()

    # -- provider hooks -------------------------------------------------------------------

    def _open_stream(self, offset: int) -> IO[bytes]:
        """Return a readable binary stream of the object from byte ``offset`` to its end.

        Raise :class:`FileNotFoundError` for a missing object. A provider that learns the size
        from the response should store it in ``self._size``.
        """
        raise NotImplementedError(f"{type(self).__name__} cannot read.")

    def _get_size(self) -> int:
        """Return the object's size (asked only when the read response did not tell)."""
        return int(self.storage.size(self.name or ""))

    def _write_part(self, data: bytes) -> None:
        """Send one full part of :attr:`part_size` bytes."""
        raise NotImplementedError(f"{type(self).__name__} cannot write.")

    def _commit(self, tail: bytes) -> None:
        """Send the remaining ``tail`` bytes and publish the file under its name."""
        raise NotImplementedError(f"{type(self).__name__} cannot write.")

    def _abort(self) -> None:
        """Discard everything sent so far; the name must show no trace of this write.

        Pull-style providers remove here what an unfinished :meth:`_upload_stream` left.
        """

    def _upload_stream(self, stream: IO[bytes]) -> None:
        """Pull style: upload ``stream`` (read it to its end) and publish the file.

        Implement this instead of :meth:`_write_part` and :meth:`_commit` for SDKs that read a
        file object. It runs on a worker thread for files larger than one part. ``stream``
        ends only when the file is closed normally; on an abort its ``read()`` raises
        :class:`UploadAborted`, which must propagate so that nothing is published.
        """
        raise NotImplementedError(f"{type(self).__name__} cannot write.")

    @classmethod
    def _pulls(cls) -> bool:
        return cls._upload_stream is not StreamingFile._upload_stream

    # -- writing: failure is final, push or pull ------------------------------------------

    def _hand_part(self, data: bytes) -> None:
        """Give one full part to the provider; any error makes the write fail for good."""
        if self._failure is not None:
            raise self._failed_error()
        try:
            self._deliver(data)
        except BaseException as exc:
            if self._failure is None:
                self._fail(exc)
            raise

    def _deliver(self, data: bytes) -> None:
        if self._pulls():
            self._pull_part(data)
        else:
            self._write_part(data)

    def _finish_write(self, tail: bytes) -> None:
        if self._pulls():
            self._pull_commit(tail)
        else:
            self._commit(tail)

    def _fail(self, exc: BaseException) -> None:
        self._failure = exc
        self._discard()

    def _failed_error(self) -> StorageWriteError:
        error = StorageWriteError(
            f"Nothing was saved under {self.name!r}: an earlier write to it failed "
            f"({type(self._failure).__name__}); the upload was aborted."
        )
        error.__cause__ = self._failure
        return error

    def _discard(self) -> None:
        """Abort the upload; a cleanup error is logged, never raised over the first error."""
        try:
            if self._pull_upload is not None:
                pipe, worker = self._pull_upload
                self._pull_upload = None
                pipe.abort()
                worker.join()
            self._abort()
        except Exception:
            logger.warning("Could not clean up the aborted write to %s.", self.name, exc_info=True)

    def _pull_part(self, data: bytes) -> None:
        if self._pull_upload is None:
            pipe = _PartPipe()
            worker = threading.Thread(
                target=self._pull_worker, args=(pipe,), name="storages-upload", daemon=True
            )
            self._pull_upload = (pipe, worker)
            worker.start()
        pipe, worker = self._pull_upload
        if not pipe.put(data, worker):
            self._raise_upload_error()

    def _pull_worker(self, pipe: _PartPipe) -> None:
        try:
            self._upload_stream(pipe)  # type: ignore[arg-type]
            if not pipe.ended:
                raise RuntimeError(
                    f"{type(self).__name__}._upload_stream returned before the end of the data."
                )
        except BaseException as exc:  # noqa: BLE001 - handed to the writing thread
            self._upload_error = exc

    def _raise_upload_error(self) -> None:
        pipe_worker, self._pull_upload = self._pull_upload, None
        if pipe_worker is not None:
            pipe_worker[1].join()
        error = self._upload_error or RuntimeError("The upload stopped without an error.")
        self._upload_error = None
        raise error

    def _pull_commit(self, tail: bytes) -> None:
        if self._pull_upload is None:
            # Smaller than a part: one upload from memory, on this thread.
            self._upload_stream(io.BytesIO(tail))
            return
        pipe, worker = self._pull_upload
        if (tail and not pipe.put(tail, worker)) or not pipe.put(None, worker):
            self._raise_upload_error()
        worker.join()
        self._pull_upload = None
        if self._upload_error is not None:
            self._raise_upload_error()

    # -- lifecycle ------------------------------------------------------------------------

    def _start(self) -> None:
        self._finished = False
        self._failure = None
        self._written = False
        if self._writing:
            self._writer = _PartWriter(self)
            binary: IO[Any] = self._writer  # type: ignore[assignment]
        else:
            self._reader = _RangeReader(self)
            try:
                self._reader.start()
            except BaseException:
                self._finished = True  # nothing to close: opening failed (a missing file)
                self._reader = None
                raise
            binary = io.BufferedReader(self._reader, buffer_size=self.chunk_size)
        if self._binary:
            self._file = binary
        else:
            self._file = io.TextIOWrapper(binary, encoding="utf-8", newline=None, write_through=True)

    @property
    def file(self) -> IO[Any] | None:
        return self._file

    @file.setter
    def file(self, value: IO[Any] | None) -> None:
        # Django's File.__init__ and close() assign here; the stream is owned by this class.
        if value is not None:
            raise AttributeError("StreamingFile manages its own stream.")

    @property
    def closed(self) -> bool:
        return self._finished

    @property
    def size(self) -> int:
        if self._writing:
            return self._writer.bytes_written if self._writer else 0
        if self._size is None:
            self._size = self._get_size()
        return self._size

    def readable(self) -> bool:
        return not self._writing and not self._finished

    def writable(self) -> bool:
        return self._writing and not self._finished

    def seekable(self) -> bool:
        return not self._writing and self.supports_seek and not self._finished

    def read(self, size: int = -1) -> Any:
        if self._writing:
            raise io.UnsupportedOperation("File was not opened in read mode.")
        return self._require_open().read(size)

    def write(self, data: Any) -> int:
        if not self._writing:
            raise io.UnsupportedOperation("File was not opened in write mode.")
        if self._failure is not None:
            raise self._failed_error()
        self._written = True
        if isinstance(data, str) and self._binary:
            data = data.encode("utf-8")
        elif isinstance(data, (bytes, bytearray, memoryview)) and not self._binary:
            # Text-mode files accept bytes too, as the original backends did.
            return self._writer.write(data) if self._writer else 0
        return int(self._require_open().write(data))

    def _require_open(self) -> IO[Any]:
        if self._finished or self._file is None:
            raise ValueError("I/O operation on closed file.")
        return self._file

    def __iter__(self) -> Any:
        return iter(self._require_open())

    def readline(self, size: int = -1) -> Any:
        return self._require_open().readline(size)

    def readlines(self, hint: int = -1) -> list[Any]:
        return self._require_open().readlines(hint)

    def open(self, mode: str | None = None, *args: Any, **kwargs: Any) -> StreamingFile:
        """Rewind an open file, or reopen a closed one in the same mode."""
        if mode is not None and parse_mode(mode) != (self._writing, self._binary):
            raise ValueError("Cannot reopen file with a new mode.")
        if not self._finished:
            if not self._writing:
                self.seek(0)
            return self
        self._start()
        return self

    def close(self) -> None:
        """Finish the file: a write-mode file is committed (published) here."""
        if self._finished:
            return
        try:
            if self._writing and self._writer is not None:
                if self._failure is not None:
                    raise self._failed_error()
                if self._file is not None and not self._binary:
                    self._file.flush()
                if not self._written:
                    return  # never written to: nothing changes under the name
                try:
                    self._finish_write(self._writer.take_tail())
                except BaseException as exc:
                    if self._failure is None:
                        self._fail(exc)
                    raise
        finally:
            self._release()

    def abort(self) -> None:
        """Close without publishing anything written through this file."""
        if self._finished:
            return
        try:
            if self._writing and self._failure is None:
                self._discard()
        finally:
            self._release()

    def _release(self) -> None:
        self._finished = True
        if self._reader is not None:
            self._reader.closing_explicitly = True
            self._reader.close()
            self._reader = None
        if self._writer is not None:
            self._writer.take_tail()
        self._file = None

    def __enter__(self) -> StreamingFile:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is not None:
            self.abort()
        else:
            self.close()

    def __del__(self) -> None:
        # No I/O here (see _RangeReader.close): an unclosed write is simply not published.
        if not getattr(self, "_finished", True):
            warnings.warn(f"unclosed storage file {self!r}", ResourceWarning, source=self, stacklevel=2)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.name} ({self.mode})>"

    def __bool__(self) -> bool:
        return bool(self.name)


def copy_stream(source: Any, target: BinaryIO | StreamingFile, chunk_size: int = DEFAULT_CHUNK_SIZE) -> int:
    """Copy ``source`` (whose ``read`` may return text) into ``target`` in chunks.

    An empty ``source`` is still written (``write(b"")``): a file that is never written to
    changes nothing when closed, an empty upload creates an empty file.
    """
    total = 0
    while True:
        chunk = source.read(chunk_size)
        if not chunk:
            if not total:
                target.write(b"")
            return total
        if isinstance(chunk, str):
            chunk = chunk.encode("utf-8")
        target.write(chunk)
        total += len(chunk)
