"""``S3File``: the file object returned by ``S3Storage.open()``.

Reads are one ``GetObject`` whose body is streamed (a ``Range`` header after a seek); nothing
is downloaded before it is read and no ``HeadObject`` precedes the ``GetObject``. Writes
buffer one part: a file smaller than a part is one ``PutObject``; a larger one becomes a
multipart upload that is completed on ``close()`` and aborted when the ``with`` block raises.
Parts upload on a few threads at once (``transfer_config.max_concurrency``, 4 by default),
so memory stays bounded by (parts in flight + 1) x part size.
"""

from __future__ import annotations

import gzip
import io
from concurrent.futures import Future, ThreadPoolExecutor
from typing import IO, TYPE_CHECKING, Any

from django.conf import settings

from storages.exceptions import StorageConfigurationError
from storages.files import StreamingFile

if TYPE_CHECKING:
    from storages.backends.s3.storage import S3Storage

__all__ = ["MIN_PART_SIZE", "S3File"]

#: S3 refuses parts smaller than 5 MiB (except the last one).
MIN_PART_SIZE = 5 * 1024 * 1024


def buffer_size_setting() -> int:
    """``AWS_S3_FILE_BUFFER_SIZE``: the multipart part size, read at run time."""
    size = int(getattr(settings, "AWS_S3_FILE_BUFFER_SIZE", MIN_PART_SIZE))
    if size < MIN_PART_SIZE:
        raise StorageConfigurationError(
            f"AWS_S3_FILE_BUFFER_SIZE is {size} bytes, but S3 refuses multipart parts smaller "
            f"than 5 MiB. Set it to at least {MIN_PART_SIZE} (5 MiB) or remove the setting."
        )
    return size


class _SkipReader(io.RawIOBase):
    """Reads ``stream`` after discarding its first ``skip`` bytes (decoded gzip after a seek)."""

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


class S3File(StreamingFile):
    """A streaming file on S3. ``key`` is the full object key (with the location)."""

    storage: S3Storage

    def __init__(
        self,
        name: str,
        mode: str,
        storage: S3Storage,
        key: str | None = None,
        buffer_size: int | None = None,
        write_parameters: dict[str, Any] | None = None,
    ) -> None:
        writing = "w" in mode
        if buffer_size is None:
            buffer_size = buffer_size_setting() if writing else MIN_PART_SIZE
        self.part_size = buffer_size
        if self.part_size < MIN_PART_SIZE:
            raise StorageConfigurationError(
                f"S3File buffer_size is {self.part_size} bytes; S3 needs at least {MIN_PART_SIZE}."
            )
        self._write_parameters = write_parameters
        self._upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []
        self._part_count = 0
        self._pending: list[Future[dict[str, Any]]] = []
        self._executor: ThreadPoolExecutor | None = None
        self._content_encoding: str | None = None
        #: ETag of the object this file committed (write mode, after ``close()``).
        self.etag: str | None = None
        super().__init__(name, mode, storage, key=key)

    @property
    def content_encoding(self) -> str | None:
        """The stored ``Content-Encoding`` of the object (read mode, after the first GET)."""
        return self._content_encoding

    # -- reading --------------------------------------------------------------------------

    def _open_stream(self, offset: int) -> IO[bytes]:
        storage = self.storage
        params = storage._download_parameters(self.key)
        if offset and not self._decoding_gzip():
            params["Range"] = f"bytes={offset}-"
        try:
            response = storage._call("get_object", Key=self.key, **params)
        except storage.ClientError as exc:
            code = storage._error_code(exc)
            if code == "InvalidRange":
                return io.BytesIO(b"")
            if code in ("404", "NoSuchKey"):
                raise FileNotFoundError(f"File does not exist: {self.name}") from exc
            raise
        self._content_encoding = response.get("ContentEncoding")
        if "Range" not in params:
            self._size = int(response["ContentLength"])
        elif self._size is None and "ContentRange" in response:
            self._size = int(str(response["ContentRange"]).rsplit("/", 1)[-1])
        body: IO[bytes] = response["Body"]
        if self._decoding_gzip():
            stream: IO[bytes] = gzip.GzipFile(fileobj=body, mode="rb")  # type: ignore[assignment]
            return _SkipReader(stream, offset) if offset else stream  # type: ignore[return-value]
        return body

    def _decoding_gzip(self) -> bool:
        return bool(self.storage.gzip) and self._content_encoding == "gzip"

    # -- writing --------------------------------------------------------------------------

    def _parameters(self) -> dict[str, Any]:
        if self._write_parameters is None:
            self._write_parameters = self.storage._get_write_parameters(self.key)
        return self._write_parameters

    def _write_part(self, data: bytes) -> None:
        if self._upload_id is None:
            response = self.storage._call("create_multipart_upload", Key=self.key, **self._parameters())
            self._upload_id = str(response["UploadId"])
        # Numbered from a counter: a part number is never reused, whatever failed before.
        self._part_count += 1
        number = self._part_count
        concurrency = self.storage._upload_concurrency()
        if concurrency <= 1:
            self._parts.append(self._upload_part(self._upload_id, number, data))
            return
        if self._executor is None:
            self._executor = ThreadPoolExecutor(concurrency, thread_name_prefix="s3-upload-part")
        while len(self._pending) >= concurrency:
            # Bounded memory: wait for the oldest part (and raise its error) before the next.
            self._parts.append(self._pending.pop(0).result())
        self._pending.append(self._executor.submit(self._upload_part, self._upload_id, number, data))

    def _upload_part(self, upload_id: str, number: int, data: bytes) -> dict[str, Any]:
        response = self.storage._call(
            "upload_part",
            Key=self.key,
            UploadId=upload_id,
            PartNumber=number,
            Body=data,
            **self.storage._sse_customer_parameters(self._parameters()),
        )
        return {"PartNumber": number, "ETag": response["ETag"]}

    def _finish_parts(self) -> None:
        """Wait for every part in flight; raise the first error."""
        try:
            while self._pending:
                self._parts.append(self._pending.pop(0).result())
        finally:
            self._stop_executor()

    def _stop_executor(self) -> None:
        executor, self._executor = self._executor, None
        for future in self._pending:
            future.cancel()
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
        self._pending = []

    def _commit(self, tail: bytes) -> None:
        storage = self.storage
        if self._upload_id is None:
            response = storage._call("put_object", Key=self.key, Body=tail, **self._parameters())
            self.etag = response.get("ETag")
            return
        if tail:
            self._write_part(tail)
        self._finish_parts()
        self._parts.sort(key=lambda part: int(part["PartNumber"]))
        response = storage._call(
            "complete_multipart_upload",
            Key=self.key,
            UploadId=self._upload_id,
            MultipartUpload={"Parts": self._parts},
            **storage._sse_customer_parameters(self._parameters()),
        )
        self.etag = response.get("ETag")
        self._upload_id = None
        self._parts = []
        self._part_count = 0

    def _abort(self) -> None:
        # Parts still uploading would otherwise land after the abort and be billed as storage.
        self._stop_executor()
        if self._upload_id is not None:
            upload_id, self._upload_id = self._upload_id, None
            self._parts = []
            self._part_count = 0
            self.storage._call("abort_multipart_upload", Key=self.key, UploadId=upload_id)
