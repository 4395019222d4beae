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

from storages.backends.azure_storage.storage import AzureStorage
from storages.collect import CollectManifestMixin, CollectStaticMixin, ListedFile
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


class AzureManifestStaticStorage(CollectManifestMixin, AzureStaticStorage):  # type: ignore[misc]
    """Azure storage for static files with Django's hashed names and manifest.

    The manifest is read on first use, not when the storage is constructed. Inside
    ``collectstatic`` the post-processing's ``exists()``/``delete()``/``_save()`` per hashed
    file cost no request when the hashed files are stored already, and the hash of a file that
    a CSS file refers to comes from the listing's Content-MD5 instead of a download (see
    :class:`storages.collect.CollectManifestMixin`).
    """
