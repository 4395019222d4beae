"""SSH plumbing for :mod:`storages.backends.sftpstorage`: host keys, connections, streamed reads.

Kept apart from the storage class so that the class reads as "what SFTP adds to core".
"""

from __future__ import annotations

import base64
import contextlib
import errno
import hashlib
import io
import logging
import os
import socket
import struct
import threading
import time
import warnings
import weakref
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import paramiko
from paramiko.common import cMSG_GLOBAL_REQUEST
from paramiko.message import Message
from paramiko.sftp import CMD_HANDLE, CMD_INIT, CMD_OPEN, CMD_VERSION, SFTPError

if TYPE_CHECKING:
    from storages.backends.sftpstorage._storage import SFTPStorage

logger = logging.getLogger("storages.sftp")

HOST_KEY_POLICIES = ("reject", "warn", "auto-add")

#: Errors after which a connection is known or suspected to be dead (a timeout among them:
#: a late answer would be read as the answer to the next request). SFTP status answers
#: ("no such file", "permission denied", "failure") are plain ``OSError``\s and not in here.
NETWORK_ERRORS = (TimeoutError, socket.timeout, EOFError, ConnectionError, paramiko.SSHException)

# The SFTP v3 open flags (paramiko keeps them in paramiko.sftp without exporting them).
_WRITE, _CREATE, _TRUNCATE, _EXCLUSIVE = 0x02, 0x08, 0x10, 0x20


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


class WatchedSocket:
    """The TCP socket under one SSH connection, watched for silence and for sends that never end.

    paramiko bounds its waits for data, but its packetizer retries a send into a full TCP
    buffer for ever (a server that stopped reading). Here a send that made no progress for
    ``timeout`` seconds fails, which paramiko turns into ``EOFError``, and the socket stays
    failed. ``last_received`` (``time.monotonic()``) tells how long the server has been silent.
    """

    def __init__(self, sock: Any, timeout: float) -> None:
        self._sock = sock
        self.timeout = timeout
        self.last_received = time.monotonic()
        self.bytes_received = 0
        self.stuck = False
        self._send_blocked_since: float | None = None

    def recv(self, size: int) -> bytes:
        data: bytes = self._sock.recv(size)
        if data:
            self.last_received = time.monotonic()
            self.bytes_received += len(data)
        return data

    def send(self, data: bytes) -> int:
        if self.stuck:
            raise OSError(errno.ETIMEDOUT, "An earlier send to the SFTP server never completed.")
        try:
            sent: int = self._sock.send(data)
        except TimeoutError:
            now = time.monotonic()
            if self._send_blocked_since is None:
                self._send_blocked_since = now
            elif now - self._send_blocked_since >= self.timeout:
                self.stuck = True
                raise OSError(
                    errno.ETIMEDOUT,
                    f"The SFTP server took nothing for {self.timeout:g} seconds (the timeout).",
                ) from None
            raise
        self._send_blocked_since = None
        return sent

    def silent_for(self) -> float:
        return time.monotonic() - self.last_received

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class SFTPClient(paramiko.SFTPClient):
    """paramiko's client, keeping the extension list that the server announces at the start."""

    extensions: dict[str, bytes]

    def _send_version(self) -> int:
        # paramiko's BaseSFTP._send_version reads the same packet and drops the extensions.
        message = Message()
        message.add_int(3)
        self._send_packet(CMD_INIT, message)  # type: ignore[attr-defined]
        kind, data = self._read_packet()  # type: ignore[attr-defined]
        if kind != CMD_VERSION:
            raise SFTPError("Incompatible sftp protocol")
        self.extensions = {}
        offset = 4
        with contextlib.suppress(struct.error, UnicodeDecodeError):  # malformed: fewer extensions
            while offset < len(data):
                fields = []
                for _ in range(2):
                    (length,) = struct.unpack_from(">I", data, offset)
                    fields.append(data[offset + 4 : offset + 4 + length])
                    offset += 4 + length
                self.extensions[fields[0].decode("utf-8")] = fields[1]
        return int(struct.unpack(">I", data[:4])[0])

    def create(self, path: str, mode: int | None) -> paramiko.SFTPFile:
        """Create ``path`` for writing, with permissions ``mode`` from the first moment.

        ``SFTPClient.open`` sends no attributes, so the file would exist with the server's
        default mode until a later ``chmod``. Exclusive: an existing file (or a planted
        symlink) under the random temporary name is an error, not overwritten.
        """
        attributes = paramiko.SFTPAttributes()
        if mode is not None:
            attributes.st_mode = mode
        flags = _WRITE | _CREATE | _TRUNCATE | _EXCLUSIVE
        kind, message = self._request(CMD_OPEN, path, flags, attributes)  # type: ignore[attr-defined]
        if kind != CMD_HANDLE or message is None:
            raise SFTPError("Expected handle")
        return paramiko.SFTPFile(self, message.get_binary(), "wb")


class SSHConnection:
    """One SSH connection (a paramiko transport): carries several SFTP channels at once."""

    def __init__(
        self, client: paramiko.SSHClient, sock: WatchedSocket, timeout: float, keepalive: float
    ) -> None:
        self.client = client
        self.sock = sock
        self.timeout = timeout
        self.keepalive = keepalive
        transport = client.get_transport()
        if transport is None:  # pragma: no cover - connect() sets it or raises
            raise paramiko.SSHException("No transport after connecting.")
        self.transport = transport
        #: SFTP channels open on this connection (guarded by :class:`SSHConnections`' lock).
        self.channels = 0
        self.dropped = False
        if keepalive:
            transport.packetizer.set_keepalive(keepalive, _keepalive_sender(transport))

    def is_active(self) -> bool:
        if self.dropped or not self.transport.is_active() or self.sock.stuck:
            return False
        # Keepalives are answered: silence longer than one interval plus the timeout means the
        # network dropped the connection without telling either end.
        return not (self.keepalive and self.sock.silent_for() > self.keepalive + self.timeout)

    def open_sftp(self) -> SFTPClient:
        """A new SFTP channel, every step bounded by the timeout."""
        channel = self.transport.open_session(timeout=self.timeout)
        channel.settimeout(self.timeout)
        # invoke_subsystem() waits for the server's answer without a bound: give up on the
        # whole connection when it does not come in time, and wake the waiting call.
        expired = threading.Event()

        def expire() -> None:
            expired.set()
            self.drop()
            channel.event.set()

        timer = threading.Timer(self.timeout, expire)
        timer.daemon = True
        timer.start()
        try:
            channel.invoke_subsystem("sftp")
        except paramiko.SSHException:
            if expired.is_set():
                raise TimeoutError(
                    f"The SFTP server did not start a session within {self.timeout:g} seconds."
                ) from None
            raise
        finally:
            timer.cancel()
        try:
            return SFTPClient(channel)  # its version exchange reads with the channel timeout
        except BaseException:
            channel.close()
            raise

    def drop(self) -> None:
        """Close at once, without a word to the server: nothing here waits on the network."""
        self.dropped = True
        with contextlib.suppress(Exception):
            self.client.close()


def _keepalive_sender(transport: paramiko.Transport) -> Callable[[], None]:
    """What the transport's thread calls after ``keepalive_interval`` seconds without sending.

    paramiko's own ``set_keepalive()`` asks for no answer, so a dead link looks the same as a
    quiet one. This asks for one, as OpenSSH's ``ServerAliveInterval`` does: the server's
    answer ("request failed") is what ``WatchedSocket.last_received`` sees.
    """
    proxy = weakref.proxy(transport)  # the transport holds this callback: no cycle

    def send() -> None:
        message = Message()
        message.add_byte(cMSG_GLOBAL_REQUEST)
        message.add_string("keepalive@openssh.com")
        message.add_boolean(True)
        with contextlib.suppress(Exception):  # a dead link is noticed by its silence
            proxy._send_user_message(message)

    return send


class SSHConnections:
    """The SSH connections of one storage, shared by its SFTP channels.

    A new channel goes on the busiest connection that has room (fewest connections open), and
    a new connection is opened only when none has. Connecting is serialised: one handshake at a
    time per storage, so a burst of threads never meets sshd's ``MaxStartups`` (which drops
    unauthenticated connections beyond 10 at once); the others wait for it, within the timeout.
    A connection is closed when its last channel is.
    """

    def __init__(self, connect: Callable[[], SSHConnection], per_connection: int, name: str) -> None:
        self._connect = connect
        self.per_connection = per_connection
        self.name = name
        self._cond = threading.Condition(threading.Lock())
        self._reset()

    def _reset(self) -> None:
        # Also the state of a child after fork: the parent's connections are forgotten, unclosed.
        self._pid = os.getpid()
        self._open: list[SSHConnection] = []
        self._connecting = False

    def count(self) -> int:
        """SSH connections open and usable now."""
        with self._cond:
            return sum(1 for connection in self._open if connection.is_active())

    def open_channel(self, timeout: float) -> Connection:
        deadline = time.monotonic() + timeout
        ssh: SSHConnection | None = None
        with self._cond:
            if self._pid != os.getpid():
                self._reset()
            while True:
                # A dead connection takes no new channel; it closes when its channels do.
                self._open = [c for c in self._open if c.is_active()]
                room = [c for c in self._open if c.channels < self.per_connection]
                if room:
                    ssh = max(room, key=lambda c: c.channels)
                    ssh.channels += 1
                    break
                if not self._connecting:
                    self._connecting = True
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(
                        f"Waited {timeout:g} seconds (the timeout) for the SSH connection to "
                        f"{self.name} that another thread was opening."
                    )
                self._cond.wait(remaining)
        if ssh is None:
            try:
                ssh = self._connect()
            finally:
                with self._cond:
                    self._connecting = False
                    self._cond.notify_all()
            with self._cond:
                ssh.channels += 1
                self._open.append(ssh)
        try:
            sftp = ssh.open_sftp()
        except BaseException as exc:
            if isinstance(exc, NETWORK_ERRORS) or not isinstance(exc, Exception):
                ssh.drop()
            self.release(ssh)
            raise
        return Connection(ssh, sftp, self.release)

    def drop_silent(self, seconds: float) -> None:
        """Drop every connection that received nothing for ``seconds``.

        Called when a request timed out: a network that silently dropped one connection
        (a NAT forgetting its entries) usually dropped the others too, and a connection
        whose keepalives are answered (their interval is shorter) is never that quiet.
        """
        with self._cond:
            silent = [c for c in self._open if c.sock.silent_for() >= seconds]
        for connection in silent:
            connection.drop()

    def drop_all(self) -> None:
        """Drop every connection (the storage is gone: nothing can use its channels)."""
        with self._cond:
            connections, self._open = self._open, []
        for connection in connections:
            connection.drop()

    def release(self, ssh: SSHConnection) -> None:
        """A channel of ``ssh`` was closed; close ``ssh`` with its last channel."""
        with self._cond:
            ssh.channels -= 1
            last = ssh.channels <= 0
            if last and ssh in self._open:
                self._open.remove(ssh)
            self._cond.notify_all()
        if last:
            ssh.drop()


class Connection:
    """One SFTP channel over an :class:`SSHConnection`; used by one thread at a time.

    The storage keeps these in core's :class:`storages.pool.ConnectionPool`.
    """

    def __init__(
        self, ssh: SSHConnection, sftp: SFTPClient, release: Callable[[SSHConnection], None]
    ) -> None:
        self.ssh = ssh
        self.sftp = sftp
        self._release = release
        #: Not to be used again (a failed request left the session in an unknown state).
        self.broken = False
        #: The last failure was a timeout: the server may be stalled, do not wait on it again.
        self.timed_out = False
        #: Given back to the pool at least once (a fresh one proves the server answers).
        self.reused = False
        self.pool: Any = None
        self.owner: int | None = None
        self._closed = False

    def is_active(self) -> bool:
        channel = self.sftp.get_channel()
        return bool(not self.broken and self.ssh.is_active() and channel is not None and not channel.closed)

    def fail(self, exc: BaseException) -> bool:
        """Note that a request failed with ``exc``; ``True`` when the network is to blame.

        A network failure drops the whole SSH connection at once (its other channels share the
        same dead link), so that nothing ever waits on it again.
        """
        network = isinstance(exc, NETWORK_ERRORS) or not self.ssh.is_active()
        if network:
            self.broken = True
            self.timed_out = isinstance(exc, TimeoutError | socket.timeout) or self.ssh.sock.stuck
            self.ssh.drop()
        elif not isinstance(exc, Exception):
            self.broken = True  # KeyboardInterrupt mid-request: the session state is unknown
        return network

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self.ssh.is_active():
            # A polite close is one small message on a connection that works.
            with contextlib.suppress(Exception):
                self.sftp.close()
        self._release(self.ssh)


def _drop_response(kind: int, message: Any, number: int) -> None:
    """Stands in for ``SFTPFile._async_response`` on a closed reader: the data is not needed."""


class PrefetchReader(io.RawIOBase):
    """Stream a remote file from ``offset`` with a bounded, growing number of requests in flight.

    paramiko reads one 32 KiB request per round trip unless the file prefetches. Its own
    ``SFTPFile.prefetch()`` queues requests for the whole file and cannot be stopped, so a
    file closed early would keep the connection busy with the rest. This reader hands
    paramiko's prefetch thread a lazy list of requests that stops when the reader closes.

    Small reads stay small: the first request asks for :attr:`INITIAL_AHEAD` bytes and nothing
    more is asked until the reader comes back for more; from then on the look-ahead is twice
    what the reader consumed, up to ``window`` bytes. Each raw read returns at most up to the
    end of the current request, so a short read never waits for bytes it did not ask for.
    """

    #: Bytes asked for before the reader shows that it wants more than one small read
    #: (an image header, a type sniffer): all that a ``read(1024)`` then ``close()`` receives.
    INITIAL_AHEAD = 64 * 1024

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
        self._window = max(window, request_size)
        self._pos = self._start = self._base = offset
        self._reads = 0
        self._progress = threading.Condition()
        self._generation = 0
        handle.MAX_REQUEST_SIZE = request_size
        self._start_prefetch()

    def _first_request(self) -> int:
        return min(self.INITIAL_AHEAD, self._request_size)

    def _start_prefetch(self) -> None:
        self._handle.seek(self._pos)
        self._base = self._pos
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
        offset, length = start, self._first_request()
        while offset < self._size:
            with self._progress:
                while self._generation == generation and offset >= self._limit():
                    self._progress.wait(timeout=1.0)
                if self._generation != generation:
                    return
            yield offset, min(length, self._size - offset)
            offset += length
            length = self._request_size

    def _limit(self) -> int:
        # Under self._progress: the offset up to which requests may be in flight.
        if self._reads < 2:
            return self._start + self.INITIAL_AHEAD
        return self._pos + self._ahead()

    def _ahead(self) -> int:
        # Twice what the reader consumed, up to the window: a reader that stops after a few
        # bytes leaves little in flight to drain, one that keeps reading soon fills the link.
        return min(self._window, max(self.INITIAL_AHEAD, 2 * (self._pos - self._start)))

    def _request_end(self) -> int:
        first_end = self._base + self._first_request()
        if self._pos < first_end:
            return first_end
        return first_end + ((self._pos - first_end) // self._request_size + 1) * self._request_size

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        if self._pos >= self._size:
            return b""
        if size is None or size < 0:
            return self.readall()
        size = min(size, self._request_end() - self._pos)
        with self._progress:
            self._reads += 1
            self._progress.notify_all()
        try:
            data = self._handle.read(size)
        except BaseException as exc:
            if self._connection is not None:
                self._connection.fail(exc)
            raise
        with self._progress:
            self._pos += len(data)
            self._progress.notify_all()
        if self._pos < self._size and not getattr(self._handle, "_prefetching", True):
            # paramiko fell back to one request per round trip (it ran out of queued requests
            # between two of ours): queue from here again.
            self._start_prefetch()
        return bytes(data)

    def readall(self) -> bytes:
        chunks = []
        while data := self.read(self._request_size):
            chunks.append(data)
        return b"".join(chunks)

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
        if connection is not None and connection.is_active():
            if self._pos < self._size:
                # Closed early: paramiko keeps answers to prefetch requests; the answers still
                # in flight are read and dropped by the close below instead (private hook).
                setattr(self._handle, "_async_response", _drop_response)  # noqa: B010
            try:
                self._handle.close()
            except Exception as exc:  # noqa: BLE001 - the connection is dropped, the read is over
                connection.fail(exc)
        if connection is not None:
            self._storage._give_back(connection)
        super().close()
