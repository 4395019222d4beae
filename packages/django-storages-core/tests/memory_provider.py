"""A tiny provider built on core's BaseStorage and StreamingFile, kept for the tests.

It stores objects in a dict and records every "request", so tests can check what core asks
of a provider. Writes are atomic the way an object store's are: parts are collected aside
and the object appears only at commit.
"""

from __future__ import annotations

import datetime
import io
import threading
from typing import IO, Any, ClassVar

from django.conf import settings
from django.utils import timezone

from storages.base import BaseStorage
from storages.files import StreamingFile
from storages.options import Option
from storages.utils import url_quote


class MemoryFile(StreamingFile):
    part_size = 64 * 1024

    def _open_stream(self, offset: int) -> IO[bytes]:
        storage: MemoryStorage = self.storage  # type: ignore[assignment]
        storage.calls.append(("get", self.key, offset))
        try:
            data = storage.objects[self.key][0]
        except KeyError:
            raise FileNotFoundError(f"No such file: {self.name}") from None
        self._size = len(data)
        return io.BytesIO(data[offset:])

    def _write_part(self, data: bytes) -> None:
        storage: MemoryStorage = self.storage  # type: ignore[assignment]
        storage.calls.append(("part", self.key, len(data)))
        self._parts = [*getattr(self, "_parts", []), data]

    def _commit(self, tail: bytes) -> None:
        storage: MemoryStorage = self.storage  # type: ignore[assignment]
        storage.calls.append(("commit", self.key, len(tail)))
        if storage.fail_commit:
            raise ConnectionError("commit failed")
        data = b"".join([*getattr(self, "_parts", []), tail])
        self._parts = []
        with storage.lock:
            storage.objects[self.key] = (data, timezone.now())

    def _abort(self) -> None:
        storage: MemoryStorage = self.storage  # type: ignore[assignment]
        storage.calls.append(("abort", self.key, 0))
        self._parts = []


class MemoryStorage(BaseStorage):
    options = BaseStorage.options.extend(
        Option("location", default="", setting="MEMORY_LOCATION", doc="Key prefix."),
        Option("bucket_name", setting="MEMORY_BUCKET", env="MEMORY_BUCKET", required=True, doc="Bucket."),
        Option("api_key", setting="MEMORY_API_KEY", env="MEMORY_API_KEY", secret=True, doc="Key."),
        Option("file_overwrite", default=False, setting="MEMORY_OVERWRITE", doc="Overwrite."),
    )
    overwrite_option = "file_overwrite"
    max_name_bytes = 1024
    file_class = MemoryFile
    transient_attributes = ("lock",)

    #: The "server": every bucket's objects, shared by all instances (and their pickles) in
    #: the process, so two instances on one bucket see each other's changes.
    buckets: ClassVar[dict[str, dict[str, tuple[bytes, datetime.datetime]]]] = {}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.calls: list[tuple[str, str, int]] = []
        self.fail_commit = False

    def _init_transient(self) -> None:
        self.lock = threading.Lock()

    @property
    def objects(self) -> dict[str, tuple[bytes, datetime.datetime]]:
        return self.buckets.setdefault(str(self.bucket_name), {})  # atomic under the GIL

    def exists(self, name: str) -> bool:
        return self._normalize_name(name) in self.objects

    def delete(self, name: str) -> None:
        with self.lock:
            self.objects.pop(self._normalize_name(name), None)

    def size(self, name: str) -> int:
        try:
            return len(self.objects[self._normalize_name(name)][0])
        except KeyError:
            raise FileNotFoundError(name) from None

    def get_modified_time(self, name: str) -> datetime.datetime:
        try:
            modified = self.objects[self._normalize_name(name)][1]
        except KeyError:
            raise FileNotFoundError(name) from None
        return modified if settings.USE_TZ else timezone.make_naive(modified)

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        prefix = self._normalize_name(path).rstrip("/")
        prefix = f"{prefix}/" if prefix else ""
        dirs: set[str] = set()
        files: list[str] = []
        for key in list(self.objects):
            if not key.startswith(prefix):
                continue
            rest = key[len(prefix) :]
            head, sep, _ = rest.partition("/")
            if sep:
                dirs.add(head)
            else:
                files.append(rest)
        return sorted(dirs), sorted(files)

    def url(self, name: str | None) -> str:
        return "memory://" + url_quote(self._normalize_name(name or ""))
