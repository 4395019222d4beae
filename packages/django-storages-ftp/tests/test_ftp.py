"""FTPStorage against pyftpdlib: what the kit does not cover, or covers for one configuration only."""

from __future__ import annotations

import datetime
import hashlib
import logging
import os
import socket
import threading
import time
import tracemalloc
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.test import override_settings

from shared.testservers.ftp import FTPServer, ftp_server
from storages.backends.ftp import FTPStorage, FTPStorageException
from storages.testing import run_threads

MiB = 1024 * 1024

#: The ``make_storage`` fixtures: build a storage in a fresh folder (``.root``, ``.server``).
StorageFactory = Any


def warm(storage: FTPStorage) -> None:
    """Open the storage's connection, so that counted commands are the operation's alone."""
    storage.exists("warm-up")


def read(storage: FTPStorage, name: str) -> bytes:
    with storage.open(name, "rb") as f:
        return bytes(f.read())


def counted(server: FTPServer, call: Any) -> tuple[Any, list[str]]:
    mark = server.mark()
    result = call()
    return result, server.commands_since(mark)


def temp_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob(".*.part"))


# -- request counts -------------------------------------------------------------------------------


def test_request_counts_with_mlst(make_storage: StorageFactory) -> None:
    server: FTPServer = make_storage.server  # type: ignore[attr-defined]
    storage = make_storage(allow_overwrite=True)
    storage.save("a/f.txt", ContentFile(b"hello"))
    warm(storage)
    assert counted(server, lambda: storage.exists("a/f.txt")) == (True, ["MLST a/f.txt"])
    assert counted(server, lambda: storage.size("a/f.txt")) == (5, ["MLST a/f.txt"])
    assert counted(server, lambda: storage.get_modified_time("a/f.txt"))[1] == ["MLST a/f.txt"]
    assert counted(server, lambda: storage.listdir("a")) == (([], ["f.txt"]), ["PASV", "MLSD a"])
    assert counted(server, lambda: storage.url("a/f.txt"))[1] == []

    def read() -> bytes:
        with storage.open("a/f.txt", "rb") as f:
            return bytes(f.read())

    # One transfer, no metadata request first.
    assert counted(server, read) == (b"hello", ["PASV", "RETR a/f.txt"])
    # One transfer, then the rename that makes it atomic; no exists() with allow_overwrite.
    _name, commands = counted(server, lambda: storage.save("a/f.txt", ContentFile(b"small")))
    assert [c.split(" ")[0] for c in commands] == ["PASV", "STOR", "RNFR", "RNTO"]
    temp = commands[1].removeprefix("STOR ")
    assert temp.startswith("a/.f.txt.") and temp.endswith(".part")
    assert commands[2:] == [f"RNFR {temp}", "RNTO a/f.txt"]
    assert counted(server, lambda: storage.delete("a/f.txt")) == (None, ["DELE a/f.txt"])


def test_request_counts_without_mlst(ftpd_list_only: FTPServer, storages_on: Any) -> None:
    with storages_on(ftpd_list_only) as make_storage:
        storage = make_storage()
        storage.save("f.txt", ContentFile(b"hello"))
        warm(storage)
        server = ftpd_list_only
        assert counted(server, lambda: storage.exists("f.txt")) == (True, ["SIZE f.txt"])
        assert counted(server, lambda: storage.size("f.txt")) == (5, ["SIZE f.txt"])
        assert counted(server, lambda: storage.get_modified_time("f.txt"))[1] == ["MDTM f.txt"]
        assert counted(server, lambda: storage.listdir("")) == (([], ["f.txt"]), ["PASV", "LIST"])
        # A missing name, or a folder: CWD tells them apart (and comes back), no listing.
        assert counted(server, lambda: storage.exists("missing")) == (False, ["SIZE missing", "CWD missing"])
        storage.save("d/inner.txt", ContentFile(b"x"))
        home = f"/{make_storage.root.name}"  # type: ignore[attr-defined]
        assert counted(server, lambda: storage.exists("d")) == (True, ["SIZE d", "CWD d", f"CWD {home}"])


# -- listings -------------------------------------------------------------------------------------

NAMES = ["with space.txt", "  two  spaces  .txt", "ünïcödé-名前.txt", "semi;colon.txt", "-dash.txt"]


@pytest.mark.parametrize("variant", ["mlsd", "unix-list", "windows-list"])
def test_names_with_spaces_and_unicode_survive_listings(
    variant: str, ftpd: FTPServer, ftpd_list_only: FTPServer, ftpd_windows: FTPServer, storages_on: Any
) -> None:
    server = {"mlsd": ftpd, "unix-list": ftpd_list_only, "windows-list": ftpd_windows}[variant]
    with storages_on(server) as make_storage:
        storage = make_storage()
        for name in NAMES:
            storage.save(f"folder/{name}", ContentFile(name.encode()))
        storage.save("folder/sub dir/inner.txt", ContentFile(b"x"))
        dirs, files = storage.listdir("folder")
        assert (dirs, sorted(files)) == (["sub dir"], sorted(NAMES))
        assert storage.listdir("folder/sub dir") == ([], ["inner.txt"])
        for name in NAMES:
            assert storage.exists(f"folder/{name}")
            assert storage.size(f"folder/{name}") == len(name.encode())
        assert storage.exists("folder/sub dir")
        assert not storage.exists("folder/missing.txt")
        modified = storage.get_modified_time(f"folder/{NAMES[0]}")
        assert abs(modified - datetime.datetime.now(datetime.UTC)) < datetime.timedelta(minutes=5)


def test_overwrite_on_a_server_that_refuses_to_rename_over_a_file(
    ftpd_windows: FTPServer, storages_on: Any
) -> None:
    with storages_on(ftpd_windows) as make:
        storage = make(allow_overwrite=True)
        storage.save("o.txt", ContentFile(b"first"))
        mark = ftpd_windows.mark()
        storage.save("o.txt", ContentFile(b"second"))
        commands = [c.split(" ")[0] for c in ftpd_windows.commands_since(mark)]
        assert read(storage, "o.txt") == b"second"
        assert commands == ["PASV", "STOR", "RNFR", "RNTO", "DELE", "RNFR", "RNTO"]
        assert temp_files(make.root) == []  # type: ignore[attr-defined]


def test_seek_past_the_end_reads_nothing(make_storage: StorageFactory) -> None:
    storage = make_storage()
    storage.save("s.bin", ContentFile(b"0123456789"))
    with storage.open("s.bin", "rb") as f:
        f.seek(100)
        assert f.read() == b""
        f.seek(7)
        assert f.read() == b"789"


def test_listdir_of_a_missing_folder_raises(make_storage: StorageFactory) -> None:
    with pytest.raises(FileNotFoundError):
        make_storage().listdir("no-such-folder")


def test_listdir_hides_temporary_files(make_storage: StorageFactory) -> None:
    storage = make_storage()
    storage.save("f.txt", ContentFile(b"x"))
    (make_storage.root / ".f.txt.0123456789abcdef.part").write_bytes(b"half")  # type: ignore[attr-defined]
    (make_storage.root / ".hidden").write_bytes(b"a user's dotfile")  # type: ignore[attr-defined]
    dirs, files = storage.listdir("")
    assert (dirs, sorted(files)) == ([], [".hidden", "f.txt"])


# -- modes: active, TLS ---------------------------------------------------------------------------


def test_round_trip_in_passive_and_active_mode(make_any_mode_storage: StorageFactory) -> None:
    server: FTPServer = make_any_mode_storage.server  # type: ignore[attr-defined]
    storage = make_any_mode_storage()
    active = storage.location.startswith("aftp")
    payload = os.urandom(3 * MiB + 17)
    mark = server.mark()
    storage.save("m/data.bin", ContentFile(payload))
    with storage.open("m/data.bin", "rb") as f:
        f.seek(MiB)
        assert f.read(10) == payload[MiB : MiB + 10]
    with storage.open("m/data.bin", "rb") as f:
        assert hashlib.sha256(f.read()).digest() == hashlib.sha256(payload).digest()
    assert storage.listdir("m") == ([], ["data.bin"])
    commands = {c.split(" ")[0] for c in server.commands_since(mark)}
    assert ("PORT" in commands) is active
    assert ("PASV" in commands) is not active
    assert "REST" in commands  # the seek


def test_ftps_protects_control_and_data(make_tls_storage: StorageFactory) -> None:
    server: FTPServer = make_tls_storage.server  # type: ignore[attr-defined]
    storage = make_tls_storage()
    mark = server.mark()
    storage.save("secret.txt", ContentFile(b"over TLS"))
    assert read(storage, "secret.txt") == b"over TLS"
    commands = server.commands_since(mark)
    # The server is set to refuse plain control and data connections (tls_*_required).
    assert commands[:2] == ["AUTH TLS", "USER django"]
    assert "PROT P" in commands


def test_ftps_data_connections_resume_the_tls_session(
    make_tls_storage: StorageFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # vsftpd's default (require_ssl_reuse) refuses data connections that start a new session.
    from storages.backends.ftp._connection import SessionReusingFTP_TLS

    reused: list[bool] = []
    original = SessionReusingFTP_TLS.ntransfercmd

    def spy(self: Any, cmd: str, rest: Any = None) -> Any:
        conn, size = original(self, cmd, rest)
        reused.append(conn.session_reused)
        return conn, size

    monkeypatch.setattr(SessionReusingFTP_TLS, "ntransfercmd", spy)
    storage = make_tls_storage()
    storage.save("r.txt", ContentFile(b"resumed"))
    assert read(storage, "r.txt") == b"resumed"
    assert storage.listdir("") == ([], ["r.txt"])
    assert reused == [True, True, True]


def test_ftps_in_active_mode(ftpd_tls: FTPServer, storages_on: Any) -> None:
    with storages_on(ftpd_tls, "aftps") as make:
        storage = make()
        storage.save("a.txt", ContentFile(b"active TLS"))
        assert read(storage, "a.txt") == b"active TLS"
        assert storage.listdir("") == ([], ["a.txt"])


def test_ftps_refuses_an_untrusted_certificate(make_tls_storage: StorageFactory) -> None:
    storage = make_tls_storage(tls_ca_file=None)
    with pytest.raises(FTPStorageException, match="tls_ca_file") as caught:
        storage.exists("x")
    assert "certificate" in str(caught.value)
    insecure = make_tls_storage(tls_ca_file=None, tls_verify=False)
    assert insecure.exists("x") is False


def test_plain_ftp_against_a_tls_only_server_is_a_clear_error(ftpd_tls: FTPServer) -> None:
    storage = FTPStorage(location=ftpd_tls.location("ftp"), timeout=5)
    with pytest.raises(FTPStorageException, match="refused the login") as caught:
        storage.exists("x")
    assert ftpd_tls.password not in str(caught.value)


# -- secrets --------------------------------------------------------------------------------------


def test_wrong_password_is_a_clear_error_without_the_password(
    ftpd: FTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    location = ftpd.location().replace("p%40ss", "wr0ng-p%40ss")
    storage = FTPStorage(location=location, timeout=5)
    with pytest.raises(FTPStorageException) as caught:
        storage.exists("x")
    message = str(caught.value)
    assert "refused the login of user 'django'" in message
    assert "FTP_STORAGE_LOCATION" in message
    for secret in ("wr0ng-p@ss", "wr0ng-p%40ss"):
        assert secret not in message
        assert secret not in repr(caught.value)
        assert secret not in caplog.text
        assert secret not in repr(storage)


def test_password_with_at_colon_slash_logs_in(ftpd: FTPServer) -> None:
    assert all(c in ftpd.password for c in "@:/%")
    storage = FTPStorage(location=ftpd.location())
    assert storage._location_url is not None
    assert storage._location_url.password == ftpd.password
    assert storage.listdir("")[0] is not None
    storage.close()


def test_storages_show_command_redacts_the_password(
    make_storage: StorageFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    storage = make_storage()
    entry = {"BACKEND": "storages.backends.ftp.FTPStorage", "OPTIONS": {"location": storage.location}}
    with override_settings(STORAGES={"default": entry, "staticfiles": entry}):
        call_command("storages", "show", "default")
    output = capsys.readouterr().out
    assert "location" in output
    assert make_storage.server.password not in output  # type: ignore[attr-defined]
    assert "p%40ss" not in output


def test_rebuilt_from_a_storages_entry_connects(make_storage: StorageFactory) -> None:
    from django.core.files.storage import storages as configured
    from django.utils.module_loading import import_string

    location = make_storage().location
    entry = {"BACKEND": "storages.backends.ftp.FTPStorage", "OPTIONS": {"location": location}}
    with override_settings(STORAGES={"default": entry, "staticfiles": entry}):
        storage = configured["default"]
        storage.save("kept.txt", ContentFile(b"x"))
        path, args, kwargs = storage.deconstruct()
        assert kwargs == {}
        rebuilt = import_string(path)(*args, **kwargs)
        assert rebuilt.exists("kept.txt")
        rebuilt.close()
        storage.close()


# -- files ----------------------------------------------------------------------------------------


def test_open_for_write_appends_each_write(make_storage: StorageFactory) -> None:
    storage = make_storage()
    with storage.open("w.txt", "wb") as f:
        f.write(b"one ")
        f.write(b"two ")
        f.write(b"three")
    assert read(storage, "w.txt") == b"one two three"


def test_missing_file_raises_instead_of_size_zero(make_storage: StorageFactory) -> None:
    storage = make_storage()
    with pytest.raises(FileNotFoundError):
        storage.size("missing.txt")
    with pytest.raises(FileNotFoundError):
        storage.get_modified_time("missing.txt")


def test_delete_deletes_and_exists_tells_the_truth_with_overwrite(make_storage: StorageFactory) -> None:
    storage = make_storage(allow_overwrite=True)
    assert storage.save("o.txt", ContentFile(b"1")) == "o.txt"
    assert storage.exists("o.txt")
    assert storage.save("o.txt", ContentFile(b"2")) == "o.txt"
    assert read(storage, "o.txt") == b"2"
    storage.delete("o.txt")
    assert not storage.exists("o.txt")
    assert not (make_storage.root / "o.txt").exists()  # type: ignore[attr-defined]


def test_delete_raises_errors_other_than_missing(make_storage: StorageFactory) -> None:
    storage = make_storage()
    storage.save("folder/inside.txt", ContentFile(b"x"))
    with pytest.raises(FTPStorageException, match="refused to delete"):
        storage.delete("folder")  # a folder: the server refuses DELE


def test_reads_and_writes_stream_with_bounded_memory(make_storage: StorageFactory) -> None:
    storage = make_storage()
    size = 48 * MiB
    block = os.urandom(MiB)
    tracemalloc.start()
    try:
        with storage.open("big.bin", "wb") as f:
            for _ in range(size // MiB):
                f.write(block)
        _current, write_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        digest = hashlib.sha256()
        with storage.open("big.bin", "rb") as f:
            while chunk := f.read(MiB):
                digest.update(chunk)
        _current, read_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert digest.digest() == hashlib.sha256(block * (size // MiB)).digest()
    assert write_peak < 8 * MiB, write_peak
    assert read_peak < 8 * MiB, read_peak


def test_early_close_of_a_read_keeps_the_connection_usable(make_storage: StorageFactory) -> None:
    server: FTPServer = make_storage.server  # type: ignore[attr-defined]
    storage = make_storage(max_connections=1)
    storage.save("big.bin", ContentFile(os.urandom(8 * MiB)))
    with storage.open("big.bin", "rb") as f:
        assert len(f.read(100)) == 100  # an image header, then close
    mark = server.mark()
    assert storage.size("big.bin") == 8 * MiB
    assert "USER django" not in server.commands_since(mark)  # no new connection was needed


def test_text_mode_round_trip(make_storage: StorageFactory) -> None:
    storage = make_storage()
    with storage.open("t.txt", "w") as f:
        f.write("ünïcode\nline two\n")
    with storage.open("t.txt", "r") as f:
        assert f.readlines() == ["ünïcode\n", "line two\n"]


def test_location_folder_is_created_when_missing(ftpd: FTPServer) -> None:
    folder = f"new-{uuid.uuid4().hex[:8]}/nested"
    storage = FTPStorage(location=ftpd.location("ftp", f"/{folder}/"))
    storage.save("f.txt", ContentFile(b"x"))
    assert (Path(ftpd.root) / folder / "f.txt").read_bytes() == b"x"
    storage.close()


# -- reliability ----------------------------------------------------------------------------------


@pytest.fixture
def own_server() -> Iterator[FTPServer]:
    """A server of this test alone, to restart or freeze."""
    with ftp_server() as server:
        yield server


def test_same_instance_works_after_a_server_restart(own_server: FTPServer, storages_on: Any) -> None:
    with storages_on(own_server) as make:
        storage = make()
        storage.save("r.txt", ContentFile(b"before"))
        assert len(storage._pool) == 1
        own_server.restart()  # the idle connection is now closed by the server
        [idle] = [entry.connection for entry in storage._pool._idle]
        assert not idle.is_alive()  # noticed without a round trip: the pool drops it on take
        assert read(storage, "r.txt") == b"before"
        storage.save("r2.txt", ContentFile(b"after"))
        assert storage.exists("r2.txt")


def test_a_frozen_server_makes_a_read_raise_within_the_timeout(
    own_server: FTPServer, storages_on: Any
) -> None:
    with storages_on(own_server) as make:
        timeout = 1.0
        storage = make(timeout=timeout)
        storage.save("big.bin", ContentFile(os.urandom(32 * MiB)))
        f = storage.open("big.bin", "rb")
        f.read(MiB)
        own_server.pause()
        try:
            started = time.monotonic()
            with pytest.raises(TimeoutError):
                while f.read(MiB):
                    pass
            f.close()
            assert time.monotonic() - started < timeout + 2
        finally:
            own_server.resume()
        assert len(read(storage, "big.bin")) == 32 * MiB


def test_a_server_frozen_mid_upload_makes_it_raise_and_is_cleaned_up_when_back(
    own_server: FTPServer, storages_on: Any
) -> None:
    with storages_on(own_server) as make:
        timeout = 1.0
        storage = make(timeout=timeout, allow_overwrite=True)
        storage.save("keep.txt", ContentFile(b"previous"))
        paused_at: list[float] = []
        with pytest.raises(TimeoutError), storage.open("keep.txt", "wb") as w:
            for index in range(256):
                w.write(b"x" * MiB)
                if index == 8:
                    own_server.pause()
                    paused_at.append(time.monotonic())
        try:
            assert time.monotonic() - paused_at[0] < timeout + 2
            # The temporary file exists on the server, which is away: it cannot be removed yet.
            assert len(temp_files(make.root)) == 1  # type: ignore[attr-defined]
        finally:
            own_server.resume()
        # Back: the previous version is intact, and the temporary file is removed by the next
        # call (before the call itself), without a user ever seeing it.
        assert read(storage, "keep.txt") == b"previous"
        assert temp_files(make.root) == []  # type: ignore[attr-defined]
        assert storage.listdir("") == ([], ["keep.txt"])


def test_link_cut_mid_upload_leaves_nothing_and_cleans_up_when_back(
    own_server: FTPServer, storages_on: Any
) -> None:
    with storages_on(own_server) as make:
        storage = make(timeout=5, allow_overwrite=True)
        storage.save("keep.bin", ContentFile(b"previous"))
        written = threading.Event()

        def restart_when_written() -> None:
            written.wait(30)
            own_server.stop()

        killer = threading.Thread(target=restart_when_written)
        killer.start()
        with pytest.raises(OSError), storage.open("keep.bin", "wb") as f:
            for index in range(200):
                f.write(os.urandom(MiB))
                if index == 8:
                    written.set()
        killer.join()
        # The server kept the partial temporary file; nobody could remove it while it was down.
        assert len(temp_files(make.root)) == 1  # type: ignore[attr-defined]
        own_server.start()
        assert read(storage, "keep.bin") == b"previous"
        # The temporary file that the server kept was removed by the first new connection.
        assert temp_files(make.root) == []  # type: ignore[attr-defined]
        assert storage.listdir("") == ([], ["keep.bin"])


def test_unreachable_and_silent_servers_give_a_clear_error(make_storage: StorageFactory) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    refused = FTPStorage(location=f"ftp://u:hunter2x@127.0.0.1:{port}/", timeout=2)
    with pytest.raises(
        FTPStorageException, match=f"Cannot connect to the FTP server 127.0.0.1:{port}"
    ) as caught:
        refused.exists("x")
    assert "hunter2x" not in str(caught.value)
    with socket.socket() as silent:  # accepts connections and never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        storage = FTPStorage(location=f"ftp://u:hunter2x@127.0.0.1:{port}/", timeout=1)
        started = time.monotonic()
        with pytest.raises(FTPStorageException, match="timed out") as caught:
            storage.exists("x")
        assert time.monotonic() - started < 1 + 2
        assert "hunter2x" not in str(caught.value)


def test_sixteen_threads_share_a_bounded_pool(make_storage: StorageFactory) -> None:
    server: FTPServer = make_storage.server  # type: ignore[attr-defined]
    storage = make_storage(max_connections=4, allow_overwrite=True)
    mark = server.mark()
    latest: dict[str, bytes] = {}
    locks = {f"shared/{i}.bin": threading.Lock() for i in range(4)}
    stop = time.monotonic() + 10

    def work(index: int) -> None:
        counter = 0
        while time.monotonic() < stop:
            counter += 1
            name = f"shared/{(index + counter) % 4}.bin"
            with locks[name]:
                payload = f"{index}:{counter}:".encode() + os.urandom(100 + counter % 5000)
                storage.save(name, ContentFile(payload))
                latest[name] = payload
                with storage.open(name, "rb") as f:
                    assert f.read() == latest[name]
                assert storage.exists(name)
                assert storage.size(name) == len(payload)
            own = f"own/{index}-{counter}.txt"
            storage.save(own, ContentFile(b"mine"))
            assert own.rsplit("/", 1)[1] in storage.listdir("own")[1]
            storage.delete(own)
            assert not storage.exists(own)

    run_threads(work)
    logins = server.commands_since(mark).count("USER django")
    assert 1 <= logins <= 4
    assert len(storage._pool) <= 4


def test_the_original_file_signature_and_disconnect_still_work(make_storage: StorageFactory) -> None:
    from storages.backends.ftp import FTPStorageFile

    storage = make_storage()
    storage.save("legacy/f.txt", ContentFile(b"legacy"))
    with FTPStorageFile("legacy/f.txt", storage, "rb") as f:
        assert f.read() == b"legacy"
    storage.disconnect()
    assert len(storage._pool) == 0
    assert storage.exists("legacy/f.txt")


def test_pickled_storage_drops_connections(make_storage: StorageFactory) -> None:
    import pickle

    storage = make_storage()
    storage.save("p.txt", ContentFile(b"x"))
    clone = pickle.loads(pickle.dumps(storage))
    assert len(clone._pool) == 0
    assert read(clone, "p.txt") == b"x"
    clone.close()
