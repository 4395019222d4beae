"""DropboxStorage against the fake Dropbox API: settings, request counts, tokens, faults."""

from __future__ import annotations

import gzip
import hashlib
import pickle
import time
import warnings
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured, SuspiciousFileOperation
from django.core.files.base import ContentFile
from django.db.migrations.writer import MigrationWriter
from django.test import override_settings

from shared.testservers.dropbox import FakeDropbox, content_hash
from storages.backends.dropbox import (
    DropBoxFile,
    DropboxFile,
    DropBoxStorage,
    DropboxStorage,
    DropBoxStorageException,
    DropboxStorageException,
)
from storages.exceptions import StorageWriteError
from storages.testing import run_threads

Make = Callable[..., Any]
MiB = 1024 * 1024


def payload(size: int) -> bytes:
    block = hashlib.sha256(str(size).encode()).digest() * (MiB // 32)
    return (block * (size // len(block) + 1))[:size]


def read(storage: Any, name: str) -> bytes:
    with storage.open(name, "rb") as f:
        return bytes(f.read())


def write_chunks(storage: Any, name: str, data: bytes, chunk: int = MiB) -> None:
    with storage.open(name, "wb") as f:
        for start in range(0, len(data), chunk):
            f.write(data[start : start + chunk])


# -- public names and settings ----------------------------------------------------------------


def test_original_names_are_the_same_objects_and_report_the_public_module() -> None:
    assert DropBoxStorage is DropboxStorage
    assert DropBoxFile is DropboxFile
    assert DropBoxStorageException is DropboxStorageException
    for cls in (DropboxStorage, DropboxFile, DropboxStorageException):
        assert cls.__module__ == "storages.backends.dropbox"
    assert issubclass(DropboxStorageException, Exception)


def test_entry_point_dropbox_names_the_class() -> None:
    (found,) = [e for e in entry_points(group="django_storages.backends") if e.name == "dropbox"]
    assert found.value == "storages.backends.dropbox:DropboxStorage"


def test_every_option_has_its_setting_and_default() -> None:
    table = {o.name: (o.settings, o.make_default(), o.secret) for o in DropboxStorage.options}
    assert table == {
        "root_path": (("DROPBOX_ROOT_PATH",), "/", False),
        "oauth2_access_token": (("DROPBOX_OAUTH2_TOKEN",), None, True),
        "app_key": (("DROPBOX_APP_KEY",), None, False),
        "app_secret": (("DROPBOX_APP_SECRET",), None, True),
        "oauth2_refresh_token": (("DROPBOX_OAUTH2_REFRESH_TOKEN",), None, True),
        "timeout": (("DROPBOX_TIMEOUT",), 100, False),
        "write_mode": (("DROPBOX_WRITE_MODE",), "add", False),
        "ca_certs": (("DROPBOX_CA_CERTS",), None, False),
    }


@override_settings(
    DROPBOX_OAUTH2_TOKEN="token-from-settings",
    DROPBOX_ROOT_PATH="/from-settings",
    DROPBOX_TIMEOUT=7,
    DROPBOX_WRITE_MODE="overwrite",
)
def test_settings_are_read() -> None:
    storage = DropboxStorage()
    assert storage.oauth2_access_token == "token-from-settings"
    assert storage.root_path == "/from-settings"
    assert storage.timeout == 7
    assert storage.write_mode == "overwrite"
    assert storage._overwrites()


def test_token_is_the_first_positional_argument_and_stays_out_of_deconstruct() -> None:
    storage = DropboxStorage("positional-secret-token", root_path="/x")
    assert storage.oauth2_access_token == "positional-secret-token"
    path, args, kwargs = storage.deconstruct()  # type: ignore[attr-defined]
    assert path == "storages.backends.dropbox.DropboxStorage"
    assert args == ()
    assert kwargs == {"root_path": "/x"}
    assert "positional-secret-token" not in repr(storage)
    assert "positional-secret-token" not in MigrationWriter.serialize(storage)[0]


def test_no_credentials_is_a_configuration_error_naming_the_settings() -> None:
    with pytest.raises(ImproperlyConfigured) as caught:
        DropboxStorage(app_key="key", oauth2_refresh_token="refresh")  # no app secret
    message = str(caught.value)
    for setting in (
        "DROPBOX_OAUTH2_TOKEN",
        "DROPBOX_APP_KEY",
        "DROPBOX_APP_SECRET",
        "DROPBOX_OAUTH2_REFRESH_TOKEN",
    ):
        assert setting in message
    assert "refresh" not in message.replace("REFRESH", "").replace("refreshed", "")


def test_the_refresh_token_trio_is_enough() -> None:
    storage = DropboxStorage(app_key="key", app_secret="secret-value", oauth2_refresh_token="refresh-value")
    shown = repr(storage)
    assert "secret-value" not in shown and "refresh-value" not in shown


@pytest.mark.parametrize("root", ["media", "", "/a/../../b"])
def test_root_path_must_begin_with_a_slash_and_stay_inside(root: str) -> None:
    with pytest.raises((ImproperlyConfigured, SuspiciousFileOperation)) as caught:
        DropboxStorage("token", root_path=root)
    if isinstance(caught.value, ImproperlyConfigured):
        assert "DROPBOX_ROOT_PATH" in str(caught.value)


def test_unknown_write_mode_is_refused() -> None:
    with pytest.raises(ImproperlyConfigured, match="write_mode"):
        DropboxStorage("token", write_mode="replace")


def test_misspelt_option_is_refused_with_the_closest_name() -> None:
    with pytest.raises(ImproperlyConfigured, match="root_path"):
        DropboxStorage("token", rootpath="/x")


def test_legacy_location_class_attribute_warns_and_becomes_root_path() -> None:
    class Legacy(DropboxStorage):
        location = "/legacy"

    with pytest.warns(DeprecationWarning, match="root_path"):
        storage = Legacy("token")
    assert storage.root_path == "/legacy"


def test_construction_makes_no_request_and_no_client(fake: FakeDropbox, make_storage: Make) -> None:
    fake.clear_requests()
    storage = make_storage()
    assert storage._client is None
    pickle.loads(pickle.dumps(storage))
    assert fake.routes() == []


def test_pickled_storage_drops_the_client_and_works(make_storage: Make) -> None:
    storage = make_storage()
    storage.save("p.txt", ContentFile(b"pickled"))
    clone = pickle.loads(pickle.dumps(storage))
    assert clone._client is None
    assert read(clone, "p.txt") == b"pickled"


# -- request counts -----------------------------------------------------------------------------


@pytest.fixture
def routes(fake: FakeDropbox) -> Callable[[], list[str]]:
    fake.clear_requests()
    return fake.routes


def test_exists_size_and_modified_time_are_one_request_each(storage: Any, fake: FakeDropbox) -> None:
    storage.save("one.txt", ContentFile(b"12345"))
    for call in (storage.exists, storage.size, storage.get_modified_time):
        fake.clear_requests()
        call("one.txt")
        assert fake.routes() == ["files/get_metadata"]
    fake.clear_requests()
    assert storage.exists("missing.txt") is False
    assert fake.routes() == ["files/get_metadata"]


def test_small_save_in_overwrite_mode_is_one_upload(make_storage: Make, fake: FakeDropbox) -> None:
    storage = make_storage(write_mode="overwrite")
    fake.clear_requests()
    assert storage.save("small.bin", ContentFile(b"x" * 100_000)) == "small.bin"
    assert fake.routes() == ["files/upload"]
    (upload,) = fake.calls("files/upload")
    assert upload.arg["mode"] == {".tag": "overwrite"}
    assert upload.arg["content_hash"] == content_hash(b"x" * 100_000)


def test_small_save_in_add_mode_looks_up_a_free_name_then_uploads(storage: Any, fake: FakeDropbox) -> None:
    fake.clear_requests()
    storage.save("small.bin", ContentFile(b"x"))
    assert fake.routes() == ["files/get_metadata", "files/upload"]
    assert fake.calls("files/upload")[0].arg["mode"] == {".tag": "add"}


def test_small_read_is_one_download_and_no_metadata_request(storage: Any, fake: FakeDropbox) -> None:
    storage.save("read.txt", ContentFile(b"content"))
    fake.clear_requests()
    with storage.open("read.txt") as f:
        assert f.read() == b"content"
        assert f.size == 7
    assert fake.routes() == ["files/download"]


def test_seek_reads_a_range(storage: Any, fake: FakeDropbox) -> None:
    storage.save("range.bin", ContentFile(b"0123456789"))
    with storage.open("range.bin") as f:
        fake.clear_requests()
        f.seek(6)
        assert f.read() == b"6789"
    assert [c.range for c in fake.calls("files/download")] == ["bytes=6-"]


def test_listdir_follows_every_page(make_storage: Make, fake: FakeDropbox) -> None:
    storage = make_storage(write_mode="overwrite")
    for index in range(230):
        storage.save(f"many/f{index:03d}.txt", ContentFile(b""))
    storage.save("many/sub/inner.txt", ContentFile(b""))
    fake.clear_requests()
    dirs, files = storage.listdir("many")
    assert dirs == ["sub"]
    assert sorted(files) == [f"f{i:03d}.txt" for i in range(230)]
    assert fake.routes() == ["files/list_folder"] + ["files/list_folder/continue"] * 2  # pages of 100


def test_listdir_of_the_root_and_of_a_missing_folder(storage: Any) -> None:
    storage.save("top.txt", ContentFile(b"x"))
    assert storage.listdir("") == ([], ["top.txt"])
    with pytest.raises(FileNotFoundError):
        storage.listdir("no-such-folder")


def test_url_is_one_temporary_link_request(storage: Any, fake: FakeDropbox) -> None:
    storage.save("linked.txt", ContentFile(b"x"))
    fake.clear_requests()
    assert storage.url("linked.txt").startswith(f"https://{fake.host}/apitl/1/")
    assert fake.routes() == ["files/get_temporary_link"]


def test_url_of_a_missing_file_raises_instead_of_returning_none(storage: Any) -> None:
    with pytest.raises(FileNotFoundError, match=r"missing\.txt"):
        storage.url("missing.txt")


def test_delete_is_one_request_and_silent_for_a_missing_file(storage: Any, fake: FakeDropbox) -> None:
    storage.save("gone.txt", ContentFile(b"x"))
    fake.clear_requests()
    storage.delete("gone.txt")
    storage.delete("gone.txt")
    assert fake.routes() == ["files/delete_v2", "files/delete_v2"]
    with pytest.raises(ValueError):
        storage.delete("")


def test_every_request_carries_the_bearer_token(storage: Any, fake: FakeDropbox) -> None:
    fake.clear_requests()
    storage.save("auth.txt", ContentFile(b"x"))
    read(storage, "auth.txt")
    assert {c.authorization for c in fake.calls()} == {f"Bearer {fake.access_token}"}


# -- uploads --------------------------------------------------------------------------------


def test_20_mb_upload_streams_through_session_appends(make_storage: Make, fake: FakeDropbox) -> None:
    storage = make_storage(write_mode="overwrite")
    data = payload(20 * MiB + 123)
    fake.clear_requests()
    write_chunks(storage, "big/20mb.bin", data)
    assert fake.routes() == (
        ["files/upload_session/start"]
        + ["files/upload_session/append_v2"] * 4
        + ["files/upload_session/finish"]
    )
    uploads = fake.calls()
    assert [c.body_bytes for c in uploads] == [4 * MiB] * 5 + [123]
    assert all(c.content_hash_sent for c in uploads), "every upload call carries its content hash"
    assert uploads[-1].arg["commit"]["path"] == f"{storage.root_path}/big/20mb.bin"
    assert storage.size("big/20mb.bin") == len(data)
    with storage.open("big/20mb.bin") as f:
        assert hashlib.sha256(f.read()).digest() == hashlib.sha256(data).digest()


def test_a_write_of_exactly_one_chunk_is_one_upload(make_storage: Make, fake: FakeDropbox) -> None:
    storage = make_storage(write_mode="overwrite")
    fake.clear_requests()
    storage.save("chunk.bin", ContentFile(payload(4 * MiB)))
    assert fake.routes() == ["files/upload_session/start", "files/upload_session/finish"]


def test_the_fake_refuses_an_upload_whose_content_hash_is_wrong(storage: Any) -> None:
    import dropbox

    with pytest.raises(dropbox.exceptions.ApiError) as caught:
        storage.client.files_upload(b"data", f"{storage.root_path}/h.txt", content_hash="0" * 64)
    assert caught.value.error.is_content_hash_mismatch()
    assert not storage.exists("h.txt")


def test_archives_keep_their_bytes(storage: Any) -> None:
    archive = gzip.compress(b"a database backup" * 100)
    storage.save("backup.sql.gz", ContentFile(archive))
    assert read(storage, "backup.sql.gz") == archive


def test_open_for_write_in_add_mode_never_replaces_another_file(storage: Any) -> None:
    storage.save("taken.txt", ContentFile(b"first"))
    with pytest.raises(FileExistsError, match="conflict"), storage.open("taken.txt", "wb") as f:
        f.write(b"second")
    assert read(storage, "taken.txt") == b"first"


def test_update_mode_replaces_only_the_revision_seen_when_the_write_started(
    make_storage: Make, fake: FakeDropbox
) -> None:
    storage = make_storage(write_mode="update")
    storage.save("doc.txt", ContentFile(b"v1"))
    with storage.open("doc.txt", "wb") as f:
        f.write(b"v2")
    assert read(storage, "doc.txt") == b"v2"
    with pytest.raises(FileExistsError), storage.open("doc.txt", "wb") as f:
        f.write(b"mine")
        fake.raw_put(f"{storage.root_path}/doc.txt", b"someone else's")
    assert read(storage, "doc.txt") == b"someone else's"


@pytest.mark.parametrize("bad", ["desktop.ini", "folder/Thumbs.db", ".DS_Store/x.txt", ".dropbox"])
def test_names_dropbox_refuses_are_refused_before_any_request(
    storage: Any, fake: FakeDropbox, bad: str
) -> None:
    fake.clear_requests()
    with pytest.raises(SuspiciousFileOperation):
        storage.save(bad, ContentFile(b"x"))
    with pytest.raises(SuspiciousFileOperation):
        storage.open(bad, "wb")
    assert fake.routes() == []


# -- tokens ---------------------------------------------------------------------------------


def _refreshing(make_storage: Make, fake: FakeDropbox) -> Any:
    return make_storage(
        app_key=fake.app_key, app_secret=fake.app_secret, oauth2_refresh_token=fake.refresh_token
    )


def test_refresh_token_gets_an_access_token_on_first_use(make_storage: Make, fake: FakeDropbox) -> None:
    storage = _refreshing(make_storage, fake)
    fake.clear_requests()
    storage.save("r.txt", ContentFile(b"refreshed"))
    assert fake.routes() == ["oauth2/token", "files/get_metadata", "files/upload"]
    assert fake.calls("files/upload")[0].authorization.startswith("Bearer sl.fake-")


def test_an_expired_access_token_is_refreshed_and_the_call_succeeds(
    make_storage: Make, fake: FakeDropbox
) -> None:
    storage = _refreshing(make_storage, fake)
    storage.save("e.txt", ContentFile(b"before expiry"))
    fake.expire_tokens()
    fake.clear_requests()
    assert read(storage, "e.txt") == b"before expiry"
    assert fake.routes() == ["files/download", "oauth2/token", "files/download"]
    assert [c.status for c in fake.calls("files/download")] == [401, 200]


def test_a_revoked_refresh_token_gives_a_clear_error_without_secrets(
    make_storage: Make, fake: FakeDropbox
) -> None:
    storage = _refreshing(make_storage, fake)
    storage.exists("x")
    fake.revoke_refresh_token()
    fake.expire_tokens()
    try:
        with pytest.raises(DropboxStorageException) as caught:
            storage.exists("x")
    finally:
        fake._revoked.clear()
    message = str(caught.value)
    assert "refresh token was revoked" in message
    assert "DROPBOX_OAUTH2_REFRESH_TOKEN" in message
    for secret in (fake.refresh_token, fake.app_secret, "sl.fake-"):
        assert secret not in message
        assert secret not in repr(caught.value.__context__ or "")


def test_a_wrong_access_token_gives_a_clear_error_without_it(make_storage: Make) -> None:
    storage = make_storage(oauth2_access_token="wrong-token-value")
    with pytest.raises(DropboxStorageException, match="refused the credentials") as caught:
        storage.exists("x")
    assert "wrong-token-value" not in str(caught.value)


# -- retries, faults and timeouts -------------------------------------------------------------


def test_a_429_with_retry_after_is_retried(storage: Any, fake: FakeDropbox) -> None:
    storage.save("busy.txt", ContentFile(b"x"))
    fault = fake.inject(route="files/get_metadata", status=429, retry_after=1)
    fake.clear_requests()
    assert storage.exists("busy.txt")
    assert fault.fired == 1
    assert [c.status for c in fake.calls()] == [429, 200]


def test_a_503_on_an_append_is_retried_and_the_file_is_whole(make_storage: Make, fake: FakeDropbox) -> None:
    storage = make_storage(write_mode="overwrite")
    data = payload(10 * MiB)
    fake.inject(route="files/upload_session/append_v2", status=503, on_call=1)
    fake.clear_requests()
    write_chunks(storage, "retried.bin", data)
    assert [c.status for c in fake.calls("files/upload_session/append_v2")] == [503, 200]
    assert read(storage, "retried.bin") == data


def test_a_rate_limit_longer_than_the_timeout_is_not_waited_for(
    make_storage: Make, fake: FakeDropbox
) -> None:
    storage = make_storage(timeout=1)
    fake.inject(route="files/get_metadata", status=429, retry_after=30)
    with pytest.raises(DropboxStorageException, match="kept refusing"):
        storage.exists("x")
    assert len(fake.calls("files/get_metadata")) >= 1


def test_persistent_5xx_stops_after_bounded_retries(make_storage: Make, fake: FakeDropbox) -> None:
    storage = make_storage(timeout=2)
    fake.inject(route="files/get_metadata", status=500, times=100)
    fake.clear_requests()
    with pytest.raises(DropboxStorageException, match="kept refusing"):
        storage.exists("x")
    assert 2 <= len(fake.calls("files/get_metadata")) <= 5


def test_a_failed_write_uploads_nothing(make_storage: Make, fake: FakeDropbox) -> None:
    storage = make_storage(write_mode="overwrite", timeout=1)
    fake.inject(route="files/upload_session/append_v2", status=500, on_call=2, times=100)
    with pytest.raises(DropboxStorageException):
        write_chunks(storage, "failed/file.bin", payload(16 * MiB))
    assert not storage.exists("failed/file.bin")
    with pytest.raises(FileNotFoundError):
        storage.listdir("failed")  # not even the folder was created
    assert fake.calls("files/upload_session/finish") == []


def test_a_connection_cut_on_commit_keeps_the_previous_version(make_storage: Make, fake: FakeDropbox) -> None:
    storage = make_storage(write_mode="overwrite")
    storage.save("kept.bin", ContentFile(b"previous"))
    fake.inject(route="files/upload_session/finish", drop=True)
    with pytest.raises((ConnectionError, StorageWriteError)):
        write_chunks(storage, "kept.bin", payload(6 * MiB))
    assert read(storage, "kept.bin") == b"previous"
    storage.save("kept.bin", ContentFile(b"works again"))
    assert read(storage, "kept.bin") == b"works again"


def test_a_server_stalled_mid_download_raises_within_the_timeout(
    make_storage: Make, fake: FakeDropbox
) -> None:
    storage = make_storage(timeout=1)
    storage.save("stall.bin", ContentFile(payload(3 * MiB)))
    fake.inject(route="files/download", after_bytes=MiB, stall=30)
    started = time.monotonic()
    with pytest.raises(TimeoutError), storage.open("stall.bin") as f:
        while f.read(256 * 1024):
            pass
    assert time.monotonic() - started < 1 + 2
    assert read(storage, "stall.bin") == payload(3 * MiB)  # a new connection serves the next read


def test_a_server_stalled_before_answering_an_upload_raises_within_the_timeout(
    make_storage: Make, fake: FakeDropbox
) -> None:
    storage = make_storage(timeout=1, write_mode="overwrite")
    fake.inject(route="files/upload", stall=30)
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        storage.save("stalled.txt", ContentFile(b"x"))
    assert time.monotonic() - started < 1 + 2
    assert not storage.exists("stalled.txt")


def test_connections_dropped_by_the_network_are_noticed(storage: Any, fake: FakeDropbox) -> None:
    storage.save("idle.txt", ContentFile(b"x"))
    fake.drop_connections()
    time.sleep(0.1)
    assert storage.exists("idle.txt")
    assert read(storage, "idle.txt") == b"x"


def test_an_unreachable_server_gives_a_clear_error(make_storage: Make, fake: FakeDropbox) -> None:
    storage = make_storage(timeout=1)
    fake.inject(route="files/get_metadata", drop=True, times=100)
    with pytest.raises(ConnectionError, match="Could not reach Dropbox") as caught:
        storage.exists("x")
    assert fake.access_token not in str(caught.value)


def test_the_ca_bundle_option_wins_over_requests_ca_bundle(
    make_storage: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    storage = make_storage()
    assert storage.exists("anything") is False


def test_without_the_ca_bundle_the_fake_certificate_is_refused(make_storage: Make) -> None:
    storage = make_storage(ca_certs=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ConnectionError, match="CERTIFICATE_VERIFY_FAILED"):
            storage.exists("x")


# -- threads ----------------------------------------------------------------------------------


@pytest.mark.timeout(90)
def test_16_threads_for_10_seconds_of_mixed_use(make_storage: Make, fake: FakeDropbox) -> None:
    storage = make_storage(write_mode="overwrite")
    fake.connections_opened = 0
    operations = [0]
    stop = time.monotonic() + 10

    def work(index: int) -> None:
        version = 0
        while time.monotonic() < stop:
            version += 1
            name = f"mixed/t{index}/f{version % 3}.bin"
            data = f"{index}:{version}:".encode() * (1 + version % 50)
            storage.save(name, ContentFile(data))
            assert read(storage, name) == data, "a read returned something else than the last write"
            assert storage.exists(name)
            assert storage.size(name) == len(data)
            assert name.rsplit("/", 1)[1] in storage.listdir(f"mixed/t{index}")[1]
            if version % 4 == 0:
                storage.delete(name)
                assert not storage.exists(name)
            operations[0] += 1

    run_threads(work)
    assert operations[0] > 16
    # Kept alive and bounded: 16 threads never open more than the pool's 16 connections.
    assert fake.connections_opened <= 16, "the storage opened more connections than its pool allows"


def test_the_same_instance_works_after_the_server_restarts(storage: Any, fake: FakeDropbox) -> None:
    storage.save("restart.txt", ContentFile(b"before"))
    fake.restart(down_for=0.2)
    assert storage.exists("restart.txt")
    assert read(storage, "restart.txt") == b"before"
    storage.save("restart-2.txt", ContentFile(b"after"))
    assert read(storage, "restart-2.txt") == b"after"


def test_a_server_that_is_down_gives_a_clear_error_then_the_instance_recovers(
    make_storage: Make, fake: FakeDropbox
) -> None:
    import socket
    import threading

    storage = make_storage(timeout=1)
    storage.save("down.txt", ContentFile(b"kept"))
    restarting = threading.Thread(target=fake.restart, kwargs={"down_for": 1.5})
    restarting.start()
    try:
        for _ in range(100):  # until the port refuses connections
            try:
                socket.create_connection(("127.0.0.1", fake.port), timeout=0.2).close()
            except OSError:
                break
            time.sleep(0.01)
        started = time.monotonic()
        with pytest.raises(ConnectionError, match="Could not reach Dropbox") as caught:
            storage.exists("down.txt")
        assert time.monotonic() - started < 1 + 2
        assert fake.access_token not in str(caught.value)
    finally:
        restarting.join()
    assert read(storage, "down.txt") == b"kept"


def test_deepcopy_fresh_and_after_use_gives_a_working_storage(storage: Any) -> None:
    import copy

    fresh = copy.deepcopy(storage)
    storage.save("copied.txt", ContentFile(b"copied"))
    used = copy.deepcopy(storage)
    assert used._client is None
    assert read(fresh, "copied.txt") == read(used, "copied.txt") == b"copied"


def test_discovery_does_not_import_the_sdk() -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from storages import registry\n"
        "aliases = {b.alias for b in registry.backends()}\n"
        "assert 'dropbox' in aliases, aliases\n"
        "assert 'dropbox' not in sys.modules and 'storages.backends.dropbox' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
