"""Static-files storages: ``collectstatic`` in one listing instead of a request per file.

``collectstatic`` asks, for every file, ``exists()`` and ``get_modified_time()``, and then
``delete()`` + ``save()`` when the source looks newer; the manifest storage's post-processing
adds ``exists()`` and ``delete()`` + ``_save()`` per hashed file and per pass. Against S3 that
is several requests per file (2,000 and 8,106 for 1,000 files with the original library).

These storages answer ``exists()``/``get_modified_time()``/``size()`` from one listing of the
location (``ListObjectsV2``: 1,000 keys with their ETag and date per request), cached for
:attr:`S3StaticStorage.listing_max_age` seconds and kept up to date by their own writes. A
``delete()`` of a listed file is held back until the next call on the storage: when that
call saves the same name (what ``collectstatic`` and the manifest storage always do), the
delete is dropped, and the upload itself is skipped when the content's MD5 equals the stored
ETag. Any other call sends the held-back delete first, so nothing else can observe it.
"""

from __future__ import annotations

import datetime
import hashlib
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import unquote, urlsplit

from django.contrib.staticfiles.storage import ManifestFilesMixin

from storages.backends.s3.files import S3File
from storages.backends.s3.storage import S3Storage
from storages.compress import should_gzip
from storages.files import StreamingFile
from storages.utils import is_seekable

__all__ = ["S3ManifestStaticStorage", "S3StaticStorage"]


@dataclass
class _Entry:
    etag: str
    last_modified: datetime.datetime
    size: int


class _Listing:
    """The cached state of a static storage's location."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.entries: dict[str, _Entry] | None = None
        self.loaded_at = 0.0
        self.pending_delete: tuple[str, _Entry] | None = None


def _send_pending_delete(storage_ref: weakref.ref[S3StaticStorage]) -> None:
    storage = storage_ref()
    if storage is not None:
        storage._flush_pending_delete()


class S3StaticStorage(S3Storage):
    """S3 storage for static files: unsigned URLs and a one-listing ``collectstatic``."""

    querystring_auth = False
    #: Seconds a listing answers ``exists()`` before the location is listed again.
    listing_max_age: ClassVar[float] = 300.0
    transient_attributes: ClassVar[tuple[str, ...]] = (*S3Storage.transient_attributes, "_listing")

    def _init_transient(self) -> None:
        super()._init_transient()
        self._listing = _Listing()
        # A delete held back by the last call of a process is sent when it exits.
        weakref.finalize(self, _send_pending_delete, weakref.ref(self))

    # -- the listing ----------------------------------------------------------------------

    def _entries(self) -> dict[str, _Entry]:
        listing = self._listing
        with listing.lock:
            fresh = time.monotonic() - listing.loaded_at < self.listing_max_age
            if listing.entries is None or not fresh:
                listing.entries = self._load_listing()
                listing.loaded_at = time.monotonic()
            return listing.entries

    def _load_listing(self) -> dict[str, _Entry]:
        prefix = self._normalize_name("")
        entries: dict[str, _Entry] = {}
        for page in self._iter_listing(prefix, delimiter=None):
            for item in page.get("Contents", ()):
                entries[item["Key"]] = _Entry(
                    etag=str(item.get("ETag", "")).strip('"'),
                    last_modified=item["LastModified"],
                    size=int(item.get("Size", 0)),
                )
        return entries

    def clear_listing(self) -> None:
        """Forget the cached listing (the next question lists the location again)."""
        self._flush_pending_delete()
        with self._listing.lock:
            self._listing.entries = None

    def _flush_pending_delete(self, unless: str | None = None) -> None:
        listing = self._listing
        with listing.lock:
            pending = listing.pending_delete
            if pending is None or pending[0] == unless:
                return
            listing.pending_delete = None
        super()._delete_key(pending[0])

    def _lookup(self, name: str) -> _Entry | None:
        key = self._normalize_name(name)
        self._flush_pending_delete(unless=key)
        pending = self._listing.pending_delete
        if pending is not None and pending[0] == key:
            return None
        return self._entries().get(key)

    # -- answers from the listing ---------------------------------------------------------

    def exists(self, name: str) -> bool:
        return self._lookup(name) is not None

    def get_modified_time(self, name: str) -> datetime.datetime:
        entry = self._lookup(name)
        if entry is None:
            raise FileNotFoundError(f"File does not exist: {name}")
        return self._as_setting_time(entry.last_modified)

    def size(self, name: str) -> int:
        entry = self._lookup(name)
        if entry is None:
            raise FileNotFoundError(f"File does not exist: {name}")
        return entry.size

    def delete(self, name: str) -> None:
        key = self._normalize_name(name)
        self._flush_pending_delete()
        listing = self._listing
        with listing.lock:
            entry = self._entries().pop(key, None)
            if entry is not None:
                # Held back: dropped if the next call saves this name again.
                listing.pending_delete = (key, entry)
                return
        self._delete_key(key)

    # -- everything else sends a held-back delete first -----------------------------------

    def _open(self, name: str, mode: str = "rb") -> StreamingFile:
        self._flush_pending_delete()
        return super()._open(name, mode)

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        self._flush_pending_delete()
        return super().listdir(path)

    def _skip_upload(self, key: str, content: Any, body: Callable[[], Any], params: dict[str, Any]) -> bool:
        self._flush_pending_delete(unless=key)
        listing = self._listing
        with listing.lock:
            pending = listing.pending_delete
            listing.pending_delete = None
        stored = pending[1] if pending is not None and pending[0] == key else None
        if stored is None:
            stored = self._entries().get(key)
        if stored is None or not self._etag_is_md5(stored.etag, params):
            return False
        if not is_seekable(content):
            return False
        digest = hashlib.md5(usedforsecurity=False)
        source = body()
        while chunk := source.read(1024 * 1024):
            digest.update(chunk)
        if digest.hexdigest() != stored.etag:
            return False
        with listing.lock:
            self._entries()[key] = stored
        return True

    @staticmethod
    def _etag_is_md5(etag: str, params: dict[str, Any]) -> bool:
        # Multipart ETags carry a "-N" suffix; SSE-KMS and SSE-C ETags are not the MD5.
        if "-" in etag or len(etag) != 32:
            return False
        return "SSECustomerKey" not in params and params.get("ServerSideEncryption") != "aws:kms"

    def _saved(self, key: str, file: S3File) -> None:
        with self._listing.lock:
            entries = self._listing.entries
            if entries is not None:
                entries[key] = _Entry(
                    etag=str(file.etag or "").strip('"'),
                    last_modified=datetime.datetime.now(datetime.UTC),
                    size=file.size,
                )

    def post_process(self, paths: dict[str, Any], dry_run: bool = False, **options: Any) -> Iterator[Any]:
        """Called by ``collectstatic`` when it is done: send a held-back delete."""
        self._flush_pending_delete()
        yield from ()


class S3ManifestStaticStorage(ManifestFilesMixin, S3StaticStorage):  # type: ignore[misc]
    """S3 storage for static files with Django's hashed names and manifest.

    The manifest is read once, on first use (not when the storage is constructed), and the
    post-processing's per-file ``exists()``/``delete()``/``_save()`` cost no requests when the
    hashed files are already stored.
    """

    def __init__(self, *args: Any, manifest_storage: Any = None, **kwargs: Any) -> None:
        self._manifest_state: tuple[dict[str, str], str | None] | None = None
        self._constructing = True
        super().__init__(*args, manifest_storage=manifest_storage, **kwargs)
        # ManifestFilesMixin.__init__ reads the manifest; here it is read on first use.
        self._constructing = False
        self._manifest_state = None

    def load_manifest(self) -> tuple[dict[str, str], str | None]:  # type: ignore[override]
        if self._constructing:
            return {}, None
        loaded: Any = ManifestFilesMixin.load_manifest(self)
        return dict(loaded[0]), loaded[1]

    def _manifest(self) -> tuple[dict[str, str], str | None]:
        if self._manifest_state is None:
            self._manifest_state = self.load_manifest()
        return self._manifest_state

    @property
    def hashed_files(self) -> dict[str, str]:
        return self._manifest()[0]

    @hashed_files.setter
    def hashed_files(self, value: Any) -> None:
        self._manifest_state = (value, self._manifest_state[1] if self._manifest_state else None)

    @property  # type: ignore[override]
    def manifest_hash(self) -> str | None:
        return self._manifest()[1]

    @manifest_hash.setter
    def manifest_hash(self, value: str | None) -> None:
        self._manifest_state = (self._manifest_state[0] if self._manifest_state else {}, value)

    def post_process(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        yield from ManifestFilesMixin.post_process(self, *args, **kwargs)
        self._flush_pending_delete()

    def hashed_name(self, name: str, content: Any = None, filename: str | None = None) -> str:
        # Without content, Django downloads the stored file to hash it (a CSS file refers to
        # a file not hashed yet). Django's hash is the MD5 of the bytes, which is the ETag the
        # listing already holds when the bytes were stored as they are.
        if content is None and type(self).file_hash is S3ManifestStaticStorage.file_hash:
            target = urlsplit(unquote(filename or name)).path.strip()
            md5 = self._stored_md5(target)
            if md5 is not None:
                content = _KnownHash(md5)
        return str(super().hashed_name(name, content, filename))

    def file_hash(self, name: str, content: Any = None) -> str | None:
        if isinstance(content, _KnownHash):
            return content.md5[:12]
        return super().file_hash(name, content)

    def _stored_md5(self, name: str) -> str | None:
        try:
            entry = self._lookup(name)
        except Exception:  # noqa: BLE001 - a name Django cannot hash locally: let it try
            return None
        if entry is None:
            return None
        key = self._normalize_name(name)
        params = self._get_write_parameters(key)
        if self.gzip and should_gzip(key, params["ContentType"], self.gzip_content_types, params):
            return None  # stored compressed: the ETag is not the hash of the source bytes
        if not self._etag_is_md5(entry.etag, params):
            return None
        return entry.etag


class _KnownHash:
    """Stands for a file's content whose MD5 is already known (from the listing)."""

    def __init__(self, md5: str) -> None:
        self.md5 = md5

    def seek(self, offset: int) -> int:
        return 0
