"""``AzureStorageFile``: the file object returned by ``AzureStorage.open()``.

Reads stream the blob in ranges of :attr:`AzureStorageFile.read_range_size` bytes: the first
range is one GET that also tells the size (so a small ``open().read()`` is one request, and a
missing blob raises ``FileNotFoundError`` from ``open()``).

Writes are staged blocks: every full block of :attr:`AzureStorageFile.part_size` bytes is a
``Put Block`` (``upload_max_conn`` of them in flight), and ``close()`` publishes them with one
``Put Block List``. Nothing is visible under the name before that call, so a write that fails
or is interrupted never publishes a partial blob and leaves the previous version in place. A
file smaller than one block is a single ``Put Blob`` on close.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import hashlib
import io
import logging
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from typing import IO, TYPE_CHECKING, Any

from storages.files import StreamingFile

if TYPE_CHECKING:
    from storages.backends.azure_storage.storage import AzureStorage

__all__ = ["AzureStorageFile"]

logger = logging.getLogger("storages")

MiB = 1024 * 1024


class _DownloadStream(io.RawIOBase):
    """A raw stream over the SDK's ``StorageStreamDownloader`` (one range in memory at a time)."""

    def __init__(self, downloader: Any) -> None:
        self._downloader = downloader

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self._downloader.read(len(view))
        view[: len(data)] = data
        return len(data)


class AzureStorageFile(StreamingFile):
    """A streaming file on Azure Blob Storage. ``key`` is the full blob name (with the location)."""

    storage: AzureStorage

    #: Bytes per staged block (Azure accepts up to 4000 MiB per block and 50,000 blocks).
    part_size: int = 8 * MiB
    #: Bytes per ranged GET when reading.
    read_range_size: int = 4 * MiB

    def __init__(
        self,
        name: str,
        mode: str,
        storage: AzureStorage,
        key: str | None = None,
        content_settings: Any = None,
    ) -> None:
        self._content_settings = content_settings
        self._block_ids: list[str] = []
        self._pending: list[Future[None]] = []
        self._executor: ThreadPoolExecutor | None = None
        self._block_prefix = ""
        self._blob: Any = None
        # The MD5 of everything written, stored as Content-MD5 (for collectstatic's skip).
        self._md5: Any = None
        #: ETag of the blob this file committed (write mode, after ``close()``).
        self.etag: str | None = None
        super().__init__(name, mode, storage, key=key)

    def _start(self) -> None:
        # Also when a closed write-mode file is opened again: a new upload from scratch.
        if "w" in self.mode:
            self._block_ids = []
            # Block ids of one blob must all have the same length; a per-write prefix keeps
            # two writers of one name from committing each other's blocks.
            self._block_prefix = uuid.uuid4().hex[:16]
            self._md5 = hashlib.md5(usedforsecurity=False) if self.storage.store_content_md5 else None
        super()._start()

    def _blob_client(self) -> Any:
        if self._blob is None:
            self._blob = self.storage.blob_client(self.key)
        return self._blob

    # -- reading --------------------------------------------------------------------------

    def _open_stream(self, offset: int) -> IO[bytes]:
        from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

        try:
            downloader = self._blob_client().download_blob(
                offset=offset or None,
                max_concurrency=1,
                # Stored bytes as they are: a .gz a user saved comes back compressed.
                decompress=False,
                timeout=self.storage.server_timeout,
            )
        except ResourceNotFoundError as exc:
            raise FileNotFoundError(f"File does not exist: {self.name}") from exc
        except HttpResponseError as exc:
            if exc.status_code == 416:  # an offset at or past the end
                return io.BytesIO(b"")
            raise
        content_range = getattr(downloader.properties, "content_range", None) or ""
        total = content_range.rsplit("/", 1)[-1]
        if total.isdigit():
            self._size = int(total)
        elif not offset:
            self._size = int(downloader.size)
        return _DownloadStream(downloader)  # type: ignore[return-value]

    # -- writing --------------------------------------------------------------------------

    def _settings(self) -> Any:
        if self._content_settings is None:
            self._content_settings = self.storage._content_settings(self.key)
        if self._md5 is None or self._content_settings.content_md5:
            return self._content_settings
        # A copy: the file may be opened and written again, with another MD5.
        settings = copy.copy(self._content_settings)
        settings.content_md5 = bytearray(self._md5.digest())
        return settings

    def _hand_part(self, data: bytes) -> None:
        if self._md5 is not None:
            self._md5.update(data)
        super()._hand_part(data)

    def _next_block_id(self) -> str:
        raw = f"{self._block_prefix}{len(self._block_ids):08d}".encode()
        block_id = base64.b64encode(raw).decode()
        self._block_ids.append(block_id)
        return block_id

    def _stage(self, block_id: str, data: bytes) -> None:
        self._blob_client().stage_block(block_id, data, length=len(data), timeout=self.storage.server_timeout)

    def _write_part(self, data: bytes) -> None:
        block_id = self._next_block_id()
        concurrency = int(self.storage.upload_max_conn)
        if concurrency <= 1:
            self._stage(block_id, data)
            return
        if self._executor is None:
            self._executor = ThreadPoolExecutor(concurrency, thread_name_prefix="azure-stage-block")
        while len(self._pending) >= concurrency:
            # Bounded memory: wait for the oldest block (and raise its error) before the next.
            self._pending.pop(0).result()
        self._pending.append(self._executor.submit(self._stage, block_id, data))

    def _finish_blocks(self) -> None:
        try:
            while self._pending:
                self._pending.pop(0).result()
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
        if self._md5 is not None:
            self._md5.update(tail)
        blob = self._blob_client()
        timeout = self.storage.server_timeout
        if not self._block_ids:
            response = blob.upload_blob(
                tail,
                length=len(tail),
                overwrite=True,
                content_settings=self._settings(),
                max_concurrency=1,
                timeout=timeout,
            )
        else:
            if tail:
                self._write_part(tail)
            self._finish_blocks()
            response = blob.commit_block_list(
                list(self._block_ids), content_settings=self._settings(), timeout=timeout
            )
        self.etag = response.get("etag")
        self._block_ids = []

    def _abort(self) -> None:
        # Blocks still uploading would otherwise land after the abort.
        self._stop_executor()
        if not self._block_ids:
            return
        self._block_ids = []
        from azure.core.exceptions import ResourceNotFoundError, ServiceRequestError, ServiceResponseError

        if isinstance(self._failure, ServiceRequestError | ServiceResponseError):
            # The server did not answer: a clean-up request would wait out the timeout again.
            # The staged blocks are invisible, and the next write under the name drops them.
            return

        blob = self._blob_client()
        try:
            blob.get_blob_properties(timeout=self.storage.server_timeout)
        except ResourceNotFoundError:
            # No committed blob under the name: deleting it drops the staged blocks.
            with contextlib.suppress(ResourceNotFoundError):
                blob.delete_blob(timeout=self.storage.server_timeout)
            return
        # A committed blob is there (the previous version): Azure has no call that drops only
        # uncommitted blocks, and they are invisible to readers and listings. The next commit
        # under this name discards them, and Azure deletes them after a week otherwise.
        logger.info("Staged blocks of the aborted write to %s are left for Azure to discard.", self.name)
