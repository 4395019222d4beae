"""``GoogleCloudFile``: the file object returned by ``GoogleCloudStorage.open()``.

Reads are one streamed ``alt=media`` GET (with a ``Range`` after a seek): nothing is downloaded
before it is read and no metadata request comes first. The stored bytes are asked for
(``Accept-Encoding: gzip``), so GCS never transcodes, and an object stored with
``Content-Encoding: gzip`` is decompressed here, exactly once.

Writes are push style: core hands each full part of ``blob_chunk_size`` bytes to
:meth:`GoogleCloudFile._write_part`, which sends it as one chunk of a resumable upload on the
writing thread, so at most one part is held in memory. The chunks declare no total size
(``bytes a-b/*``): only :meth:`GoogleCloudFile._commit`, reached from a normal ``close()``,
sends the last chunk with the total and so finalises the object. An aborted write never gets
there; :meth:`GoogleCloudFile._abort` cancels the session (``DELETE``, answered by 499) and GCS
drops what it received. A file smaller than one part is one multipart request.
"""

from __future__ import annotations

import gzip
import io
import time
import zlib
from typing import IO, TYPE_CHECKING, Any

from storages.compress import SkipReader
from storages.files import StreamingFile

if TYPE_CHECKING:
    from storages.backends.gcloud.storage import GoogleCloudStorage

__all__ = ["DEFAULT_CHUNK_SIZE", "RESUMABLE_CHUNK_MULTIPLE", "GoogleCloudFile"]

#: GCS wants every chunk of a resumable upload but the last to be a multiple of 256 KiB.
RESUMABLE_CHUNK_MULTIPLE = 256 * 1024
#: Part size when ``blob_chunk_size`` is unset.
DEFAULT_CHUNK_SIZE = 8 * 1024 * 1024

_RESUME_INCOMPLETE = 308
#: Statuses of a chunk PUT worth sending again (the resumable protocol allows it).
_RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


class _ResponseReader(io.RawIOBase):
    """A raw reader over a streamed ``requests`` response; closing it releases the connection."""

    def __init__(self, response: Any) -> None:
        self._response = response
        self._raw = response.raw

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._raw.read(len(buffer), decode_content=False)
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._response.close()
        super().close()


class GoogleCloudFile(StreamingFile):
    """A streaming file on Cloud Storage. ``key`` is the full object name (with the location).

    ``write_parameters`` are the blob properties of the upload (``_save`` passes them; an
    ``open(name, "wb")`` file computes them from the storage, object parameters and gzip
    included). ``compressed`` tells that the caller already gzipped the data.
    """

    storage: GoogleCloudStorage

    def __init__(
        self,
        name: str,
        mode: str,
        storage: GoogleCloudStorage,
        key: str | None = None,
        write_parameters: dict[str, Any] | None = None,
        compressed: bool = False,
    ) -> None:
        self.part_size = storage.blob_chunk_size or DEFAULT_CHUNK_SIZE
        self._write_parameters = write_parameters
        self._compressed_by_caller = compressed
        self._compressor: Any = None
        self._session_url: str | None = None
        self._offset = 0
        self._content_encoding: str | None = None
        #: HTTP status of the last cancelled resumable session (GCS answers 499).
        self.cancel_status: int | None = None
        #: The object resource GCS returned for the committed upload (write mode, after close).
        self.resource: dict[str, Any] | None = None
        super().__init__(name, mode, storage, key=key)

    @property
    def content_encoding(self) -> str | None:
        """The stored ``Content-Encoding`` of the object (read mode, after the first GET)."""
        return self._content_encoding

    # -- reading --------------------------------------------------------------------------

    def _media_url(self) -> str:
        from urllib.parse import quote

        storage = self.storage
        # The JSON API takes the object name as one path segment: "/" is encoded too.
        name = quote(self.key, safe="~")
        return f"{storage.api_base}/download/storage/v1/b/{storage.bucket_name}/o/{name}?alt=media"

    def _open_stream(self, offset: int) -> IO[bytes]:
        storage = self.storage
        storage.check_required()
        # The stored bytes, never GCS's decompressive transcoding: gzip is decoded here, once.
        headers = {"Accept-Encoding": "gzip"}
        decoding = self._content_encoding == "gzip"
        if offset and not decoding:
            headers["Range"] = f"bytes={offset}-"
        response = storage.http.get(
            self._media_url(), headers=headers, stream=True, timeout=storage._request_timeout()
        )
        if response.status_code == 416:
            response.close()
            return io.BytesIO(b"")
        if response.status_code == 404:
            response.close()
            raise FileNotFoundError(f"File does not exist: {self.name}")
        if response.status_code >= 400:
            _raise_for(response)
        encoding = response.headers.get("x-goog-stored-content-encoding") or response.headers.get(
            "Content-Encoding"
        )
        self._content_encoding = encoding
        if response.status_code == 200:
            stored = response.headers.get("x-goog-stored-content-length") or response.headers.get(
                "Content-Length"
            )
            if stored is not None and encoding != "gzip":
                self._size = int(stored)
        elif self._size is None and "Content-Range" in response.headers:
            self._size = int(str(response.headers["Content-Range"]).rsplit("/", 1)[-1])
        raw: IO[bytes] = _ResponseReader(response)  # type: ignore[assignment]
        if encoding == "gzip":
            stream: IO[bytes] = gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[assignment]
            return SkipReader(stream, offset) if offset else stream  # type: ignore[return-value]
        return raw

    def _get_size(self) -> int:
        # For a gzip-encoded object this is the stored (compressed) size, as GCS reports it.
        return int(self.storage.size(self.name or ""))

    # -- writing --------------------------------------------------------------------------

    def _parameters(self) -> dict[str, Any]:
        if self._write_parameters is None:
            storage = self.storage
            params = storage._get_write_parameters(self.key)
            if not self._compressed_by_caller and storage._compresses(self.key, params):
                params["content_encoding"] = "gzip"
                self._compressor = zlib.compressobj(wbits=31)
            self._write_parameters = params
        return self._write_parameters

    def _start(self) -> None:
        super()._start()
        if self._writing:
            self._session_url = None
            self._offset = 0
            self._compressor = None
            if self._write_parameters is not None and not self._compressed_by_caller:
                self._write_parameters = None
            self._parameters()

    def write(self, data: Any) -> int:
        if self._compressor is None or not self._writing:
            return super().write(data)
        # gzip on the way (open(name, "wb") with GS_IS_GZIPPED): compressed bytes are buffered
        # into parts like any others.
        if isinstance(data, str):
            data = data.encode("utf-8")
        count = len(data)
        super().write(b"")  # raises after a failure, marks the file as written
        compressed = self._compressor.compress(bytes(data))
        if compressed:
            super().write(compressed)
        return count

    def close(self) -> None:
        compressing = self._writing and self._compressor is not None and not self.closed
        if compressing and self._failure is None and self._written:
            tail = self._compressor.flush()
            self._compressor = None
            if tail:
                super().write(tail)
        super().close()

    def _new_blob(self) -> Any:
        from google.cloud.storage import Blob

        blob = Blob(self.key, self.storage.bucket)
        for name, value in self._parameters().items():
            if name != "acl":
                setattr(blob, name, value)
        return blob

    def _write_part(self, data: bytes) -> None:
        storage = self.storage
        if self._session_url is None:
            storage._cancel_pending_sessions()
            params = self._parameters()
            blob = self._new_blob()
            self._session_url = blob.create_resumable_upload_session(
                content_type=params.get("content_type"),
                predefined_acl=params.get("acl"),
                timeout=storage._request_timeout(),
                retry=storage._retry(),
                checksum=None,
            )
        self._put_chunk(data, final=False)

    def _put_chunk(self, data: bytes, final: bool) -> None:
        """Send ``data`` at the current offset; ``final`` declares the total and finalises."""
        storage = self.storage
        assert self._session_url is not None
        start = self._offset
        end = start + len(data)
        total = str(end) if final else "*"
        deadline = time.monotonic() + storage._retry_deadline()
        delay = 0.5
        sent = 0  # bytes of ``data`` that GCS reported persisted
        while True:
            chunk = data[sent:]
            content_range = f"bytes {start + sent}-{end - 1}/{total}" if chunk else f"bytes */{total}"
            try:
                response = storage.http.put(
                    self._session_url,
                    data=chunk,
                    headers={"Content-Range": content_range},
                    timeout=storage._request_timeout(),
                )
            except Exception as exc:
                from storages.backends.gcloud.storage import _retryable

                if not _retryable(exc) or time.monotonic() + delay > deadline:
                    raise
            else:
                if response.status_code == _RESUME_INCOMPLETE and not final:
                    persisted = _persisted(response)
                    if persisted >= end:
                        self._offset = end
                        return
                    sent = max(0, persisted - start)
                    continue
                if response.status_code in (200, 201) and final:
                    self.resource = response.json()
                    self._offset = end
                    return
                if response.status_code not in _RETRY_STATUSES or time.monotonic() + delay > deadline:
                    _raise_for(response)
            time.sleep(delay)
            delay = min(delay * 2, 8.0)

    def _commit(self, tail: bytes) -> None:
        storage = self.storage
        if self._session_url is None:
            params = self._parameters()
            blob = self._new_blob()
            # One multipart request (metadata and data) for a file smaller than a part.
            blob.upload_from_file(
                io.BytesIO(tail),
                size=len(tail),
                content_type=params.get("content_type"),
                predefined_acl=params.get("acl"),
                timeout=storage._request_timeout(),
                retry=storage._retry(),
                checksum=None,
            )
            self.resource = blob._properties
            return
        self._put_chunk(tail, final=True)
        self._session_url = None

    def _abort(self) -> None:
        session, self._session_url = self._session_url, None
        if session is not None:
            self.cancel_status = self.storage._cancel_session(session)


def _persisted(response: Any) -> int:
    """Bytes GCS has of a resumable upload, from a 308's ``Range: bytes=0-N`` (none: 0)."""
    value = response.headers.get("Range")
    if not value:
        return 0
    return int(str(value).rsplit("-", 1)[-1]) + 1


def _raise_for(response: Any) -> None:
    from google.api_core import exceptions

    try:
        raise exceptions.from_http_response(response)  # type: ignore[no-untyped-call]
    finally:
        response.close()
