"""The conformance kit: one test class that every storage provider runs.

A provider's test module subclasses :class:`StorageConformanceTests`, provides a ``storage``
fixture that returns an empty storage on a live local server, and sets capability flags for
what the provider cannot do::

    import pytest
    from storages.testing import StorageConformanceTests

    class TestMyStorage(StorageConformanceTests):
        supports_accessed_time = False

        @pytest.fixture
        def storage(self, my_server):
            return MyStorage(endpoint=my_server.url, bucket_name="conformance")

A flag turns a test into a skip that names the flag. A provider must not weaken a test any
other way: a test that fails for a provider is overridden only as an explicit
``pytest.mark.xfail(strict=True, reason=...)``, so it shows in every report.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import io
import os
import pickle
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.base import ContentFile
from django.core.files.storage import Storage
from django.test import override_settings
from django.utils.module_loading import import_string

from storages.exceptions import StorageWriteError
from storages.files import StreamingFile
from storages.options import looks_secret, nested_secrets
from storages.testing.threads import run_threads

__all__ = ["StorageConformanceTests"]

MiB = 1024 * 1024


def options_of(storage: Storage) -> dict[str, Any]:
    """The keyword arguments ``storage`` was built with (secrets included)."""
    given = getattr(storage, "_given_options", None)
    if callable(given):
        return dict(given())
    return dict(getattr(storage, "_constructor_args", ((), {}))[1])


def secret_strings(cls: type, options: dict[str, Any]) -> list[str]:
    """The secrets in ``options``: values of secret options (for a mapping, its secret-looking
    keys' values) and secrets nested in other values (a password in a URL, a key in a dict)."""
    declared = {option.name: option for option in getattr(cls, "options", ())}
    found: list[str] = []
    for key, value in options.items():
        option = declared.get(key)
        if isinstance(value, dict | list | tuple):
            found += nested_secrets(value)
        elif (option.secret if option is not None else looks_secret(key)) and value not in (None, ""):
            found.append(value.decode() if isinstance(value, bytes) else str(value))
        else:
            found += nested_secrets(value)
    return [secret for secret in found if len(secret) >= 4]


def _skip_unless(flag: bool, name: str) -> None:
    if not flag:
        pytest.skip(f"capability flag {name} is False for this storage")


@functools.cache
def _document_model() -> Any:
    from django.db import models

    class ConformanceDocument(models.Model):
        file = models.FileField(upload_to="conformance-model/", max_length=200)

        class Meta:
            app_label = "storages"

    return ConformanceDocument


def _pattern(size: int) -> Iterator[bytes]:
    """Deterministic, non-repeating-looking bytes in 1 MiB chunks."""
    block = hashlib.sha256(b"storages").digest() * (MiB // 32)
    produced = 0
    counter = 0
    while produced < size:
        chunk = hashlib.sha256(counter.to_bytes(8, "big")).digest() + block[32:]
        chunk = chunk[: min(MiB, size - produced)]
        produced += len(chunk)
        counter += 1
        yield chunk


class StorageConformanceTests:
    """Behaviour every storage backend must show. Subclass and provide ``storage``."""

    #: ``url()`` returns a URL that ``urllib`` can fetch (absolute, served by the local server).
    supports_url_fetch: bool = True
    #: ``url()`` is implemented at all.
    supports_url: bool = True
    supports_modified_time: bool = True
    supports_accessed_time: bool = False
    supports_created_time: bool = False
    #: An exception inside ``with storage.open(name, "wb")`` leaves nothing under ``name``.
    supports_atomic_write: bool = True
    #: ``open(name, "w"/"wb")`` is supported.
    supports_open_write: bool = True
    #: Files opened for reading can ``seek``.
    supports_seek: bool = True
    #: ``open()`` refuses modes other than r, rb, w, wb with ``ValueError``.
    rejects_unsupported_modes: bool = True
    #: Backslashes in names are path separators (so ``..\\x`` is a traversal attempt).
    backslash_is_separator: bool = True
    #: Names with a null byte or control character are refused.
    rejects_control_characters: bool = True
    #: Saving an existing name replaces it (True) or picks another name (False).
    overwrites: bool = False
    #: Files created for the ``listdir`` paging test: more than the server's page size.
    listdir_entries: int = 1001
    #: Size of the streamed round-trip test.
    large_file_size: int = 24 * MiB
    #: Threads in the concurrency test.
    threads: int = 16
    #: ``open(name, "wb")`` returns a :class:`storages.files.StreamingFile` (core's file).
    uses_streaming_file: bool = True
    #: The import path the storage class must report (the original library's), e.g.
    #: ``"storages.backends.s3.S3Storage"``. ``None``: any public path that imports the class.
    public_class_path: str | None = None

    # -- fixtures -------------------------------------------------------------------------

    @pytest.fixture
    def storage(self) -> Storage:
        raise NotImplementedError("Provide a `storage` fixture returning an empty storage.")

    @pytest.fixture
    def name(self) -> str:
        return f"conformance-{uuid.uuid4().hex[:12]}/file.bin"

    # -- helpers --------------------------------------------------------------------------

    @staticmethod
    def read_all(storage: Storage, name: str, mode: str = "rb") -> Any:
        with storage.open(name, mode) as f:
            return f.read()

    @staticmethod
    def listdir_or_empty(storage: Storage, folder: str) -> tuple[list[str], list[str]]:
        """``listdir`` of a folder that may not exist (some storages raise, some return empty)."""
        try:
            dirs, files = storage.listdir(folder)
        except FileNotFoundError:
            return [], []
        return sorted(dirs), sorted(files)

    # -- provider hooks (override with the provider's SDK; these are not tests) -------------

    def second_instance(self, storage: Storage) -> Storage:
        """Another instance on the same location, as another process would build it."""
        return type(storage)(**options_of(storage))

    def raw_write(self, storage: Storage, name: str, data: bytes) -> None:
        """Replace ``name`` behind ``storage``'s back. Override with the SDK's own call."""
        other = self.second_instance(storage)
        other.delete(name)
        assert other.save(name, ContentFile(data)) == name

    def raw_delete(self, storage: Storage, name: str) -> None:
        """Delete ``name`` behind ``storage``'s back. Override with the SDK's own call."""
        self.second_instance(storage).delete(name)

    def pending_uploads(self, storage: Storage, name: str) -> list[str]:
        """Unfinished uploads the provider keeps for ``name`` (multipart uploads, temporary
        files that ``listdir`` hides). Override for providers that have such things."""
        return []

    def fetch(self, url: str) -> bytes:
        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - local server
            return bytes(response.read())

    # -- round trips ----------------------------------------------------------------------

    def test_save_returns_name_and_reads_back(self, storage: Storage, name: str) -> None:
        saved = storage.save(name, ContentFile(b"hello storages"))
        assert saved == name
        assert self.read_all(storage, saved) == b"hello storages"

    def test_empty_file_round_trip(self, storage: Storage, name: str) -> None:
        saved = storage.save(name, ContentFile(b""))
        assert storage.exists(saved)
        assert storage.size(saved) == 0
        assert self.read_all(storage, saved) == b""

    def test_one_byte_round_trip(self, storage: Storage, name: str) -> None:
        saved = storage.save(name, ContentFile(b"\x00"))
        assert storage.size(saved) == 1
        assert self.read_all(storage, saved) == b"\x00"

    def test_large_file_streamed_round_trip(self, storage: Storage, name: str) -> None:
        _skip_unless(self.supports_open_write, "supports_open_write")
        expected = hashlib.sha256()
        with storage.open(name, "wb") as f:
            for chunk in _pattern(self.large_file_size):
                expected.update(chunk)
                f.write(chunk)
        assert storage.size(name) == self.large_file_size
        actual = hashlib.sha256()
        with storage.open(name, "rb") as f:
            while chunk := f.read(MiB):
                assert len(chunk) <= MiB
                actual.update(chunk)
        assert actual.hexdigest() == expected.hexdigest()

    def test_save_accepts_text_content(self, storage: Storage, name: str) -> None:
        saved = storage.save(name, ContentFile("naïve text"))
        assert self.read_all(storage, saved) == "naïve text".encode()

    def test_save_accepts_unseekable_content(self, storage: Storage, name: str) -> None:
        class Unseekable(io.RawIOBase):
            def __init__(self) -> None:
                self._data = io.BytesIO(b"streamed once")

            def readable(self) -> bool:
                return True

            def readinto(self, buffer: Any) -> int:
                data = self._data.read(len(buffer))
                buffer[: len(data)] = data
                return len(data)

        saved = storage.save(name, Unseekable())  # type: ignore[arg-type]
        assert self.read_all(storage, saved) == b"streamed once"

    # -- modes ----------------------------------------------------------------------------

    def test_binary_read_returns_bytes(self, storage: Storage, name: str) -> None:
        storage.save(name, ContentFile(b"bytes"))
        assert isinstance(self.read_all(storage, name, "rb"), bytes)

    def test_text_read_decodes_utf8_with_universal_newlines(self, storage: Storage, name: str) -> None:
        storage.save(name, ContentFile("é\r\nline two\n".encode()))
        assert self.read_all(storage, name, "r") == "é\nline two\n"

    def test_text_write_encodes_utf8(self, storage: Storage, name: str) -> None:
        _skip_unless(self.supports_open_write, "supports_open_write")
        with storage.open(name, "w") as f:
            f.write("ünïcode text")
        assert self.read_all(storage, name) == "ünïcode text".encode()

    def test_binary_write(self, storage: Storage, name: str) -> None:
        _skip_unless(self.supports_open_write, "supports_open_write")
        with storage.open(name, "wb") as f:
            f.write(b"part one, ")
            f.write(bytearray(b"part two"))
        assert self.read_all(storage, name) == b"part one, part two"

    def test_unsupported_mode_is_refused(self, storage: Storage, name: str) -> None:
        _skip_unless(self.rejects_unsupported_modes, "rejects_unsupported_modes")
        storage.save(name, ContentFile(b"x"))
        for mode in ("a", "r+", "ab", "x"):
            with pytest.raises(ValueError):
                storage.open(name, mode)
        assert self.read_all(storage, name) == b"x"

    def test_partial_reads_return_requested_sizes(self, storage: Storage, name: str) -> None:
        storage.save(name, ContentFile(b"0123456789"))
        with storage.open(name, "rb") as f:
            assert f.read(3) == b"012"
            assert f.read(3) == b"345"
            assert f.read() == b"6789"
            assert f.read() == b""

    def test_readline_and_iteration(self, storage: Storage, name: str) -> None:
        storage.save(name, ContentFile(b"one\ntwo\nthree"))
        with storage.open(name, "rb") as f:
            assert f.readline() == b"one\n"
            assert f.readline() == b"two\n"
        with storage.open(name, "rb") as f:
            assert list(f) == [b"one\n", b"two\n", b"three"]
        with storage.open(name, "r") as f:
            assert list(f) == ["one\n", "two\n", "three"]

    def test_seek_and_tell(self, storage: Storage, name: str) -> None:
        _skip_unless(self.supports_seek, "supports_seek")
        storage.save(name, ContentFile(b"0123456789"))
        with storage.open(name, "rb") as f:
            f.seek(6)
            assert f.tell() == 6
            assert f.read(2) == b"67"
            f.seek(1)
            assert f.read(3) == b"123"
            f.seek(-2, io.SEEK_END)
            assert f.read() == b"89"

    def test_chunks(self, storage: Storage, name: str) -> None:
        storage.save(name, ContentFile(b"a" * 1000))
        with storage.open(name, "rb") as f:
            chunks = list(f.chunks(chunk_size=300))
        assert [len(c) for c in chunks] == [300, 300, 300, 100]

    # -- names ----------------------------------------------------------------------------

    @pytest.mark.parametrize(
        "relative",
        ["ünïcödé-名前.txt", "with spaces and & + # ; chars.txt", "deeply/nested/folder/file.txt"],
        ids=["unicode", "special-characters", "nested"],
    )
    def test_names_round_trip(self, storage: Storage, relative: str) -> None:
        name = f"names-{uuid.uuid4().hex[:8]}/{relative}"
        saved = storage.save(name, ContentFile(b"named"))
        assert saved == name
        assert storage.exists(name)
        assert self.read_all(storage, name) == b"named"
        storage.delete(name)
        assert not storage.exists(name)

    @pytest.mark.parametrize(
        "bad",
        ["../escape.txt", "a/../../escape.txt", "/etc/passwd", "..\\escape.txt"],
        ids=["dotdot", "nested-dotdot", "absolute", "backslash-dotdot"],
    )
    def test_traversal_is_refused(self, storage: Storage, bad: str) -> None:
        if "\\" in bad:
            _skip_unless(self.backslash_is_separator, "backslash_is_separator")
        with pytest.raises(SuspiciousFileOperation):
            storage.save(bad, ContentFile(b"x"))
        with pytest.raises(SuspiciousFileOperation):
            storage.exists(bad)
        with pytest.raises(SuspiciousFileOperation):
            storage.open(bad, "rb")
        with pytest.raises(SuspiciousFileOperation):
            storage.delete(bad)

    def test_null_byte_is_refused_and_nothing_written(self, storage: Storage) -> None:
        _skip_unless(self.rejects_control_characters, "rejects_control_characters")
        folder = f"nul-{uuid.uuid4().hex[:8]}"
        with pytest.raises((SuspiciousFileOperation, ValueError)):
            storage.save(f"{folder}/bad\x00name.txt", ContentFile(b"x"))
        assert self.listdir_or_empty(storage, folder) == ([], [])

    def test_save_existing_name(self, storage: Storage, name: str) -> None:
        first = storage.save(name, ContentFile(b"first"))
        second = storage.save(name, ContentFile(b"second"))
        if self.overwrites:
            assert second == first
            assert self.read_all(storage, first) == b"second"
        else:
            assert second != first
            assert self.read_all(storage, first) == b"first"
            assert self.read_all(storage, second) == b"second"

    def test_max_length_is_respected(self, storage: Storage) -> None:
        folder = f"maxlen-{uuid.uuid4().hex[:8]}"
        long_name = f"{folder}/{'x' * 80}.txt"
        max_length = len(folder) + 1 + 30
        first = storage.save(long_name, ContentFile(b"1"), max_length=max_length)
        assert len(first) <= max_length
        assert first.endswith(".txt")
        second = storage.save(long_name, ContentFile(b"2"), max_length=max_length)
        assert len(second) <= max_length
        assert self.read_all(storage, second) == b"2"

    # -- listing --------------------------------------------------------------------------

    def test_listdir_returns_dirs_and_files(self, storage: Storage) -> None:
        root = f"list-{uuid.uuid4().hex[:8]}"
        for relative in ("a.txt", "b.txt", "sub/c.txt", "sub/deeper/d.txt", "other/e.txt"):
            storage.save(f"{root}/{relative}", ContentFile(b"x"))
        dirs, files = storage.listdir(root)
        assert sorted(dirs) == ["other", "sub"]
        assert sorted(files) == ["a.txt", "b.txt"]
        dirs, files = storage.listdir(f"{root}/sub/")
        assert (sorted(dirs), sorted(files)) == (["deeper"], ["c.txt"])

    def test_listdir_more_than_one_page(self, storage: Storage) -> None:
        root = f"paged-{uuid.uuid4().hex[:8]}"
        expected = {f"f{i:05d}.txt" for i in range(self.listdir_entries)}
        names = [f"{root}/{file_name}" for file_name in sorted(expected)]
        # Eight threads share the saves: one at a time, 1,001 round trips took up to 20 s.
        run_threads(lambda index: [storage.save(n, ContentFile(b"")) for n in names[index::8]], count=8)
        dirs, files = storage.listdir(root)
        assert dirs == []
        assert set(files) == expected
        assert len(files) == len(expected)

    # -- missing files --------------------------------------------------------------------

    def test_missing_file_semantics(self, storage: Storage) -> None:
        missing = f"missing-{uuid.uuid4().hex}.txt"
        assert storage.exists(missing) is False
        storage.delete(missing)  # silent
        with pytest.raises(FileNotFoundError):
            storage.open(missing, "rb")
        with pytest.raises(FileNotFoundError):
            storage.size(missing)
        if self.supports_modified_time:
            with pytest.raises(FileNotFoundError):
                storage.get_modified_time(missing)

    def test_delete_removes_file(self, storage: Storage, name: str) -> None:
        storage.save(name, ContentFile(b"x"))
        storage.delete(name)
        assert not storage.exists(name)

    # -- timestamps -----------------------------------------------------------------------

    @pytest.mark.parametrize("use_tz", [True, False], ids=["USE_TZ", "naive"])
    def test_modified_time_follows_use_tz(self, storage: Storage, name: str, use_tz: bool) -> None:
        _skip_unless(self.supports_modified_time, "supports_modified_time")
        storage.save(name, ContentFile(b"x"))
        with override_settings(USE_TZ=use_tz):
            modified = storage.get_modified_time(name)
        if use_tz:
            assert modified.tzinfo is not None
            now = datetime.datetime.now(datetime.UTC)
        else:
            assert modified.tzinfo is None
            now = datetime.datetime.now()
        assert abs((now - modified).total_seconds()) < 300

    def test_accessed_time(self, storage: Storage, name: str) -> None:
        _skip_unless(self.supports_accessed_time, "supports_accessed_time")
        storage.save(name, ContentFile(b"x"))
        accessed = storage.get_accessed_time(name)
        assert isinstance(accessed, datetime.datetime)

    def test_created_time(self, storage: Storage, name: str) -> None:
        _skip_unless(self.supports_created_time, "supports_created_time")
        storage.save(name, ContentFile(b"x"))
        created = storage.get_created_time(name)
        assert isinstance(created, datetime.datetime)

    # -- URLs -----------------------------------------------------------------------------

    def test_url_percent_encodes_names(self, storage: Storage) -> None:
        _skip_unless(self.supports_url, "supports_url")
        url = storage.url("folder/a b&c+d#e?f ü.txt")
        assert "a%20b%26c%2Bd%23e%3Ff%20%C3%BC.txt" in url

    @pytest.mark.parametrize(
        "relative", ["plain.txt", "sp ace & plus+hash#.txt", "ünï.txt"], ids=["plain", "special", "unicode"]
    )
    def test_url_is_fetchable(self, storage: Storage, relative: str) -> None:
        _skip_unless(self.supports_url and self.supports_url_fetch, "supports_url_fetch")
        name = f"urls-{uuid.uuid4().hex[:8]}/{relative}"
        storage.save(name, ContentFile(b"served bytes"))
        assert self.fetch(storage.url(name)) == b"served bytes"

    # -- Django integration ---------------------------------------------------------------

    def test_filefield_model_round_trip(self, storage: Storage) -> None:
        model = _document_model()
        field = model._meta.get_field("file")
        previous = field.storage
        field.storage = storage
        try:
            document = model()
            document.file.save("report.txt", ContentFile(b"model bytes"), save=False)
            assert document.file.name.startswith("conformance-model/report")
            assert storage.exists(document.file.name)
            document.file.open("rb")
            try:
                assert document.file.read() == b"model bytes"
            finally:
                document.file.close()
            assert document.file.size == len(b"model bytes")
            document.file.delete(save=False)
            assert not document.file
        finally:
            field.storage = previous

    def test_pickle_round_trip(self, storage: Storage, name: str) -> None:
        storage.save(name, ContentFile(b"pickled"))
        clone = pickle.loads(pickle.dumps(storage))
        assert self.read_all(clone, name) == b"pickled"
        assert self.read_all(storage, name) == b"pickled"

    def test_deconstruct_omits_secrets(self, storage: Storage) -> None:
        path, _args, kwargs = storage.deconstruct()  # type: ignore[attr-defined]
        assert path.rsplit(".", 1)[-1] == type(storage).__name__
        options = getattr(type(storage), "options", ())
        secrets = {option.name for option in options if option.secret}
        assert not secrets & set(kwargs)

    def test_class_reports_its_public_path(self, storage: Storage) -> None:
        # Migrations record the deconstruct() path; pickles and thumbnail caches __module__.
        cls = type(storage)
        path = storage.deconstruct()[0]  # type: ignore[attr-defined]
        if self.public_class_path is not None:
            assert path == self.public_class_path
            assert f"{cls.__module__}.{cls.__qualname__}" == self.public_class_path
        assert not any(part.startswith("_") for part in path.split(".")), path
        assert import_string(path) is cls
        assert pickle.loads(pickle.dumps(cls)) is cls

    def test_rebuilt_from_deconstruct_works_without_secrets_in_the_migration(
        self, storage: Storage, name: str
    ) -> None:
        # Wagtail's delete task rebuilds the storage with import_string(path)(*args, **kwargs).
        from django.core.files.storage import storages as configured_storages
        from django.db.migrations.writer import MigrationWriter

        cls = type(storage)
        options = options_of(storage)
        entry = {"BACKEND": f"{cls.__module__}.{cls.__qualname__}", "OPTIONS": options}
        with override_settings(STORAGES={**settings.STORAGES, "conformance": entry}):
            configured = configured_storages["conformance"]
            saved = configured.save(name, ContentFile(b"deleted by a task"))
            serialized, _imports = MigrationWriter.serialize(configured)
            for secret in secret_strings(cls, options):
                assert secret not in serialized, "a secret was written into the migration"
            path, args, kwargs = configured.deconstruct()  # type: ignore[attr-defined]
            rebuilt = import_string(path)(*args, **kwargs)
            for option in getattr(cls, "options", ()):
                if option.name in options:
                    assert getattr(rebuilt, option.name) == getattr(configured, option.name), option.name
            rebuilt.delete(saved)
            assert not configured.exists(saved)

    # -- concurrency and failures ---------------------------------------------------------

    def test_threads_share_one_storage(self, storage: Storage) -> None:
        root = f"threads-{uuid.uuid4().hex[:8]}"

        def work(index: int) -> None:
            payload = os.urandom(2048) + str(index).encode()
            name = storage.save(f"{root}/t{index}.bin", ContentFile(payload))
            assert self.read_all(storage, name) == payload
            assert storage.size(name) == len(payload)
            storage.delete(name)
            assert not storage.exists(name)

        run_threads(work, count=self.threads, timeout=120)

    def test_failed_part_then_close_outside_with_publishes_nothing(self, storage: Storage, name: str) -> None:
        _skip_unless(self.supports_open_write and self.uses_streaming_file, "uses_streaming_file")
        f = storage.open(name, "wb")
        assert isinstance(f, StreamingFile)
        handed: list[int] = []
        deliver = f._deliver  # hands one part to the provider (push or pull style)

        def fail_second_part(data: bytes) -> None:
            handed.append(len(data))
            if len(handed) == 2:
                raise ConnectionError("injected: the second part failed")
            deliver(data)

        f._deliver = fail_second_part  # type: ignore[method-assign]
        try:
            with pytest.raises(ConnectionError):
                for chunk in _pattern(3 * f.part_size + 1000):
                    f.write(chunk)
            with pytest.raises(StorageWriteError):
                f.write(b"more after the failure")
        finally:
            # As code does in a ``finally:`` outside a ``with`` block.
            with pytest.raises(StorageWriteError):
                f.close()
        assert handed == [f.part_size, f.part_size], "a part was handed on after the failure"
        assert f.closed
        f.close()  # a second close is a no-op
        assert not storage.exists(name)
        folder = name.rsplit("/", 1)[0]
        assert self.listdir_or_empty(storage, folder) == ([], [])
        assert self.pending_uploads(storage, name) == []

    def test_failed_commit_publishes_nothing_and_keeps_previous(self, storage: Storage, name: str) -> None:
        _skip_unless(self.supports_open_write and self.uses_streaming_file, "uses_streaming_file")
        storage.save(name, ContentFile(b"previous"))
        f = storage.open(name, "wb")
        assert isinstance(f, StreamingFile)
        for chunk in _pattern(f.part_size + 1000):
            f.write(chunk)

        def fail_commit(tail: bytes) -> None:
            raise ConnectionError("injected: the commit failed")

        f._finish_write = fail_commit  # type: ignore[method-assign]
        with pytest.raises(ConnectionError):
            f.close()
        assert f.closed
        assert self.read_all(storage, name) == b"previous"
        assert self.pending_uploads(storage, name) == []

    def test_file_never_written_changes_nothing_on_close(self, storage: Storage, name: str) -> None:
        _skip_unless(self.supports_open_write and self.uses_streaming_file, "uses_streaming_file")
        storage.save(name, ContentFile(b"kept"))
        storage.open(name, "wb").close()
        assert self.read_all(storage, name) == b"kept"
        other = name.replace("file.bin", "never-written.bin")
        storage.open(other, "wb").close()
        assert not storage.exists(other)

    def test_two_instances_on_one_location(self, storage: Storage, name: str) -> None:
        other = self.second_instance(storage)
        storage.save(name, ContentFile(b"first"))
        assert other.exists(name)
        assert other.size(name) == 5
        assert self.read_all(other, name) == b"first"
        other.delete(name)
        assert not storage.exists(name)
        with pytest.raises(FileNotFoundError):
            storage.size(name)
        with pytest.raises(FileNotFoundError):
            storage.open(name, "rb")
        mine = storage.save(name, ContentFile(b"from one"))
        theirs = other.save(name, ContentFile(b"from the other"))
        if self.overwrites:
            assert mine == theirs == name
            assert self.read_all(storage, name) == b"from the other"
        else:
            assert theirs != mine, "the other instance overwrote a file it did not own"
            assert self.read_all(storage, mine) == b"from one"
            assert self.read_all(storage, theirs) == b"from the other"

    def test_change_behind_the_storage_back(self, storage: Storage, name: str) -> None:
        storage.save(name, ContentFile(b"original"))
        assert self.read_all(storage, name) == b"original"
        assert storage.size(name) == 8
        folder, base = name.rsplit("/", 1)
        self.raw_write(storage, name, b"changed behind its back")
        assert storage.exists(name)
        assert storage.size(name) == 23
        assert self.read_all(storage, name) == b"changed behind its back"
        assert base in storage.listdir(folder)[1]
        self.raw_delete(storage, name)
        assert not storage.exists(name)
        with pytest.raises(FileNotFoundError):
            storage.size(name)
        with pytest.raises(FileNotFoundError):
            storage.open(name, "rb")
        assert base not in self.listdir_or_empty(storage, folder)[1]

    def test_interrupted_write_leaves_nothing(self, storage: Storage, name: str) -> None:
        _skip_unless(self.supports_open_write and self.supports_atomic_write, "supports_atomic_write")

        class Interrupted(Exception):
            pass

        with pytest.raises(Interrupted), storage.open(name, "wb") as f:
            for chunk in _pattern(12 * MiB):
                f.write(chunk)
            raise Interrupted
        assert not storage.exists(name)
        folder = name.rsplit("/", 1)[0]
        assert self.listdir_or_empty(storage, folder) == ([], []), "a temporary file was left behind"

    def test_interrupted_overwrite_keeps_previous_content(self, storage: Storage, name: str) -> None:
        _skip_unless(self.supports_open_write and self.supports_atomic_write, "supports_atomic_write")
        storage.save(name, ContentFile(b"previous"))

        class Interrupted(Exception):
            pass

        with pytest.raises(Interrupted), storage.open(name, "wb") as f:
            f.write(b"half-written replacement")
            raise Interrupted
        assert self.read_all(storage, name) == b"previous"
