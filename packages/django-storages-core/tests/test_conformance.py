"""The conformance kit run against Django's own storages and a core-built provider.

This proves the kit itself: Django's FileSystemStorage passes with the flags for what it lacks,
and a provider built on core's StreamingFile passes with no flag at all but URL fetching.
"""

from __future__ import annotations

import functools
import http.server
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.files.storage import FileSystemStorage, InMemoryStorage, Storage
from memory_provider import MemoryStorage

from storages.testing import StorageConformanceTests


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def served_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """A folder served over HTTP on 127.0.0.1, so FileSystemStorage URLs can be fetched."""
    root = tmp_path_factory.mktemp("served")
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


class TestFileSystemStorageConformance(StorageConformanceTests):
    # Django writes straight to the final path: an interrupted write leaves a partial file.
    supports_atomic_write = False
    # open(name, "wb") is the built-in open(): it does not create the file's folder.
    supports_open_write = False
    # On POSIX a backslash is an ordinary file name character for FileSystemStorage.
    backslash_is_separator = False
    # Django's FileSystemStorage passes the mode to the built-in open(), which accepts "a", "r+".
    rejects_unsupported_modes = False
    supports_accessed_time = True
    supports_created_time = True
    listdir_entries = 50

    @pytest.fixture
    def storage(self, served_dir: tuple[Path, str], tmp_path: Path) -> FileSystemStorage:
        root, base_url = served_dir
        location = root / tmp_path.name
        location.mkdir()
        return FileSystemStorage(location=str(location), base_url=f"{base_url}{tmp_path.name}/")


class TestInMemoryStorageConformance(StorageConformanceTests):
    supports_atomic_write = False
    uses_streaming_file = False
    rejects_unsupported_modes = False
    backslash_is_separator = False
    rejects_control_characters = False
    supports_url_fetch = False
    supports_accessed_time = True
    supports_created_time = True
    listdir_entries = 50

    @pytest.mark.xfail(strict=True, reason="InMemoryStorage opens text files without newline translation")
    def test_text_read_decodes_utf8_with_universal_newlines(self, storage: Storage, name: str) -> None:
        super().test_text_read_decodes_utf8_with_universal_newlines(storage, name)

    @pytest.mark.xfail(strict=True, reason="InMemoryStorage returns aware times even with USE_TZ=False")
    @pytest.mark.parametrize("use_tz", [False], ids=["naive"])
    def test_modified_time_follows_use_tz(self, storage: Storage, name: str, use_tz: bool) -> None:
        super().test_modified_time_follows_use_tz(storage, name, use_tz)

    @pytest.mark.xfail(strict=True, reason="each InMemoryStorage instance is a store of its own")
    def test_two_instances_on_one_location(self, storage: Storage, name: str) -> None:
        super().test_two_instances_on_one_location(storage, name)

    @pytest.mark.xfail(strict=True, reason="each InMemoryStorage instance is a store of its own")
    def test_change_behind_the_storage_back(self, storage: Storage, name: str) -> None:
        super().test_change_behind_the_storage_back(storage, name)

    @pytest.mark.xfail(strict=True, reason="each InMemoryStorage instance is a store of its own")
    def test_rebuilt_from_deconstruct_works_without_secrets_in_the_migration(
        self, storage: Storage, name: str
    ) -> None:
        super().test_rebuilt_from_deconstruct_works_without_secrets_in_the_migration(storage, name)

    @pytest.fixture
    def storage(self) -> InMemoryStorage:
        return InMemoryStorage(base_url="http://testserver/media/")


class TestCoreStreamingProviderConformance(StorageConformanceTests):
    supports_url_fetch = False
    large_file_size = 4 * 1024 * 1024

    public_class_path = "memory_provider.MemoryStorage"

    @pytest.fixture
    def storage(self) -> MemoryStorage:
        # Credentials only in OPTIONS, as the deconstruct-rebuild test needs.
        bucket = f"conformance-{uuid.uuid4().hex}"
        return MemoryStorage(bucket_name=bucket, location="media", api_key="k3y-only-in-options")
