"""``AzureStaticStorage`` and ``AzureManifestStaticStorage``: ``collectstatic`` in one listing
instead of a request per file.

It joins core's collect scope (:mod:`storages.collect`): while ``manage.py collectstatic`` runs
(with ``"storages"`` before ``"django.contrib.staticfiles"`` in ``INSTALLED_APPS``),
``exists()``/``get_modified_time()``/``size()`` are answered from one flat listing of the
location (5,000 blobs per request), Django's delete-then-save of an unchanged file costs
nothing, and an upload is skipped when the content's MD5 equals the blob's stored Content-MD5.
Every upload of this storage stores its Content-MD5 (also block uploads, for which Azure does
not compute one). Outside the command it is a plain :class:`AzureStorage`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any, ClassVar
from urllib.parse import unquote, urlsplit

from django.contrib.staticfiles.storage import ManifestFilesMixin

from storages.backends.azure_storage.storage import AzureStorage
from storages.collect import CollectStaticMixin, ListedFile
from storages.utils import is_seekable, read_from_start

__all__ = ["AzureManifestStaticStorage", "AzureStaticStorage"]


class AzureStaticStorage(CollectStaticMixin, AzureStorage):
    """Azure storage for static files: overwrites by default, one-listing ``collectstatic``."""

    overwrite_files = True
    store_content_md5: ClassVar[bool] = True

    def collect_listing(self) -> Iterator[ListedFile]:
        """Every blob under the location, with its stored Content-MD5 (hex) when it has one."""
        self.check_required()
        prefix = self._normalize_name("")
        for blob in self.client.list_blobs(
            name_starts_with=prefix or None, results_per_page=self.list_page_size, timeout=self.server_timeout
        ):
            md5 = blob.content_settings.content_md5 if blob.content_settings else None
            yield ListedFile(
                key=blob.name,
                size=int(blob.size),
                modified_time=blob.last_modified,
                digest=bytes(md5).hex() if md5 else None,
            )

    def collect_upload_digest(self, key: str, content: Any) -> str | None:
        """The MD5 of the bytes ``_save()`` stores (they are stored as they are)."""
        if not is_seekable(content):
            return None  # read once by the upload: cannot be hashed first
        digest = hashlib.md5(usedforsecurity=False)
        source: Any = read_from_start(content)
        while chunk := source.read(1024 * 1024):
            digest.update(chunk.encode("utf-8") if isinstance(chunk, str) else chunk)
        return digest.hexdigest()


class AzureManifestStaticStorage(ManifestFilesMixin, AzureStaticStorage):  # type: ignore[misc]
    """Azure storage for static files with Django's hashed names and manifest.

    The manifest is read on first use, not when the storage is constructed (Django reads it in
    ``__init__``: a request for every process that merely builds the storage). Inside
    ``collectstatic`` the post-processing's ``exists()``/``delete()``/``_save()`` per hashed
    file cost no request when the hashed files are stored already, and the hash of a file that
    a CSS file refers to comes from the listing's Content-MD5 instead of a download.
    """

    def __init__(self, *args: Any, manifest_storage: Any = None, **kwargs: Any) -> None:
        self._manifest_state: tuple[dict[str, str], str | None] | None = None
        self._constructing = True
        super().__init__(*args, manifest_storage=manifest_storage, **kwargs)
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

    def hashed_name(self, name: str, content: Any = None, filename: str | None = None) -> str:
        # Without content, Django downloads the stored file to hash it. Django's hash is the
        # MD5 of the bytes: the Content-MD5 that the collect scope's listing holds.
        if content is None and type(self).file_hash is AzureManifestStaticStorage.file_hash:
            md5 = self._stored_md5(urlsplit(unquote(filename or name)).path.strip())
            if md5 is not None:
                content = _KnownHash(md5)
        return str(super().hashed_name(name, content, filename))

    def file_hash(self, name: str, content: Any = None) -> str | None:
        if isinstance(content, _KnownHash):
            return content.md5[:12]
        return super().file_hash(name, content)

    def _stored_md5(self, name: str) -> str | None:
        try:
            entry = self.collect_entry(name)
        except Exception:  # noqa: BLE001 - a name Django cannot hash this way: let it try
            return None
        return entry.digest if entry is not None else None


class _KnownHash:
    """Stands for a file's content whose MD5 is known already (from the listing)."""

    def __init__(self, md5: str) -> None:
        self.md5 = md5

    def seek(self, offset: int) -> int:
        return 0
