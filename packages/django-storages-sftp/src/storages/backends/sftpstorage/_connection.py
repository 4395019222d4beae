"""SSH plumbing for :mod:`storages.backends.sftpstorage`: host keys, connections, streamed reads.

Kept apart from the storage class so that the class reads as "what SFTP adds to core".
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import logging
import os
import threading
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import paramiko

if TYPE_CHECKING:
    from storages.backends.sftpstorage._storage import SFTPStorage

logger = logging.getLogger("storages.sftp")

HOST_KEY_POLICIES = ("reject", "warn", "auto-add")


class UnknownHostKeyError(paramiko.SSHException):
    """The server offered a host key that is neither known nor pinned."""


class UnknownHostKeyWarning(UserWarning):
    """An unknown host key was accepted because the host key policy is ``"warn"``."""


def fingerprint(key: paramiko.PKey) -> str:
    """``SHA256:...`` as ``ssh-keygen -l`` prints it."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode("ascii").rstrip("=")


def lookup_name(host: str, port: int) -> str:
    """The name a known-hosts file lists the server under (``[host]:port`` off port 22)."""
    return host if port == 22 else f"[{host}]:{port}"


def parse_pinned_key(text: str) -> paramiko.PKey:
    """A key from ``"ssh-ed25519 AAAA..."`` or a whole known-hosts line (its host is ignored)."""
    fields = text.split()
    if len(fields) >= 3 and not fields[0].startswith(("ssh-", "ecdsa-", "sk-")):
        try:
            entry = paramiko.hostkeys.HostKeyEntry.from_line(text)
        except Exception as exc:  # InvalidHostKey, or the key class's own errors
            raise ValueError(f"cannot read a host key from {text!r}: {exc}") from exc
        if entry is None or entry.key is None:
            raise ValueError(f"cannot read a host key from {text!r}")
        return entry.key
    if len(fields) < 2:
        raise ValueError(f"expected 'KEYTYPE BASE64', got {text!r}")
    try:
        return paramiko.PKey.from_type_string(fields[0], base64.b64decode(fields[1]))
    except Exception as exc:  # paramiko raises several types for malformed keys
        raise ValueError(f"cannot read a host key from {text!r}: {exc}") from exc


class _Policy(paramiko.MissingHostKeyPolicy):
    """What to do with a host key that is neither in the known-hosts file nor pinned."""

    def __init__(self, storage: SFTPStorage) -> None:
        self.storage = storage

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> None:
        policy = self.storage.host_key_policy
        description = f"{key.get_name()} key {fingerprint(key)}"
        if policy == "auto-add":
            logger.info("Trusting the unknown %s of %s (host_key_policy='auto-add').", description, hostname)
            self.storage._learn_host_key(key)
            return
        if policy == "warn":
            message = (
                f"Connecting to {hostname} although its host key ({description}) is unknown, "
                f"because SFTP_STORAGE_HOST_KEY_POLICY is 'warn'. {self._how_to_add(key)}"
            )
            logger.warning("%s", message)
            warnings.warn(message, UnknownHostKeyWarning, stacklevel=2)
            self.storage._learn_host_key(key)
            return
        raise UnknownHostKeyError(
            f"Refusing to connect to {hostname}: its host key ({description}) is unknown. "
            f"Check the fingerprint with the server's administrator, then {self._how_to_add(key)} "
            "Setting SFTP_STORAGE_HOST_KEY_POLICY to 'auto-add' trusts any key instead, which "
            "allows man-in-the-middle attacks."
        )

    def _how_to_add(self, key: paramiko.PKey) -> str:
        storage = self.storage
        port = storage.port
        keytype = key.get_name().removeprefix("ssh-")
        port_flag = f"-p {port} " if port != 22 else ""
        keyscan = f"ssh-keyscan {port_flag}-t {keytype} {storage.host}"
        known_hosts = storage.known_hosts_path
        missing = "" if os.path.exists(known_hosts) else ", which does not exist yet"
        return (
            f"add it to the known-hosts file {known_hosts}{missing} "
            f"(`{keyscan} >> {known_hosts}`; the file is set by SFTP_KNOWN_HOST_FILE or the "
            f"'known_host_file' option), or pin it with "
            f'SFTP_STORAGE_HOST_KEYS = ["{key.get_name()} {key.get_base64()}"] '
            "(the 'host_keys' option)."
        )


class Connection:
    """One SSH connection and its SFTP session; used by one thread at a time.

    The storage keeps these in core's :class:`storages.pool.ConnectionPool`.
    """

    def __init__(self, client: paramiko.SSHClient, sftp: paramiko.SFTPClient) -> None:
        self.client = client
        self.sftp = sftp

    def is_active(self) -> bool:
        transport = self.client.get_transport()
        channel = self.sftp.get_channel()
        return bool(
            transport is not None and transport.is_active() and channel is not None and not channel.closed
        )

    def close(self) -> None:
        # An already dropped session has nothing left to release.
        with contextlib.suppress(Exception):
            self.sftp.close()
        self.client.close()


def _drop_response(kind: int, message: Any, number: int) -> None:
    """Stands in for ``SFTPFile._async_response`` on a closed reader: the data is not needed."""


class PrefetchReader(io.RawIOBase):
    """Stream a remote file from ``offset`` with a bounded number of requests in flight.

    paramiko reads one 32 KiB request per round trip unless the file prefetches. Its own
    ``SFTPFile.prefetch()`` queues requests for the whole file and cannot be stopped, so a
    file closed early would keep the connection busy with the rest. This reader hands
    paramiko's prefetch thread a lazy list of requests that stays up to ``window`` bytes ahead
    of the reader and stops when the reader closes. Received data is bounded by the SSH channel
    window; answers still in flight when the reader closes early are dropped unread.
    """

    #: Bytes requested ahead of a reader that has just started. Less than a few MiB leaves the
    #: link idle while the look-ahead grows (59 MB/s at 1 MiB against about 100 at 8 MiB on
    #: loopback); a reader that closes early drains at most this much.
    INITIAL_AHEAD = 8 * 1024 * 1024

    def __init__(
        self,
        storage: SFTPStorage,
        connection: Connection,
        handle: paramiko.SFTPFile,
        offset: int,
        size: int,
        request_size: int,
        window: int,
    ) -> None:
        self._storage = storage
        self._connection: Connection | None = connection
        self._handle = handle
        self._size = size
        self._request_size = request_size
        self._window = window
        self._pos = self._start = offset
        self._progress = threading.Condition()
        self._generation = 0
        handle.MAX_REQUEST_SIZE = request_size
        self._start_prefetch()

    def _start_prefetch(self) -> None:
        self._handle.seek(self._pos)
        if self._pos >= self._size:
            return
        with self._progress:
            self._generation += 1
            generation = self._generation
        start = getattr(self._handle, "_start_prefetch", None)
        if start is None:  # pragma: no cover - paramiko without the private hook
            requests = max(1, self._window // self._request_size)
            self._handle.prefetch(self._size, max_concurrent_requests=requests)
            return
        start(self._requests(self._pos, generation))

    def _requests(self, start: int, generation: int) -> Iterator[tuple[int, int]]:
        # Runs in paramiko's prefetch thread.
        for offset in range(start, self._size, self._request_size):
            with self._progress:
                while self._generation == generation and offset >= self._pos + self._ahead():
                    self._progress.wait(timeout=1.0)
                if self._generation != generation:
                    return
            yield offset, min(self._request_size, self._size - offset)

    def _ahead(self) -> int:
        # Start small and double with what the reader consumed, up to the window: a reader
        # that stops after a few bytes (an image header) leaves little in flight to drain.
        return min(self._window, max(self.INITIAL_AHEAD, 2 * (self._pos - self._start)))

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self._pos >= self._size:
            return b""
        if size is None or size < 0:
            size = self._size - self._pos
        data = self._handle.read(size)
        with self._progress:
            self._pos += len(data)
            self._progress.notify_all()
        if self._pos < self._size and not getattr(self._handle, "_prefetching", True):
            # paramiko fell back to one request per round trip (it ran out of queued requests
            # between two of ours): queue from here again.
            self._start_prefetch()
        return bytes(data)

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self.read(len(view))
        view[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if self.closed:
            return
        with self._progress:
            self._generation += 1
            self._progress.notify_all()
        connection, self._connection = self._connection, None
        if self._pos < self._size:
            # Closed early: the answers still in flight (at most one window) are read and
            # dropped by the close below instead of being kept in paramiko's prefetch buffers.
            # paramiko keeps answers to prefetch requests; drop them instead (private hook).
            setattr(self._handle, "_async_response", _drop_response)  # noqa: B010
        # On a dropped connection there is nothing to wait for.
        with contextlib.suppress(Exception):
            self._handle.close()
        if connection is not None:
            self._storage._give_back(connection)
        super().close()
