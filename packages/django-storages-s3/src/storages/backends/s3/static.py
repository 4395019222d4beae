"""Static-files storages: ``collectstatic`` in one listing instead of a request per file.

Both join core's collect scope (:mod:`storages.collect`): while ``manage.py collectstatic``
runs (with ``"storages"`` before ``"django.contrib.staticfiles"`` in ``INSTALLED_APPS``),
``exists()``/``get_modified_time()``/``size()`` are answered from one ``ListObjectsV2`` listing
of the location (1,000 keys per request), Django's delete-then-save of an unchanged file costs
nothing, and an upload is skipped when the content's MD5 equals the stored ETag. Outside the
command they are plain :class:`S3Storage`: every call is answered by S3.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

from storages.backends.s3.storage import S3Storage
from storages.collect import CollectManifestMixin, CollectStaticMixin, ListedFile
from storages.compress import GzipCompressionWrapper, should_gzip
from storages.utils import is_seekable, read_from_start

__all__ = ["S3ManifestStaticStorage", "S3StaticStorage"]

_MD5_HEX_DIGITS = frozenset("0123456789abcdef")


class S3StaticStorage(CollectStaticMixin, S3Storage):
    """S3 storage for static files: unsigned URLs and a one-listing ``collectstatic``."""

    querystring_auth = False

    # -- collect scope hooks --------------------------------------------------------------

    def collect_listing(self) -> Iterator[ListedFile]:
        """Every object under the location, from ``ListObjectsV2`` (1,000 per request)."""
        for page in self._iter_listing(self._normalize_name(""), delimiter=None):
            for item in page.get("Contents", ()):
                key = item["Key"]
                yield ListedFile(
                    key=key,
                    size=int(item.get("Size", 0)),
                    modified_time=item["LastModified"],
                    digest=self._listed_md5(key, str(item.get("ETag", ""))),
                )

    def _listed_md5(self, key: str, etag: str) -> str | None:
        """The ETag when it is the MD5 of the stored bytes, else ``None``.

        Multipart ETags end in ``-N``; with SSE-KMS or SSE-C the ETag is not the MD5.
        """
        etag = etag.strip('"').lower()
        if len(etag) != 32 or not _MD5_HEX_DIGITS.issuperset(etag):
            return None
        params = self.get_object_parameters(key)
        if "SSECustomerKey" in params or params.get("ServerSideEncryption") == "aws:kms":
            return None
        return etag

    def collect_upload_digest(self, key: str, content: Any) -> str | None:
        """The MD5 of the bytes ``_save()`` would store: gzipped when it would gzip them."""
        if not is_seekable(content):
            return None  # read once by the upload: cannot be hashed first
        digest = hashlib.md5(usedforsecurity=False)
        source: Any = read_from_start(content)
        if self._gzips(key, content):
            source = GzipCompressionWrapper(source)
        while chunk := source.read(1024 * 1024):
            digest.update(chunk)
        return digest.hexdigest()

    def _gzips(self, key: str, content: Any = None) -> bool:
        """Whether ``_save()`` compresses an upload to ``key`` (as its own test decides)."""
        if not self.gzip:
            return False
        params = self._get_write_parameters(key, content)
        return should_gzip(key, params["ContentType"], self.gzip_content_types, params)


class S3ManifestStaticStorage(CollectManifestMixin, S3StaticStorage):  # type: ignore[misc]
    """S3 storage for static files with Django's hashed names and manifest.

    The manifest is read once, on first use (Django reads it in ``__init__``, a request for
    every process that merely imports the storage). Inside ``collectstatic`` the
    post-processing's ``exists()``/``delete()``/``_save()`` per hashed file cost no request when
    the hashed files are stored already, and the hash of a file that a CSS file refers to comes
    from the listing's ETag instead of a download (see
    :class:`storages.collect.CollectManifestMixin`).
    """

    def collect_source_md5(self, name: str) -> str | None:
        if self._gzips(self._normalize_name(name)):
            return None  # stored compressed: the ETag is not the MD5 of the source bytes
        return super().collect_source_md5(name)
