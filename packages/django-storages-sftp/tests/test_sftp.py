"""SFTP-specific behaviour, against the real sshd of ``conftest.py`` (no mocks)."""

from __future__ import annotations

import datetime
import io
import logging
import os
import pickle
import socket
import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import paramiko
import pytest
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.base import ContentFile
from django.test import override_settings

from shared.testservers.sshd import SSHServer
from storages.backends.sftpstorage import SFTPStorage, UnknownHostKeyError, UnknownHostKeyWarning
from storages.exceptions import MissingOptionError, StorageConfigurationError
from storages.testing import run_threads

MiB = 1024 * 1024


def _files_under(folder: str) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in Path(folder).rglob("*") if p.is_file())


# -- host keys ----------------------------------------------------------------------------------


def test_unknown_host_is_rejected_by_default(make_storage: Any, sshd: SSHServer, tmp_path: Path) -> None:
    missing = str(tmp_path / "known_hosts")
    storage = make_storage(known_host_file=missing)
    with pytest.raises(UnknownHostKeyError) as caught:
        storage.exists("anything")
    message = str(caught.value)
    assert sshd.fingerprint in message
    assert f"ssh-keyscan -p {sshd.port} -t ed25519 127.0.0.1 >> {missing}" in message
    assert "SFTP_KNOWN_HOST_FILE" in message
    assert "SFTP_STORAGE_HOST_KEYS" in message
    assert sshd.host_key_line in message
    assert not os.path.exists(missing), "the policy must not write a known-hosts file"


def test_known_hosts_file_is_accepted(make_storage: Any) -> None:
    assert make_storage().exists("") is True


@pytest.mark.parametrize("form", ["key", "known-hosts-line"])
def test_pinned_host_key_is_accepted(make_storage: Any, sshd: SSHServer, tmp_path: Path, form: str) -> None:
    pin = sshd.host_key_line if form == "key" else f"[{sshd.host}]:{sshd.port} {sshd.host_key_line}"
    storage = make_storage(known_host_file=str(tmp_path / "none"), host_keys=[pin])
    assert storage.exists("") is True


def test_wrong_pinned_key_is_refused(make_storage: Any) -> None:
    other = paramiko.Ed25519Key.generate() if hasattr(paramiko.Ed25519Key, "generate") else None
    if other is None:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ed25519

        raw = (
            ed25519.Ed25519PrivateKey.generate()
            .public_key()
            .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        )
        pin = raw.decode()
    else:  # pragma: no cover - paramiko versions with Ed25519Key.generate
        pin = f"{other.get_name()} {other.get_base64()}"
    storage = make_storage(host_keys=[pin])
    with pytest.raises(paramiko.BadHostKeyException):
        storage.exists("")


def test_auto_add_accepts_unknown_host_silently(make_storage: Any, tmp_path: Path) -> None:
    storage = make_storage(known_host_file=str(tmp_path / "none"), host_key_policy="auto-add")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert storage.exists("") is True
    assert not (tmp_path / "none").exists()


def test_warn_policy_warns_and_connects(make_storage: Any, tmp_path: Path) -> None:
    storage = make_storage(known_host_file=str(tmp_path / "none"), host_key_policy="warn")
    with pytest.warns(UnknownHostKeyWarning, match="SFTP_STORAGE_HOST_KEY_POLICY"):
        assert storage.exists("") is True


def test_unknown_policy_is_a_configuration_error(make_storage: Any) -> None:
    with pytest.raises(StorageConfigurationError, match="host_key_policy"):
        make_storage(host_key_policy="trust-me")


def test_unreadable_pin_is_a_configuration_error(make_storage: Any) -> None:
    with pytest.raises(StorageConfigurationError, match="host_keys"):
        make_storage(host_keys=["not a key"])


# -- configuration --------------------------------------------------------------------------------


def test_host_is_required_before_any_connection() -> None:
    storage = SFTPStorage()
    with pytest.raises(MissingOptionError, match="SFTP_STORAGE_HOST"):
        storage.exists("x")
    assert len(storage._pool) == 0


def test_settings_precedence() -> None:
    class Subclassed(SFTPStorage):
        root_path = "from-class/"

    with override_settings(
        SFTP_STORAGE_HOST="settings-host",
        SFTP_STORAGE_ROOT="from-settings/",
        SFTP_STORAGE_FILE_MODE=0o640,
        SFTP_STORAGE_HOST_KEY_POLICY="warn",
        SFTP_BASE_URL="https://settings.example/",
    ):
        storage = SFTPStorage()
        assert storage.host == "settings-host"
        assert (storage.root_path, storage.file_mode) == ("from-settings/", 0o640)
        assert storage.host_key_policy == "warn"
        assert storage.base_url == "https://settings.example/"
        assert Subclassed().root_path == "from-class/"
        assert Subclassed(root_path="from-options/").root_path == "from-options/"
        assert SFTPStorage(host="options-host").host == "options-host"


def test_defaults_match_the_original() -> None:
    storage = SFTPStorage(host="h")
    assert storage.params == {}
    assert storage.interactive is False
    assert (storage.file_mode, storage.dir_mode, storage.uid, storage.gid) == (None, None, None, None)
    assert storage.root_path == ""
    assert storage.host_key_policy == "reject"
    with override_settings(MEDIA_URL="/media/"):
        assert SFTPStorage(host="h").base_url == "/media/"
        assert SFTPStorage(host="h", base_url="").base_url == "/media/"


def test_params_are_secret(make_storage: Any) -> None:
    storage = make_storage(params={"username": "u", "password": "hunter2-secret"})
    assert "hunter2" not in repr(storage)
    assert "hunter2" not in str(storage.option_sources())
    path, _args, kwargs = storage.deconstruct()
    assert path == "storages.backends.sftpstorage.SFTPStorage"
    assert "params" not in kwargs
    assert kwargs["host"] == storage.host


def test_password_never_in_errors_or_logs(
    make_storage: Any, sshd: SSHServer, caplog: pytest.LogCaptureFixture
) -> None:
    password = "hunter2-very-secret"
    storage = make_storage(params=sshd.params(password=password, key_filename=None))
    caplog.set_level(logging.DEBUG)
    with pytest.raises(paramiko.AuthenticationException) as caught:
        storage.exists("x")
    assert password not in str(caught.value)
    assert password not in repr(caught.value)
    assert password not in caplog.text


def test_every_network_wait_has_a_timeout(make_storage: Any) -> None:
    # A server that accepts TCP connections and never says a word.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        storage = make_storage(params={"port": port, "username": "x"}, timeout=1.0)
        started = time.monotonic()
        with pytest.raises((paramiko.SSHException, OSError)):
            storage.exists("x")
        assert time.monotonic() - started < 10


# -- names ----------------------------------------------------------------------------------------

BAD_NAMES = ["../outside.txt", "a/../../outside.txt", "/etc/passwd", "..\\outside.txt", ""]


@pytest.mark.parametrize("bad", BAD_NAMES[:-1])
def test_every_method_confines_names(bad: str) -> None:
    # An unreachable host: any method that touched the network would fail differently.
    storage = SFTPStorage(host="host.invalid", base_url="/media/")
    calls: dict[str, Callable[[], object]] = {
        "save": lambda: storage.save(bad, ContentFile(b"x")),
        "open-rb": lambda: storage.open(bad, "rb"),
        "open-wb": lambda: storage.open(bad, "wb"),
        "delete": lambda: storage.delete(bad),
        "exists": lambda: storage.exists(bad),
        "listdir": lambda: storage.listdir(bad),
        "size": lambda: storage.size(bad),
        "get_modified_time": lambda: storage.get_modified_time(bad),
        "get_accessed_time": lambda: storage.get_accessed_time(bad),
        "url": lambda: storage.url(bad),
    }
    for method, call in calls.items():
        with pytest.raises(SuspiciousFileOperation):
            call()
            pytest.fail(f"{method} accepted {bad!r}")
    assert len(storage._pool) == 0


def test_names_stay_below_root_path(make_storage: Any, root: str) -> None:
    storage = make_storage()
    # Django's save() refuses any "..": open() shows core's normalisation.
    with storage.open("a/./b/../c.txt", "wb") as f:
        f.write(b"x")
    assert _files_under(root) == ["a/c.txt"]


# -- writes ---------------------------------------------------------------------------------------


def test_modes_and_owner_are_applied(make_storage: Any, root: str) -> None:
    storage = make_storage(file_mode=0o600, dir_mode=0o750, uid=1, gid=1)
    storage.save("sub/dir/f.txt", ContentFile(b"x"))
    info = os.stat(Path(root) / "sub/dir/f.txt")
    assert stat.S_IMODE(info.st_mode) == 0o600
    assert (info.st_uid, info.st_gid) == (1, 1)
    folder = os.stat(Path(root) / "sub/dir")
    assert stat.S_IMODE(folder.st_mode) == 0o750
    assert (folder.st_uid, folder.st_gid) == (1, 1)


def test_uid_and_gid_zero_are_honoured(make_storage: Any, root: str) -> None:
    make_storage(uid=5, gid=5).save("f.txt", ContentFile(b"x"))
    make_storage(uid=0, gid=0, file_mode=0o644).save("g.txt", ContentFile(b"x"))
    info = os.stat(Path(root) / "g.txt")
    assert (info.st_uid, info.st_gid) == (0, 0)
    # Only gid given: the uid is kept.
    storage = make_storage(gid=0)
    storage.save("h.txt", ContentFile(b"x"))
    assert os.stat(Path(root) / "h.txt").st_gid == 0


def test_write_goes_through_a_temporary_name(make_storage: Any, root: str) -> None:
    storage = make_storage()
    with storage.open("doc.bin", "wb") as f:
        f.write(b"x" * (2 * MiB))
        assert not (Path(root) / "doc.bin").exists(), "readers must not see a half-written file"
        (temp,) = _files_under(root)
        assert temp.startswith(".doc.bin.") and temp.endswith(".part")
        assert storage.listdir("") == ([], []), "in-progress uploads are not listed"
    assert _files_under(root) == ["doc.bin"]


def test_a_name_of_250_bytes_is_written_through_a_temporary_name_that_fits(
    make_storage: Any, root: str
) -> None:
    # The server's file system takes 255 bytes a name: the temporary name must fit too.
    storage = make_storage()
    name = "é" * 120 + "x" * 6 + ".bin"
    assert len(name.encode()) == 250
    with storage.open(name, "wb") as f:
        f.write(b"long" * MiB)
        (temp,) = _files_under(root)
        assert len(temp.encode()) <= 255 and temp.endswith(".part")
    assert storage.listdir("") == ([], [name])
    with storage.open(name) as f:
        assert f.read() == b"long" * MiB


def test_open_for_write_replaces_existing_file(make_storage: Any, root: str) -> None:
    storage = make_storage()
    storage.save("same.txt", ContentFile(b"old content"))
    with storage.open("same.txt", "wb") as f:
        f.write(b"new")
    assert (Path(root) / "same.txt").read_bytes() == b"new"


def test_error_mid_transfer_leaves_nothing(make_storage: Any, sshd: SSHServer, root: str) -> None:
    storage = make_storage()
    f = storage.open("folder/big.bin", "wb")
    f.write(os.urandom(3 * MiB))
    sshd.restart()  # drops the connection under the open file
    with pytest.raises((OSError, EOFError, paramiko.SSHException)):
        f.write(os.urandom(2 * MiB))
        f.close()
    f.abort()
    assert _files_under(root) == []
    assert storage.exists("folder") and not storage.exists("folder/big.bin")


# -- reads ----------------------------------------------------------------------------------------


def test_reads_stream_with_bounded_read_ahead(make_storage: Any, root: str) -> None:
    class SmallWindow(SFTPStorage):
        read_ahead = 256 * 1024
        read_request_size = 32 * 1024

    data = os.urandom(3 * MiB + 17)
    (Path(root) / "r.bin").write_bytes(data)
    storage = make_storage()
    small = SmallWindow(
        host=storage.host, params=storage.params, known_host_file=storage.known_host_file, root_path=root
    )
    try:
        with small.open("r.bin", "rb") as f:
            assert f.read(100) == data[:100]
            f.seek(2 * MiB)
            assert f.read(MiB) == data[2 * MiB : 3 * MiB]
            assert f.read() == data[3 * MiB :]
        # Closed early, in the middle of a window: the connection is still usable.
        with small.open("r.bin", "rb") as f:
            assert f.read(10) == data[:10]
        assert small.size("r.bin") == len(data)
        assert len(small._pool) == 1
    finally:
        small.close()


def test_open_missing_file(make_storage: Any) -> None:
    with pytest.raises(FileNotFoundError):
        make_storage().open("missing.txt")


# -- storage API ----------------------------------------------------------------------------------


def test_delete_raises_errors_other_than_missing(make_storage: Any, root: str) -> None:
    storage = make_storage()
    storage.save("folder/inside.txt", ContentFile(b"x"))
    storage.delete("folder/missing.txt")
    with pytest.raises(OSError):
        storage.delete("folder")  # a folder: the server refuses
    assert storage.exists("folder/inside.txt")


def test_listdir(make_storage: Any) -> None:
    storage = make_storage()
    storage.save("top.txt", ContentFile(b"x"))
    storage.save("sub/inner.txt", ContentFile(b"x"))
    assert storage.listdir("") == (["sub"], ["top.txt"])
    assert storage.listdir("sub") == ([], ["inner.txt"])


def test_times_follow_use_tz(make_storage: Any) -> None:
    storage = make_storage()
    storage.save("t.txt", ContentFile(b"x"))
    with override_settings(USE_TZ=False):
        assert storage.get_modified_time("t.txt").tzinfo is None
        assert storage.get_accessed_time("t.txt").tzinfo is None
    with override_settings(USE_TZ=True):
        assert storage.get_modified_time("t.txt").utcoffset() == datetime.timedelta(0)
    with pytest.raises(NotImplementedError):
        storage.get_created_time("t.txt")


def test_url_joins_base_url_percent_encoded() -> None:
    storage = SFTPStorage(host="h", base_url="https://cdn.example/media/")
    assert storage.url("dir/a b#c.txt") == "https://cdn.example/media/dir/a%20b%23c.txt"
    storage.base_url = None
    with pytest.raises(ValueError, match="not accessible via a URL"):
        storage.url("x")


# -- connections ----------------------------------------------------------------------------------


def test_server_restart_between_calls(make_storage: Any, sshd: SSHServer) -> None:
    storage = make_storage()
    storage.save("before.txt", ContentFile(b"before"))
    sshd.restart()
    assert storage.exists("before.txt")
    storage.save("after.txt", ContentFile(b"after"))
    with storage.open("after.txt") as f:
        assert f.read() == b"after"


def test_sixteen_threads_share_a_small_pool(make_storage: Any) -> None:
    storage = make_storage()

    def work(index: int) -> None:
        for round_ in range(5):
            name = storage.save(f"t{index}/{round_}.bin", ContentFile(os.urandom(50_000)))
            with storage.open(name) as f:
                assert len(f.read()) == 50_000
            assert storage.listdir(f"t{index}")[1]

    run_threads(work, timeout=120)
    assert len(storage._pool) <= storage.max_idle_connections


def test_context_manager_closes_connections(make_storage: Any) -> None:
    with make_storage() as storage:
        storage.exists("x")
        assert len(storage._pool) == 1
    assert len(storage._pool) == 0
    assert storage.exists("") is True  # usable again: reconnects


def test_pickling_drops_connections(make_storage: Any) -> None:
    storage = make_storage()
    storage.save("p.txt", ContentFile(b"pickled"))
    clone = pickle.loads(pickle.dumps(storage))
    try:
        assert len(clone._pool) == 0
        with clone.open("p.txt") as f:
            assert f.read() == b"pickled"
    finally:
        clone.close()


def test_text_mode_round_trip(make_storage: Any) -> None:
    storage = make_storage()
    with storage.open("t.txt", "w") as f:
        f.write("line one\nline two\n")
    with storage.open("t.txt", "r") as f:
        assert f.readlines() == ["line one\n", "line two\n"]
    with storage.open("t.txt", "rb") as f:
        assert isinstance(f.file, io.BufferedReader)
