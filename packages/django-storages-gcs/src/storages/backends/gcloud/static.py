"""``GoogleCloudStaticStorage`` and ``GoogleCloudManifestStaticStorage``: ``collectstatic`` in
one listing instead of a request per file.

They join core's collect scope (:mod:`storages.collect`): while ``manage.py collectstatic``
runs (with ``"storages"`` before ``"django.contrib.staticfiles"`` in ``INSTALLED_APPS``),
``exists()``/``get_modified_time()``/``size()`` are answered from one listing of the location,
Django's delete-then-save of an unchanged file costs nothing, and an upload is skipped when the
MD5 of what it would store equals the object's ``md5Hash``. Outside the command they are a
plain :class:`~storages.backends.gcloud.GoogleCloudStorage` with public URLs.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from typing import Any

from storages.backends.gcloud.storage import GoogleCloudStorage
from storages.collect import CollectManifestMixin, CollectStaticMixin, ListedFile
from storages.compress import GzipCompressionWrapper
from storages.utils import is_seekable, read_from_start

__all__ = ["GoogleCloudManifestStaticStorage", "GoogleCloudStaticStorage"]


class GoogleCloudStaticStorage(CollectStaticMixin, GoogleCloudStorage):
    """Google Cloud Storage for static files: unsigned URLs and a one-listing ``collectstatic``."""

    querystring_auth = False

    def collect_listing(self) -> Iterator[ListedFile]:
        """Every object under the location, with the MD5 of its stored bytes when GCS has one.

        Composite objects have no ``md5Hash`` (only a CRC32C): they are always uploaded again.
        """
        self.check_required()
        for page in self._iter_pages(self._normalize_name(""), delimiter=None, page_size=1000):
            for blob in page:
                md5 = blob.md5_hash
                yield ListedFile(
                    key=blob.name,
                    size=int(blob.size or 0),
                    modified_time=blob.updated,
                    digest=base64.b64decode(md5).hex() if md5 else None,
                )

    def collect_upload_digest(self, key: str, content: Any) -> str | None:
        """The MD5 of the bytes ``_save()`` would store (gzipped when gzip applies)."""
        if not is_seekable(content):
            return None  # read once by the upload: cannot be hashed first
        source: Any = read_from_start(content)
        if self._compresses(key, self._get_write_parameters(key)):
            source = GzipCompressionWrapper(source)
        digest = hashlib.md5(usedforsecurity=False)
        while chunk := source.read(1024 * 1024):
            digest.update(chunk)
        return digest.hexdigest()


class GoogleCloudManifestStaticStorage(CollectManifestMixin, GoogleCloudStaticStorage):  # type: ignore[misc]
    """Google Cloud Storage for static files with Django's hashed names and manifest.

    The manifest is read on first use; inside ``collectstatic`` the hash of a file that a CSS
    file refers to comes from the listing's MD5 instead of a download (see
    :class:`storages.collect.CollectManifestMixin`).
    """

    def collect_source_md5(self, name: str) -> str | None:
        key = self._normalize_name(name)
        if self._compresses(key, self._get_write_parameters(key)):
            return None  # stored compressed: the MD5 is not the source's
        return super().collect_source_md5(name)
