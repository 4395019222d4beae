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
from urllib.parse import unquote, urlsplit

from django.contrib.staticfiles.storage import ManifestFilesMixin

from storages.backends.s3.storage import S3Storage
from storages.collect import CollectStaticMixin, ListedFile
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


class S3ManifestStaticStorage(ManifestFilesMixin, S3StaticStorage):  # type: ignore[misc]
    """S3 storage for static files with Django's hashed names and manifest.

    The manifest is read once, on first use, not when the storage is constructed (Django
    reads it in ``__init__``, a request for every process that merely imports the storage).
    Inside ``collectstatic``, the post-processing's ``exists()``/``delete()``/``_save()`` per
    hashed file cost no request when the hashed files are already stored, and the hash of a
    referenced file comes from the listing's ETag instead of a download.
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

    def hashed_name(self, name: str, content: Any = None, filename: str | None = None) -> str:
        # Without content, Django downloads the stored file to hash it (a CSS file refers to
        # a file not hashed yet). Django's hash is the MD5 of the bytes, which is the ETag the
        # collect scope's listing holds when the bytes were stored as they are.
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
        """Inside a collect scope, the MD5 of the stored bytes of ``name`` when they are its own."""
        try:
            entry = self.collect_entry(name)
            key = self._normalize_name(name)
        except Exception:  # noqa: BLE001 - a name Django cannot hash this way: let it try
            return None
        if entry is None or self._gzips(key):
            return None  # not in a scope, not listed, or stored compressed
        return entry.digest


class _KnownHash:
    """Stands for a file's content whose MD5 is already known (from the listing)."""

    def __init__(self, md5: str) -> None:
        self.md5 = md5

    def seek(self, offset: int) -> int:
        return 0
