"""A ``collectstatic`` run's view of its storage: one listing instead of a request per file.

``collectstatic`` asks, for every file, ``exists()`` and ``get_modified_time()``, and then
``delete()`` + ``save()`` when the source looks newer; the manifest storage's post-processing
adds ``exists()``, ``delete()`` and ``_save()`` per hashed file. Against an object store each
of those is a request, so an unchanged tree of 1,000 files costs thousands of them.

A *collect scope* makes that run cheap without changing what a call means for anyone else:

* it is opened by :func:`collect_scope` (the ``collectstatic`` command of
  ``storages.management.commands`` opens it around ``collect()``) and closed when the ``with``
  block ends, also by an exception;
* it is bound to one storage instance and the thread that opened it: other instances, other
  threads and every call before or after the block get the provider's plain behaviour, each
  answered by the server;
* while it is open, a storage with :class:`CollectStaticMixin` answers ``exists()``,
  ``get_modified_time()`` and ``size()`` from one listing of its location, taken at the
  first question and kept up to date by the storage's own saves and deletes;
* a ``delete()`` of a listed file is deferred. The next ``save()`` of the same name either
  drops it (the new object replaces the old one) or, when the content's digest equals the
  stored one, drops it *and* skips the upload: Django's delete-then-save of an unchanged
  file costs nothing. Deferred deletes are sent before any call that could observe them
  (``open()``, ``listdir()``...) and when the scope closes, so none is ever lost;
* an upload whose digest equals the stored object's digest is skipped (except after
  ``collectstatic --clear``, which writes every object anew).

A provider joins by putting :class:`CollectStaticMixin` before its storage class and
implementing two hooks: :meth:`~CollectStaticMixin.collect_listing` (everything under the
location, with size, modified time and content digest when the listing tells it) and
:meth:`~CollectStaticMixin.collect_upload_digest` (the digest of what an upload of some content
would store, comparable with the listing's). The provider's ``_save`` must replace an existing
object as a whole, as object stores do: that is what makes dropping a deferred delete safe.
"""

from __future__ import annotations

import datetime
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles.storage import ManifestFilesMixin
from django.core.files.base import File
from django.utils import timezone
from django.utils.functional import LazyObject, empty

from storages.utils import normalize_name

if TYPE_CHECKING:
    from storages.base import BaseStorage

    _MixinBase = BaseStorage
else:
    _MixinBase = object

__all__ = [
    "CollectManifestMixin",
    "CollectScope",
    "CollectStaticMixin",
    "ListedFile",
    "active_scope",
    "collect_scope",
    "joins_collect_scope",
    "unwrap_storage",
]


@dataclass(frozen=True)
class ListedFile:
    """One object of a provider's listing, as :meth:`CollectStaticMixin.collect_listing` gives it.

    ``key`` is the full key or path (with the location, as ``_normalize_name()`` builds it);
    ``modified_time`` is timezone-aware; ``digest`` is the digest of the stored bytes in the
    form :meth:`CollectStaticMixin.collect_upload_digest` returns, or ``None`` when the listing
    cannot tell it (the upload then always happens). ``size`` is ``None`` for a file this run
    saved: the store is asked when someone wants it.
    """

    key: str
    size: int | None
    modified_time: datetime.datetime
    digest: str | None


@dataclass
class CollectScope:
    """The state of one open scope: one storage, one thread, one listing, deferred deletes."""

    storage: Any
    thread_id: int = field(default_factory=threading.get_ident)
    #: The listing by key (``None`` until the first question needs it).
    entries: dict[str, ListedFile] | None = None
    #: Deferred deletes: key -> (the name given to ``delete()``, the entry it removed,
    #: whether a save of the same content may skip its upload).
    pending: dict[str, tuple[str, ListedFile, bool]] = field(default_factory=dict)
    #: Set while ``collectstatic --clear`` deletes: those deletes are deferred too (the save
    #: that follows replaces the object anyway), but that save always uploads, so that every
    #: object is written anew (with the metadata of today's ``object_parameters``).
    clearing: bool = False
    #: Keys whose state the scope cannot know (a write through ``open(name, "wb")``, a failed
    #: save): questions about them go to the store.
    unknown: set[str] = field(default_factory=set)
    #: How many ``collect_scope()`` blocks hold this scope (it closes when the last one ends).
    depth: int = 1
    #: Requests the scope saved, for logs and tests: skipped uploads and dropped deletes.
    skipped_uploads: int = 0
    dropped_deletes: int = 0


# The scopes open in each thread. A scope lives here, not on the storage, so that other
# threads never see it and a storage pickled or copied while it is open carries none.
_open_scopes = threading.local()


def _scopes() -> list[CollectScope]:
    scopes: list[CollectScope] | None = getattr(_open_scopes, "scopes", None)
    if scopes is None:
        scopes = _open_scopes.scopes = []
    return scopes


def unwrap_storage(storage: Any) -> Any:
    """The storage behind Django's lazy ``staticfiles_storage`` / ``storages[...]`` proxies."""
    if isinstance(storage, LazyObject):
        if storage._wrapped is empty:
            storage._setup()
        return storage._wrapped
    return storage


def joins_collect_scope(storage: Any) -> bool:
    """Whether ``storage`` (or the storage behind a lazy proxy) speeds up in a collect scope."""
    return isinstance(unwrap_storage(storage), CollectStaticMixin)


def active_scope(storage: Any) -> CollectScope | None:
    """The scope open on ``storage`` in the current thread, or ``None``."""
    for scope in _scopes():
        if scope.storage is storage:
            return scope
    return None


@contextmanager
def collect_scope(storage: Any) -> Iterator[CollectScope | None]:
    """Open a collect scope on ``storage`` for the current thread, for the ``with`` block.

    Storages without :class:`CollectStaticMixin` are left alone (the block gets ``None``).
    Opening it again on the same storage in the same thread reuses the open scope. When the
    block ends, by an exception too, the deferred deletes are sent and the listing forgotten.
    """
    storage = unwrap_storage(storage)
    if not isinstance(storage, CollectStaticMixin):
        yield None
        return
    scope = active_scope(storage)
    if scope is not None:
        scope.depth += 1
    else:
        scope = CollectScope(storage)
        _scopes().append(scope)
    try:
        yield scope
    finally:
        scope.depth -= 1
        if scope.depth == 0:
            _scopes().remove(scope)
            storage._collect_flush(scope)
            scope.entries = None


class CollectStaticMixin(_MixinBase):
    """Makes a provider's storage cheap inside :func:`collect_scope`, and plain outside it.

    Put it before the provider's storage class (``class MyStatic(CollectStaticMixin,
    MyStorage)``) and implement :meth:`collect_listing` and :meth:`collect_upload_digest`.
    The storage must be a :class:`storages.base.BaseStorage` (the scope uses its
    ``_normalize_name()`` to turn names into the listing's keys).
    """

    # -- provider hooks -------------------------------------------------------------------

    def collect_listing(self) -> Iterable[ListedFile]:
        """Every object under the location: full key, size, modified time and digest.

        Called once per scope, at the first question. Return the digest only when the store
        guarantees it is the digest of the stored bytes; ``None`` makes uploads happen.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement collect_listing().")

    def collect_upload_digest(self, key: str, content: Any) -> str | None:
        """The digest of the bytes that saving ``content`` under ``key`` would store.

        Comparable with :attr:`ListedFile.digest`; the content must be left readable (it is
        rewound before the upload). ``None`` when it cannot tell (the upload happens).
        """
        return None

    # -- the scope's state ----------------------------------------------------------------

    def _collect_scope(self) -> CollectScope | None:
        return active_scope(self)

    def _collect_entries(self, scope: CollectScope) -> dict[str, ListedFile]:
        if scope.entries is None:
            scope.entries = {entry.key: entry for entry in self.collect_listing()}
        return scope.entries

    def _collect_lookup(self, scope: CollectScope, name: str) -> ListedFile | None:
        """The listed entry of ``name`` (``None``: not stored, or deleted by this run)."""
        return self._collect_entries(scope).get(self._normalize_name(name))

    def collect_entry(self, name: str) -> ListedFile | None:
        """Inside a scope, what the listing says about ``name``; ``None`` when it does not know.

        For provider shortcuts (the S3 manifest storage takes file hashes from it). Outside a
        scope, always ``None``.
        """
        scope = self._collect_scope()
        if scope is None or self._normalize_name(name) in scope.unknown:
            return None
        return self._collect_lookup(scope, name)

    def _collect_flush(self, scope: CollectScope, key: str | None = None) -> None:
        """Send the deferred deletes (of ``key`` only, if given).

        All are tried; the first error is raised after the others were sent.
        """
        error: BaseException | None = None
        keys = list(scope.pending) if key is None else [key] if key in scope.pending else []
        for pending_key in keys:
            name, _, _ = scope.pending.pop(pending_key)
            try:
                super().delete(name)
            except Exception as exc:  # noqa: BLE001 - raised below, after the other deletes
                scope.unknown.add(pending_key)
                error = error or exc
        if error is not None:
            raise error

    def _collect_flush_if_open(self) -> None:
        scope = self._collect_scope()
        if scope is not None and scope.pending:
            self._collect_flush(scope)

    # -- answers from the listing ---------------------------------------------------------

    def exists(self, name: str) -> bool:
        scope = self._collect_scope()
        if scope is None or self._normalize_name(name) in scope.unknown:
            return super().exists(name)
        return self._collect_lookup(scope, name) is not None

    def get_modified_time(self, name: str) -> datetime.datetime:
        scope = self._collect_scope()
        if scope is None or self._normalize_name(name) in scope.unknown:
            return super().get_modified_time(name)
        entry = self._collect_lookup(scope, name)
        if entry is None:
            raise FileNotFoundError(f"File does not exist: {name}")
        if settings.USE_TZ:
            return entry.modified_time
        return timezone.make_naive(entry.modified_time)

    def size(self, name: str) -> int:
        scope = self._collect_scope()
        if scope is None or self._normalize_name(name) in scope.unknown:
            return super().size(name)
        entry = self._collect_lookup(scope, name)
        if entry is None:
            raise FileNotFoundError(f"File does not exist: {name}")
        if entry.size is None:  # saved by this run: the stored size may differ (gzip)
            return super().size(name)
        return entry.size

    # -- writes ---------------------------------------------------------------------------

    def delete(self, name: str) -> None:
        scope = self._collect_scope()
        if scope is None:
            super().delete(name)
            return
        key = self._normalize_name(name)
        if key in scope.unknown:
            super().delete(name)
            scope.unknown.discard(key)
            self._collect_entries(scope).pop(key, None)
            return
        entry = self._collect_entries(scope).pop(key, None)
        if entry is None:
            super().delete(name)  # not listed: nothing to defer, ask the store as usual
            return
        # Deferred: collectstatic saves the same name next, which replaces the object anyway.
        scope.pending[key] = (name, entry, not scope.clearing)

    def _save(self, name: str, content: File[Any] | IO[Any]) -> str:
        scope = self._collect_scope()
        if scope is None:
            return super()._save(name, content)
        key = self._normalize_name(normalize_name(name))
        digest = self.collect_upload_digest(key, content)
        deferred = scope.pending.pop(key, None)
        if deferred is not None:
            scope.dropped_deletes += 1
        stored = deferred[1] if deferred is not None else None
        if stored is None and digest is not None and key not in scope.unknown:
            stored = self._collect_entries(scope).get(key)
        may_skip = deferred is None or deferred[2]
        if may_skip and digest is not None and stored is not None and stored.digest == digest:
            self._collect_entries(scope)[key] = stored
            scope.skipped_uploads += 1
            return normalize_name(name)
        try:
            saved = super()._save(name, content)
        except BaseException:
            if deferred is not None:
                scope.pending[key] = deferred  # the delete still happens, at the latest at close
                scope.dropped_deletes -= 1
            else:
                scope.unknown.add(key)  # the write may or may not have landed
            raise
        saved_key = self._normalize_name(saved)
        scope.unknown.discard(saved_key)
        if scope.entries is not None:
            scope.entries[saved_key] = ListedFile(
                key=saved_key,
                size=None,
                modified_time=datetime.datetime.now(datetime.UTC),
                digest=digest if saved_key == key else None,
            )
        return saved

    # -- calls that could observe a deferred delete send it first -------------------------

    def _open(self, name: str, mode: str = "rb") -> Any:
        scope = self._collect_scope()
        if scope is not None:
            key = self._normalize_name(name)
            self._collect_flush(scope, key)
            if any(flag in mode for flag in "wa+"):
                # Written through the file, not _save(): the listing cannot follow it.
                scope.unknown.add(key)
                if scope.entries is not None:
                    scope.entries.pop(key, None)
        return super()._open(name, mode)

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        self._collect_flush_if_open()
        return super().listdir(path)

    def get_accessed_time(self, name: str) -> datetime.datetime:
        self._collect_flush_if_open()
        return super().get_accessed_time(name)

    def get_created_time(self, name: str) -> datetime.datetime:
        self._collect_flush_if_open()
        return super().get_created_time(name)


class CollectManifestMixin(ManifestFilesMixin):
    """Django's hashed names and manifest, for a storage with :class:`CollectStaticMixin`.

    Use it as ``class MyManifest(CollectManifestMixin, MyStaticStorage)``. Compared with
    Django's ``ManifestFilesMixin`` alone:

    * the manifest is read on first use, not in ``__init__`` (Django reads it whenever the
      storage is built: a request in every process that merely constructs it);
    * inside a collect scope, the hash of a file that a CSS file refers to comes from the
      listing when its digest is the MD5 of the file's own bytes (see
      :meth:`collect_source_md5`), instead of a download of the file.
    """

    def __init__(self, *args: Any, manifest_storage: Any = None, **kwargs: Any) -> None:
        self._manifest_state: tuple[dict[str, str], str | None] | None = None
        self._constructing = True
        super().__init__(*args, manifest_storage=manifest_storage, **kwargs)
        self._constructing = False
        self._manifest_state = None

    def collect_source_md5(self, name: str) -> str | None:
        """Inside a scope, the hex MD5 of ``name``'s source bytes as the listing tells it.

        The default trusts the listing's digest as that MD5 (the provider's listing gives MD5s
        of the stored bytes, stored as they are). Override it to say ``None`` where the stored
        bytes differ from the source (a storage that compresses them).
        """
        entry = self.collect_entry(name)  # type: ignore[attr-defined]
        return entry.digest if entry is not None else None

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
        # Without content, Django downloads the stored file to hash it (a CSS file refers to a
        # file not hashed yet). Django's hash is the MD5 of the bytes.
        if content is None and type(self).file_hash is CollectManifestMixin.file_hash:
            try:
                md5 = self.collect_source_md5(urlsplit(unquote(filename or name)).path.strip())
            except Exception:  # noqa: BLE001 - a name Django cannot hash this way: let it try
                md5 = None
            if md5 is not None:
                content = _KnownHash(md5)
        return str(super().hashed_name(name, content, filename))

    def file_hash(self, name: str, content: Any = None) -> str | None:
        if isinstance(content, _KnownHash):
            return content.md5[:12]
        return super().file_hash(name, content)


class _KnownHash:
    """Stands for a file's content whose MD5 is already known (from the listing)."""

    def __init__(self, md5: str) -> None:
        self.md5 = md5

    def seek(self, offset: int) -> int:
        return 0
