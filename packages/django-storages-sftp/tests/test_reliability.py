"""Faults a real network brings, through ``shared/testservers/proxy.py`` in front of the sshd.

The sshd of ``conftest.py`` has OpenSSH's default limits (``MaxStartups 10:30:100``,
``MaxSessions 10``). The proxy stalls the link (nothing arrives, the TCP connection stays
open), takes the server away and brings it back, or drops open connections silently as a NAT
does, and counts the bytes the client receives.
"""

from __future__ import annotations

import os
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paramiko
import pytest
from django.core.files.base import ContentFile
from django.test import override_settings

from shared.testservers.proxy import CuttableProxy, cuttable_proxy
from shared.testservers.sshd import SSHServer
from storages.backends.sftpstorage import SFTPStorage
from storages.exceptions import StorageConfigurationError, StorageWriteError
from storages.testing import run_threads

MiB = 1024 * 1024
KiB = 1024

#: What a failed network wait may raise: a timeout, or the connection found closed.
NETWORK_ERRORS = (OSError, EOFError, paramiko.SSHException, StorageWriteError)


@pytest.fixture
def proxy(sshd: SSHServer) -> Iterator[CuttableProxy]:
    with cuttable_proxy(sshd.port) as proxy:
        yield proxy


@pytest.fixture
def through_proxy(make_storage: Any, sshd: SSHServer, proxy: CuttableProxy) -> Any:
    """Storages that reach the sshd through the proxy (the host key is pinned: another port)."""

    def make(timeout: float = 2.0, via: str = "params", **options: Any) -> SFTPStorage:
        params = sshd.params(port=proxy.port)
        if via == "params":
            params["timeout"] = timeout
        else:
            options["timeout"] = timeout
        storage: SFTPStorage = make_storage(params=params, host_keys=[sshd.host_key_line], **options)
        return storage

    return make


def _parts(folder: str) -> list[str]:
    return sorted(p.name for p in Path(folder).rglob("*.part"))


# -- 1. every wait bounded by the timeout ---------------------------------------------------------


@pytest.mark.parametrize("via", ["params", "option"])
def test_stalled_download_raises_within_the_timeout(
    through_proxy: Any, proxy: CuttableProxy, root: str, via: str
) -> None:
    (Path(root) / "big.bin").write_bytes(os.urandom(32 * MiB))
    storage = through_proxy(timeout=2.0, via=via)
    f = storage.open("big.bin", "rb")
    assert len(f.read(MiB)) == MiB
    proxy.stall()
    started = time.monotonic()
    with pytest.raises(NETWORK_ERRORS):
        while f.read(MiB):
            pass
    f.close()
    assert time.monotonic() - started < 2.0 + 2.0
    assert storage._ssh_connection_count() == 0, "the timed-out connection was dropped"
    proxy.resume()
    assert storage.exists("big.bin"), "the storage works again once the link does"


@pytest.mark.parametrize("via", ["params", "option"])
def test_stalled_upload_raises_within_the_timeout(
    through_proxy: Any, proxy: CuttableProxy, root: str, via: str
) -> None:
    storage = through_proxy(timeout=2.0, via=via)
    storage.save("up.bin", ContentFile(b"previous version"))
    block = os.urandom(MiB)
    started = 0.0
    with pytest.raises(NETWORK_ERRORS), storage.open("up.bin", "wb") as f:
        for _ in range(3):
            f.write(block)
        proxy.stall()
        started = time.monotonic()
        for _ in range(200):
            f.write(block)
    assert time.monotonic() - started < 2.0 + 2.0, "the abort must not wait on the stalled connection"
    assert storage._ssh_connection_count() == 0, "the timed-out connection was dropped"
    assert (Path(root) / "up.bin").read_bytes() == b"previous version"
    proxy.resume()
    # The temporary file is cleaned up once the server answers again.
    assert storage.listdir("") == ([], ["up.bin"])
    assert _parts(root) == []


def test_cut_upload_leaves_nothing_once_the_server_is_back(
    through_proxy: Any, proxy: CuttableProxy, root: str
) -> None:
    storage = through_proxy(timeout=2.0)
    with pytest.raises(NETWORK_ERRORS), storage.open("folder/cut.bin", "wb") as f:
        for _ in range(3):
            f.write(os.urandom(MiB))
        proxy.go_down()
        for _ in range(200):
            f.write(os.urandom(MiB))
    assert not (Path(root) / "folder/cut.bin").exists()
    proxy.come_back()
    assert storage.listdir("folder") == ([], [])
    assert _parts(root) == [], "the leftover of the failed write is removed when the server is back"


# -- 2. bounded connections, fit for a real sshd ------------------------------------------------


def test_24_concurrent_saves_against_default_sshd_limits(
    through_proxy: Any, proxy: CuttableProxy, sshd: SSHServer
) -> None:
    # The proxy counts the TCP connections; the sshd behind it has MaxStartups 10:30:100.
    storage = through_proxy(timeout=30.0)

    def save(index: int) -> None:
        storage.save(f"c/{index}.bin", ContentFile(os.urandom(100_000)))

    run_threads(save, count=24)
    assert len(storage.listdir("c")[1]) == 24
    assert proxy.connections_accepted <= storage.max_connections == 2
    assert "MaxStartups" not in sshd.log


def test_an_unclosed_write_gives_its_channel_back(make_storage: Any, root: str) -> None:
    import gc

    storage = make_storage(max_connections=1)
    for index in range(storage.channels_per_connection + 2):
        f = storage.open(f"forgotten-{index}.bin", "wb")
        f.write(os.urandom(2 * MiB))
        del f
        with pytest.warns(ResourceWarning):
            gc.collect()
    deadline = time.monotonic() + 5
    while len(storage._pool) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert storage.exists("") is True  # a channel is free: no PoolTimeoutError
    assert storage.listdir("") == ([], [])
    assert _parts(root) == []


def test_one_thread_may_hold_more_files_than_the_pool_allows(make_storage: Any, root: str) -> None:
    storage = make_storage(max_connections=1)
    for index in range(12):
        (Path(root) / f"{index}.txt").write_bytes(b"%d" % index)
    started = time.monotonic()
    files = [storage.open(f"{index}.txt", "rb") for index in range(12)]
    try:
        # Other operations from the same thread still run while it holds every channel.
        assert storage.exists("0.txt")
        storage.save("more.txt", ContentFile(b"more"))
        assert [f.read() for f in files] == [b"%d" % index for index in range(12)]
    finally:
        for f in files:
            f.close()
    assert time.monotonic() - started < 10, "no wait for a channel the same thread holds"


def test_threads_wait_for_a_channel_instead_of_opening_connections(make_storage: Any, root: str) -> None:
    class Narrow(SFTPStorage):
        channels_per_connection = 2

    (Path(root) / "f.bin").write_bytes(os.urandom(200_000))
    storage = make_storage()
    narrow = Narrow(
        host=storage.host,
        params=storage.params,
        known_host_file=storage.known_host_file,
        root_path=root,
        max_connections=1,
    )
    errors: list[BaseException] = []
    peak = [0]

    def work() -> None:
        try:
            for _ in range(5):
                with narrow.open("f.bin", "rb") as f:
                    assert len(f.read()) == 200_000
                    peak[0] = max(peak[0], narrow._ssh_connection_count())
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        narrow.close()
    assert errors == []
    assert peak[0] == 1


def test_max_connections_setting() -> None:
    with override_settings(SFTP_STORAGE_MAX_CONNECTIONS=5):
        assert SFTPStorage(host="h").max_connections == 5
    with pytest.raises(StorageConfigurationError, match="SFTP_STORAGE_MAX_CONNECTIONS"):
        SFTPStorage(host="h", max_connections=0)


# -- 3. a silently dropped idle connection -----------------------------------------------------------


def test_keepalives_notice_a_silently_dropped_idle_connection(
    through_proxy: Any, proxy: CuttableProxy
) -> None:
    storage = through_proxy(timeout=1.5, keepalive_interval=0.5)
    assert storage.exists("") is True
    proxy.drop_silently()
    time.sleep(0.5 + 1.5 + 0.5)
    started = time.monotonic()
    assert storage.exists("") is True
    # Less than the timeout: no request waited on the dead connection.
    assert time.monotonic() - started < 1.5, "the dead connection is known before it is used"


def test_a_quiet_healthy_connection_is_kept(make_storage: Any) -> None:
    storage = make_storage(timeout=2.0, keepalive_interval=0.3)
    storage.exists("")
    (first,) = storage._connections._open
    time.sleep(0.3 + 2.0 + 1.0)
    storage.exists("")
    assert storage._connections._open == [first], "keepalives are answered: the server is there"


def test_an_idempotent_operation_is_retried_once_on_a_fresh_connection(
    through_proxy: Any, proxy: CuttableProxy
) -> None:
    storage = through_proxy(timeout=1.5, keepalive_interval=60)
    storage.save("here.txt", ContentFile(b"x"))
    proxy.drop_silently()
    started = time.monotonic()
    assert storage.exists("here.txt") is True
    assert time.monotonic() - started < 1.5 + 2.0


def test_the_retry_does_not_land_on_another_dropped_connection(
    through_proxy: Any, proxy: CuttableProxy
) -> None:
    class OneChannelEach(SFTPStorage):
        channels_per_connection = 1

    storage = through_proxy(timeout=1.5, keepalive_interval=1.0)
    storage.__class__ = OneChannelEach
    storage._init_transient()
    # Two idle channels, on two SSH connections: the NAT forgets both at once.
    barrier = threading.Barrier(2)

    def hold() -> None:
        connection = storage._take()
        barrier.wait(timeout=10)
        storage._give_back(connection)

    threads = [threading.Thread(target=hold) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert storage._ssh_connection_count() == 2
    proxy.drop_silently()
    started = time.monotonic()
    assert storage.exists("") is True
    assert time.monotonic() - started < 1.5 + 2.0


def test_idle_connections_older_than_the_limit_are_retired(make_storage: Any) -> None:
    storage = make_storage(max_idle_time=0.3)
    storage.exists("")
    (first,) = storage._connections._open
    time.sleep(0.5)
    storage.exists("")
    (second,) = storage._connections._open
    assert second is not first, "the idle channel was retired, and its SSH connection with it"
    assert not first.transport.is_active()


# -- 4. small reads stay small -------------------------------------------------------------------------


def test_a_small_read_receives_little(through_proxy: Any, proxy: CuttableProxy, root: str) -> None:
    (Path(root) / "big.bin").write_bytes(os.urandom(32 * MiB))
    storage = through_proxy(timeout=10)
    storage.exists("")  # connected: count only the read
    before = proxy.bytes_to_client
    with storage.open("big.bin", "rb") as f:
        assert len(f.read(1024)) == 1024
    time.sleep(0.3)  # answers still in flight arrive
    received = proxy.bytes_to_client - before
    assert 32 * KiB <= received <= 256 * KiB + 16 * KiB, received


def test_the_look_ahead_grows_while_the_reader_reads(make_storage: Any, root: str) -> None:
    data = os.urandom(24 * MiB)
    (Path(root) / "big.bin").write_bytes(data)
    storage = make_storage()
    with storage.open("big.bin", "rb") as f:
        reader = f._reader._stream
        first = reader._ahead()
        assert f.read(16 * MiB) == data[: 16 * MiB]
        assert reader._ahead() >= 16 * first
        assert f.read() == data[16 * MiB :]


def test_read_ahead_limit_is_the_documented_one() -> None:
    text = (Path(__file__).parents[3] / "docs/providers/sftp.rst").read_text()
    mib = SFTPStorage.read_ahead // MiB
    assert f"``read_ahead`` ({mib} MiB)" in text


# -- 5. nothing left behind, nothing exposed ---------------------------------------------------------


def test_temporary_file_has_file_mode_from_the_start(make_storage: Any, root: str) -> None:
    storage = make_storage(file_mode=0o600)
    with storage.open("private.bin", "wb") as f:
        f.write(os.urandom(2 * MiB))
        (temp,) = Path(root).glob(".private.bin.*.part")
        assert stat.S_IMODE(temp.stat().st_mode) == 0o600
    assert stat.S_IMODE((Path(root) / "private.bin").stat().st_mode) == 0o600


def test_failed_posix_rename_keeps_the_existing_file(
    make_storage: Any, root: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = make_storage()
    storage.save("keep.txt", ContentFile(b"existing"))

    def refuse(self: paramiko.SFTPClient, old: str, new: str) -> None:
        raise OSError("Failure")  # what paramiko raises for SSH_FX_FAILURE (disk full, ...)

    monkeypatch.setattr(paramiko.SFTPClient, "posix_rename", refuse)
    with pytest.raises((OSError, StorageWriteError)), storage.open("keep.txt", "wb") as f:
        f.write(b"new")
    assert (Path(root) / "keep.txt").read_bytes() == b"existing"
    assert _parts(root) == []


def test_server_without_posix_rename_still_replaces(make_storage: Any, root: str) -> None:
    storage = make_storage()
    storage.save("r.txt", ContentFile(b"old"))
    storage._posix_rename_supported = lambda sftp: False
    with storage.open("r.txt", "wb") as f:
        f.write(b"new")
    assert (Path(root) / "r.txt").read_bytes() == b"new"


# -- 6. the original's surface -------------------------------------------------------------------------


def test_sftp_attribute_is_a_live_client(make_storage: Any, root: str) -> None:
    storage = make_storage()
    storage.save("link-target.txt", ContentFile(b"x"))
    client = storage.sftp
    assert isinstance(client, paramiko.SFTPClient)
    assert storage.sftp is client, "the same client until it drops or the storage closes"
    client.chmod(storage._path("link-target.txt"), 0o640)
    client.symlink(storage._path("link-target.txt"), storage._path("link.txt"))
    assert stat.S_IMODE((Path(root) / "link-target.txt").stat().st_mode) == 0o640
    assert (Path(root) / "link.txt").is_symlink()
    storage.close()
    assert storage.sftp is not client
    assert storage.sftp.stat(storage._path("link.txt")).st_size == 1


def test_a_collected_storage_closes_its_connections(make_storage: Any) -> None:
    import gc

    storage = SFTPStorage(
        **{k: getattr(make_storage(), k) for k in ("host", "params", "known_host_file", "root_path")}
    )
    storage.exists("")
    storage.sftp.listdir(".")
    (ssh,) = storage._connections._open
    del storage
    gc.collect()
    assert not ssh.transport.is_active()
