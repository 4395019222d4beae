"""``S3File``: the file object returned by ``S3Storage.open()``.

Reads are one ``GetObject`` whose body is streamed (a ``Range`` header after a seek); nothing
is downloaded before it is read and no ``HeadObject`` precedes the ``GetObject``. Writes
buffer one part: a file smaller than the multipart threshold is one ``PutObject``; a larger
one becomes a multipart upload that is completed on ``close()`` and aborted when the ``with``
block raises. Parts upload on a few threads at once (``transfer_config.max_concurrency``, 4 by
default), so memory stays bounded by (parts in flight + 1) x part size (``save()`` reads a
part only when it can be sent: parts in flight x part size).

Part sizes follow s3transfer: when the size is declared, the part size doubles until the
object fits in S3's 10,000 parts; when it is not, the part size doubles every 900 parts, so
an upload of unknown size still reaches S3's 5 TiB object limit.
"""

from __future__ import annotations

import io
from concurrent.futures import Future, ThreadPoolExecutor
from typing import IO, TYPE_CHECKING, Any

from django.conf import settings
from s3transfer.utils import ChunksizeAdjuster

from storages.compress import CompressedFileMixin, SkipReader
from storages.exceptions import StorageConfigurationError
from storages.files import StreamingFile

if TYPE_CHECKING:
    from storages.backends.s3.storage import S3Storage

__all__ = ["MAX_PARTS", "MIN_PART_SIZE", "S3File"]

#: S3 refuses parts smaller than 5 MiB (except the last one).
MIN_PART_SIZE = 5 * 1024 * 1024
#: S3's largest part and most parts per upload.
MAX_PART_SIZE = 5 * 1024 * 1024 * 1024
MAX_PARTS = 10_000
# Bytes of the gzip trailer (CRC32 and ISIZE), and the stored size below which ISIZE (the
# decoded size modulo 2**32) is the decoded size itself.
_GZIP_TRAILER = 18
_ISIZE_IS_EXACT_BELOW = 2**32 // 1032

#: Without a declared size, the part size doubles after every this many parts: from 5 MiB,
#: 10,000 parts then hold more than S3's largest object (5 TiB).
PARTS_PER_SIZE_STEP = 900


def buffer_size_setting() -> int:
    """``AWS_S3_FILE_BUFFER_SIZE``: the part size of ``open(name, "w")``, read at run time.

    A value below 5 MiB is reported by the system checks (storages.s3.E001); writes use 5 MiB.
    """
    return max(MIN_PART_SIZE, int(getattr(settings, "AWS_S3_FILE_BUFFER_SIZE", MIN_PART_SIZE)))


def buffer_size_problem() -> str | None:
    """Why ``AWS_S3_FILE_BUFFER_SIZE`` is refused, or ``None``."""
    size = getattr(settings, "AWS_S3_FILE_BUFFER_SIZE", MIN_PART_SIZE)
    try:
        if int(size) >= MIN_PART_SIZE:
            return None
    except (TypeError, ValueError):
        return f"AWS_S3_FILE_BUFFER_SIZE is {size!r}, not a number of bytes."
    return (
        f"AWS_S3_FILE_BUFFER_SIZE is {size} bytes, but S3 refuses multipart parts smaller than "
        f"5 MiB; writes use 5 MiB parts. Set it to at least {MIN_PART_SIZE} or remove it."
    )


class S3File(CompressedFileMixin, StreamingFile):
    """A streaming file on S3. ``key`` is the full object key (with the location)."""

    storage: S3Storage

    def __init__(
        self,
        name: str,
        mode: str,
        storage: S3Storage,
        buffer_size: int | None = None,
        *,
        key: str | None = None,
        write_parameters: dict[str, Any] | None = None,
        expected_size: int | None = None,
        multipart_threshold: int | None = None,
    ) -> None:
        # ``S3File(name, mode, storage, buffer_size)`` as in 1.x: ``name`` is then the full key
        # and ``.name`` the name below the location.
        if key is None:
            key = name
            location = storage._location.strip("/")
            if location and name.startswith(location + "/"):
                name = name[len(location) + 1 :]
        writing = "w" in mode
        if buffer_size is None:
            buffer_size = buffer_size_setting() if writing else MIN_PART_SIZE
        if buffer_size < MIN_PART_SIZE:
            raise StorageConfigurationError(
                f"S3File buffer_size is {buffer_size} bytes; S3 needs at least {MIN_PART_SIZE}."
            )
        self._base_part_size = buffer_size
        #: The declared size of what will be written (``None``: unknown, parts grow instead).
        self.expected_size = expected_size
        if expected_size is not None:
            self._base_part_size = ChunksizeAdjuster().adjust_chunksize(buffer_size, expected_size)
        self.part_size = self._base_part_size
        self.multipart_threshold = self.part_size if multipart_threshold is None else multipart_threshold
        self._held: list[bytes] = []
        self._write_parameters = write_parameters
        self._upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []
        self._part_count = 0
        self._pending: list[Future[dict[str, Any]]] = []
        self._concurrency = 1
        self._executor: ThreadPoolExecutor | None = None
        self._content_encoding: str | None = None
        self._stored_size: int | None = None
        #: ETag of the object this file committed (write mode, after ``close()``).
        self.etag: str | None = None
        super().__init__(name, mode, storage, key=key)

    @property
    def buffer_size(self) -> int:
        """The part size (1.x name)."""
        return self.part_size

    @buffer_size.setter
    def buffer_size(self, value: int) -> None:
        self.part_size = self._base_part_size = int(value)

    @property
    def obj(self) -> Any:
        """The boto3 ``Object`` resource of this file (1.x compatibility; not used here)."""
        return self.storage.bucket.Object(self.key)

    def write_part(self, data: bytes) -> int:
        """``write()``, but a ``bytes`` of exactly one part is handed on without a copy."""
        writer = self._writer
        if (
            type(data) is bytes
            and len(data) == self.part_size
            and writer is not None
            and not writer._buffer
            and self._failure is None
            and not self._finished
        ):
            # What StreamingFile.write() does for a whole part, minus the copy of its bytes.
            self._written = True
            self._hand_part(data)
            writer.bytes_written += len(data)
            return len(data)
        return int(self.write(data))

    def wait_for_part_slot(self) -> None:
        """Block until a part can be sent at once, so that the caller reads the next part only
        then: memory holds the parts in flight and no part waiting for a slot."""
        if self._failure is not None or self._upload_id is None:
            return
        while self._pending and len(self._pending) >= self._concurrency:
            try:
                self._parts.append(self._pending.pop(0).result())
            except BaseException as exc:
                self._fail(exc)  # final, as for any failed part (StreamingFile)
                raise

    def part_size_for(self, number: int) -> int:
        """The size of part ``number`` (1-based): fixed for a declared size, else growing."""
        if self.expected_size is not None:
            return self._base_part_size
        step = (number - 1) // PARTS_PER_SIZE_STEP
        return min(MAX_PART_SIZE, self._base_part_size << step)

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
            self._stored_size = int(response["ContentLength"])
            if not self._decoding_gzip():
                # A decoded gzip object's size is not the stored size: see _get_size().
                self._size = self._stored_size
        elif self._size is None and "ContentRange" in response:
            self._size = int(str(response["ContentRange"]).rsplit("/", 1)[-1])
        body: IO[bytes] = response["Body"]
        if self._decoding_gzip():
            stream: IO[bytes] = self._decompress_file(mode="rb", file=body)  # type: ignore[assignment]
            return SkipReader(stream, offset) if offset else stream  # type: ignore[return-value]
        return body

    def _get_size(self) -> int:
        """The size the reads return: for a gzip object read decoded, its decoded size."""
        if not self._decoding_gzip():
            return super()._get_size()
        storage = self.storage
        params = storage._download_parameters(self.key)
        stored = self._stored_size
        if stored is not None and _GZIP_TRAILER <= stored < _ISIZE_IS_EXACT_BELOW:
            # The gzip trailer ends with the decoded size modulo 2**32, exact for any object
            # this small (deflate expands at most 1032:1). One 4-byte ranged GET.
            response = storage._call("get_object", Key=self.key, Range="bytes=-4", **params)
            return int.from_bytes(response["Body"].read(), "little")
        response = storage._call("get_object", Key=self.key, **params)
        decoded = 0
        with self._decompress_file(mode="rb", file=response["Body"]) as stream:
            while chunk := stream.read(self.chunk_size):
                decoded += len(chunk)
        return decoded

    def _decoding_gzip(self) -> bool:
        return bool(self.storage.gzip) and self._content_encoding == "gzip"

    # -- writing --------------------------------------------------------------------------

    def _parameters(self) -> dict[str, Any]:
        if self._write_parameters is None:
            self._write_parameters = self.storage._get_write_parameters(self.key)
        return self._write_parameters

    def _write_part(self, data: bytes) -> None:
        if self._upload_id is None and self.multipart_threshold > self.part_size:
            # Below the threshold the object may still be one PutObject: hold the parts.
            self._held.append(data)
            if sum(map(len, self._held)) < self.multipart_threshold:
                return
            held, self._held = self._held, []
            for part in held:
                self._send_part(part)
            return
        self._send_part(data)

    def _send_part(self, data: bytes) -> None:
        if self._upload_id is None:
            response = self.storage._call("create_multipart_upload", Key=self.key, **self._parameters())
            self._upload_id = str(response["UploadId"])
            self._concurrency = self.storage._upload_concurrency()
        # Numbered from a counter: a part number is never reused, whatever failed before.
        self._part_count += 1
        number = self._part_count
        self.part_size = self.part_size_for(number + 1)
        if self._concurrency <= 1:
            self._parts.append(self._upload_part(self._upload_id, number, data))
            return
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self._concurrency, thread_name_prefix="s3-upload-part")
        while len(self._pending) >= self._concurrency:
            # Bounded memory: wait for the oldest part (and raise its error) before the next.
            self._parts.append(self._pending.pop(0).result())
        self._pending.append(self._executor.submit(self._upload_part, self._upload_id, number, data))

    def _upload_part(self, upload_id: str, number: int, data: bytes) -> dict[str, Any]:
        parameters = self._parameters()
        extra = self.storage._sse_customer_parameters(parameters)
        algorithm = parameters.get("ChecksumAlgorithm")
        if algorithm:
            extra["ChecksumAlgorithm"] = algorithm
        response = self.storage._call(
            "upload_part", Key=self.key, UploadId=upload_id, PartNumber=number, Body=data, **extra
        )
        part = {"PartNumber": number, "ETag": response["ETag"]}
        if algorithm:
            # The completion must list each part's checksum (as s3transfer does).
            checksum = f"Checksum{str(algorithm).upper()}"
            if checksum in response:
                part[checksum] = response[checksum]
        return part

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
            held, self._held = self._held, []
            size = sum(map(len, held)) + len(tail)
            if size < self.multipart_threshold or not size:
                body = b"".join([*held, tail]) if held else tail
                response = storage._call("put_object", Key=self.key, Body=body, **self._parameters())
                self.etag = response.get("ETag")
                return
            for part in held:
                self._send_part(part)
        if tail:
            self._send_part(tail)
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
        self._held = []
        # Parts still uploading would otherwise land after the abort and be billed as storage.
        self._stop_executor()
        if self._upload_id is not None:
            upload_id, self._upload_id = self._upload_id, None
            self._parts = []
            self._part_count = 0
            self.storage._call("abort_multipart_upload", Key=self.key, UploadId=upload_id)
