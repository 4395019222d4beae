"""``SFTPStorage``: Django storage on an SSH server, through paramiko."""

from __future__ import annotations

import contextlib
import datetime
import errno
import getpass
import logging
import os
import posixpath
import socket
import stat
import threading
import weakref
from collections.abc import Callable
from typing import IO, Any, ClassVar, TypeVar, cast
from urllib.parse import urljoin

import paramiko
from django.conf import settings

from storages.backends.sftpstorage._connection import (
    HOST_KEY_POLICIES,
    NETWORK_ERRORS,
    Connection,
    PrefetchReader,
    SSHConnection,
    SSHConnections,
    WatchedSocket,
    _Policy,
    lookup_name,
    parse_pinned_key,
)
from storages.base import BaseStorage
from storages.exceptions import StorageConfigurationError
from storages.files import StreamingFile
from storages.options import Option, OptionSet
from storages.pool import ConnectionPool
from storages.utils import is_temporary_name, normalize_name, setting_time, temporary_name, url_quote

logger = logging.getLogger("storages.sftp")

T = TypeVar("T")


def _media_url() -> Any:
    return getattr(settings, "MEDIA_URL", None)


class SFTPStorageFile(StreamingFile):
    """A file on the SFTP server: reads stream with prefetch, writes go through a temporary name.

    A write creates ``.<name>.<random>.part`` in the target folder, streams parts into it, and
    on close applies ``file_mode``/``uid``/``gid`` and renames it over ``name`` (POSIX rename
    where the server supports it). Leaving a ``with`` block by an exception, or a failure while
    writing, removes the temporary file: ``name`` is never half-written.
    """

    storage: SFTPStorage
    part_size = 1024 * 1024

    def __init__(self, name: str, mode: str, storage: BaseStorage, key: str | None = None) -> None:
        self._upload: tuple[Connection, paramiko.SFTPFile, str] | None = None
        super().__init__(name, mode, storage, key)

    # -- reading --------------------------------------------------------------------------

    def _open_stream(self, offset: int) -> IO[bytes]:
        storage = self.storage

        def open_handle(connection: Connection) -> tuple[paramiko.SFTPFile, int]:
            handle = connection.sftp.open(self.key, "rb")
            try:
                size = handle.stat().st_size or 0
            except BaseException:
                handle.close()
                raise
            return handle, int(size)

        connection, (handle, size) = storage._run(open_handle, keep=True)
        self._size = size
        return PrefetchReader(  # type: ignore[return-value]
            storage,
            connection,
            handle,
            offset,
            size,
            request_size=storage.read_request_size,
            window=storage.read_ahead,
        )

    # -- writing --------------------------------------------------------------------------

    def _begin_upload(self) -> tuple[Connection, paramiko.SFTPFile, str]:
        if self._upload is not None:
            return self._upload
        storage = self.storage
        folder = posixpath.dirname(self.key)

        def start(connection: Connection) -> tuple[paramiko.SFTPFile, str]:
            temp = temporary_name(self.key)
            if folder:
                storage._makedirs(connection.sftp, folder)
            try:
                handle = connection.sftp.create(temp, storage.file_mode)
            except BaseException:
                storage._leftovers.add(temp)  # the server may have created it before failing
                raise
            handle.set_pipelined(True)
            handle.MAX_REQUEST_SIZE = storage.write_request_size
            return handle, temp

        connection, (handle, temp) = storage._run(start, keep=True, idempotent=False)
        self._upload = (connection, handle, temp)
        return self._upload

    def _write_part(self, data: bytes) -> None:
        connection, handle, _temp = self._begin_upload()
        try:
            handle.write(data)
        except BaseException as exc:
            connection.fail(exc)
            raise

    def _commit(self, tail: bytes) -> None:
        connection, handle, temp = self._begin_upload()
        storage = self.storage
        try:
            if tail:
                handle.write(tail)
            # Closing waits for every pipelined write and raises the first error the server sent.
            handle.close()
            sftp = connection.sftp
            if storage.file_mode is not None:
                sftp.chmod(temp, storage.file_mode)
            storage._chown(sftp, temp)
            storage._rename_into_place(sftp, temp, self.key)
        except BaseException as exc:
            connection.fail(exc)
            raise
        self._upload = None
        storage._give_back(connection)

    def __del__(self) -> None:
        # An unclosed write still holds a channel of the bounded pool: free it, on a helper
        # thread (no I/O in a finalizer, see core's _RangeReader.close). Nothing is published.
        upload = getattr(self, "_upload", None)
        if upload is not None:
            self._upload = None
            connection = upload[0]
            connection.broken = True
            storage = self.storage
            storage._leftovers.add(upload[2])
            with contextlib.suppress(Exception):  # RuntimeError at interpreter shutdown
                threading.Thread(
                    target=storage._give_back,
                    args=(connection,),
                    name="storages-sftp-unclosed-file",
                    daemon=True,
                ).start()
        super().__del__()

    def _abort(self) -> None:
        upload, self._upload = self._upload, None
        if upload is None:
            return
        connection, handle, temp = upload
        storage = self.storage
        if connection.is_active():
            # Aborted by the caller (an exception in a with block): the connection works.
            try:
                handle.close()
                with contextlib.suppress(FileNotFoundError):
                    connection.sftp.remove(temp)
            except Exception as exc:  # noqa: BLE001 - cleaned up later instead
                connection.fail(exc)
                storage._leftovers.add(temp)
            storage._give_back(connection)
            return
        # The connection failed: never wait on it again (its close sends nothing).
        storage._give_back(connection)
        storage._leftovers.add(temp)
        if not connection.timed_out:
            # Dropped rather than stalled (a reset, a restarted server): one try through a new
            # connection, within its own timeout; when the server is away, the next operation
            # that reaches it removes the file.
            try:
                storage._run(lambda c: None)
            except Exception:  # noqa: BLE001 - left for later
                logger.info("Could not remove the temporary file %s yet; retrying later.", temp)


class SFTPStorage(BaseStorage):
    """Files on a server reached over SSH (SFTP), with paramiko.

    Every name is confined below ``root_path``. Connections come from a small per-storage pool
    (one connection is only ever used by one thread at a time), are opened lazily, re-opened
    transparently when the server dropped them, and closed by :meth:`close` or by leaving a
    ``with`` block.
    """

    distribution = "django-storages-sftp"
    location_option = "root_path"
    file_class = SFTPStorageFile
    transient_attributes = (
        "_pool",
        "_extra_pool",
        "_connections",
        "_holders",
        "_user_channel",
        "_leftovers",
        "_lock",
        "_learned_host_keys",
        "_prompted_password",
        "_finalizer",
    )

    # Resolved option values (annotations only: a class attribute would count as a user's
    # subclass value in core's precedence).
    host: str  # required: check_required() runs before the first connection
    params: Any  # a dict once validate_options() ran
    interactive: bool
    file_mode: int | None
    dir_mode: int | None
    uid: int | None
    gid: int | None
    known_host_file: str | None
    root_path: str
    base_url: str | None
    host_key_policy: str
    host_keys: Any  # a list of str once validate_options() ran
    timeout: float
    max_connections: int
    keepalive_interval: float
    max_idle_time: float | None

    options = OptionSet(
        Option(
            "host",
            setting="SFTP_STORAGE_HOST",
            required=True,
            doc="Host name or address of the SSH server.",
        ),
        Option(
            "params",
            setting="SFTP_STORAGE_PARAMS",
            default_factory=dict,
            default_doc="{}",
            secret=True,
            doc="Keyword arguments for paramiko's ``SSHClient.connect()`` (``port``, "
            "``username``, ``password``, ``pkey``, ``key_filename``, ``passphrase``, timeouts...).",
        ),
        Option(
            "interactive",
            setting="SFTP_STORAGE_INTERACTIVE",
            default=False,
            doc="Prompt for a password on the terminal when key authentication fails and "
            "``params`` holds no password (for ``collectstatic``; never for web processes).",
        ),
        Option(
            "file_mode",
            setting="SFTP_STORAGE_FILE_MODE",
            doc="Permission bits applied to new files before they appear, e.g. ``0o644``.",
        ),
        Option(
            "dir_mode",
            setting="SFTP_STORAGE_DIR_MODE",
            doc="Permission bits applied to the folders the storage creates, e.g. ``0o755``.",
        ),
        Option("uid", setting="SFTP_STORAGE_UID", doc="Owner uid of new files and folders (0 too)."),
        Option("gid", setting="SFTP_STORAGE_GID", doc="Group gid of new files and folders (0 too)."),
        Option(
            "known_host_file",
            setting="SFTP_KNOWN_HOST_FILE",
            default_doc="~/.ssh/known_hosts",
            doc="known_hosts file holding the server's host key.",
        ),
        Option(
            "root_path",
            setting="SFTP_STORAGE_ROOT",
            default="",
            doc="Folder on the server that every name is confined to (relative to the login "
            "folder unless absolute).",
        ),
        Option(
            "base_url",
            setting="SFTP_BASE_URL",
            default_factory=_media_url,
            default_doc="settings.MEDIA_URL",
            falsy_is_default=True,
            doc="URL prefix for ``url()``.",
        ),
        Option(
            "host_key_policy",
            setting="SFTP_STORAGE_HOST_KEY_POLICY",
            default="reject",
            choices=HOST_KEY_POLICIES,
            doc="What to do with a host key that is neither in the known-hosts file nor pinned: "
            "refuse to connect, accept with a warning, or accept silently.",
        ),
        Option(
            "host_keys",
            setting="SFTP_STORAGE_HOST_KEYS",
            default_factory=list,
            default_doc="[]",
            doc='Pinned host keys, as ``"ssh-ed25519 AAAA..."`` strings or known_hosts lines; '
            "when given, the known-hosts file is not read.",
        ),
        Option(
            "timeout",
            setting="SFTP_STORAGE_TIMEOUT",
            default=30.0,
            doc="Seconds any single network wait may last: connect, banner, authentication, "
            "channel open, each SFTP request and each send. A ``timeout`` in ``params`` takes "
            "precedence for all of them.",
        ),
        Option(
            "max_connections",
            setting="SFTP_STORAGE_MAX_CONNECTIONS",
            default=2,
            doc="SSH connections a storage opens to the server, each carrying up to "
            "``channels_per_connection`` (8) SFTP channels: as many operations and open files "
            "at once. More wait up to ``timeout`` for a free channel, except in a thread that "
            "already holds one (it gets an extra channel rather than wait on itself).",
        ),
        Option(
            "keepalive_interval",
            setting="SFTP_STORAGE_KEEPALIVE_INTERVAL",
            default=15.0,
            doc="Seconds of quiet after which an SSH keepalive is sent (0: none). A connection "
            "silent for longer than this plus ``timeout`` is known dead before it is used.",
        ),
        Option(
            "max_idle_time",
            setting="SFTP_STORAGE_MAX_IDLE_TIME",
            default=120.0,
            doc="Seconds an idle channel is kept for reuse (``None``: no limit); an SSH "
            "connection is closed with its last channel.",
        ),
    )

    #: Bytes asked for per SFTP read request. OpenSSH answers up to 255 KiB; lower it to 32768
    #: for servers that cap reads at the SFTP minimum.
    read_request_size: ClassVar[int] = 128 * 1024
    #: Bytes per SFTP write request.
    write_request_size: ClassVar[int] = 128 * 1024
    #: Most bytes requested ahead of the reader: the look-ahead starts at 64 KiB and grows to
    #: twice what the reader consumed, up to this. Received data is bounded by the SSH channel
    #: window, not by this.
    read_ahead: ClassVar[int] = 16 * 1024 * 1024
    #: Idle SFTP channels kept per storage.
    max_idle_connections: ClassVar[int] = 8
    #: SFTP channels per SSH connection: OpenSSH allows ``MaxSessions`` (10 by default).
    channels_per_connection: ClassVar[int] = 8

    # -- configuration ----------------------------------------------------------------------

    def validate_options(self) -> None:
        if not isinstance(self.max_connections, int) or self.max_connections < 1:
            raise StorageConfigurationError(
                f"SFTPStorage option 'max_connections' must be a whole number of at least 1, "
                f"not {self.max_connections!r} (SFTP_STORAGE_MAX_CONNECTIONS)."
            )
        if self.params is None:
            self.params = {}
        if not isinstance(self.params, dict):
            raise StorageConfigurationError(
                "SFTPStorage option 'params' must be a dict of SSHClient.connect() arguments."
            )
        if "hostname" in self.params:
            raise StorageConfigurationError(
                "SFTPStorage option 'params' must not hold 'hostname': set the 'host' option "
                "(SFTP_STORAGE_HOST) instead."
            )
        if isinstance(self.host_keys, str):
            self.host_keys = [self.host_keys]
        self.host_keys = list(self.host_keys or [])
        for entry in self.host_keys:
            try:
                parse_pinned_key(entry)
            except ValueError as exc:
                raise StorageConfigurationError(f"SFTPStorage option 'host_keys': {exc}") from None

    def _init_transient(self) -> None:
        self._lock = threading.Lock()
        # The pools must not hold the storage itself: the finalizer below keeps them alive,
        # so a strong reference back would keep the storage alive for ever.
        storage = weakref.ref(self)

        def connect() -> SSHConnection:
            alive = storage()
            if alive is None:  # pragma: no cover - a pool outliving its storage is not used
                raise ReferenceError("The SFTP storage of this connection pool was garbage collected.")
            return alive._connect()

        timeout = self._timeout
        connections = SSHConnections(connect, self.channels_per_connection, name=str(self.host))
        self._connections = connections

        def open_channel() -> Connection:
            return connections.open_channel(timeout)

        def pool(max_size: int | None, max_idle: int) -> ConnectionPool[Connection]:
            return ConnectionPool(
                open_channel,
                Connection.is_active,
                Connection.close,
                max_size=max_size,
                max_idle=max_idle,
                max_idle_time=self.max_idle_time,
                wait_timeout=timeout,
                option_hint="the 'max_connections' option (SFTP_STORAGE_MAX_CONNECTIONS)",
                name=f"the SFTP channels to {self.host}",
            )

        # Channels are bounded: a thread waits (up to the timeout) for a free one. A thread
        # that already holds a channel (an open file) never waits: it would wait on itself, or
        # two such threads on each other. It gets an extra channel, closed when given back.
        self._pool = pool(self.max_connections * self.channels_per_connection, self.max_idle_connections)
        self._extra_pool = pool(None, 0)
        self._holders: dict[int, int] = {}
        self._user_channel: Connection | None = None
        #: Temporary files of failed writes, removed by the next operation that reaches the server.
        self._leftovers: set[str] = set()
        self._learned_host_keys: dict[str, paramiko.PKey] = {}
        self._prompted_password: str | None = None
        # Close idle connections when the storage is garbage collected without close().
        # With the storage gone no file is open (a file holds its storage), so the connections
        # still carrying a channel (``storage.sftp``'s) are dropped too.
        self._finalizer = weakref.finalize(self, _close_all, self._pool, self._extra_pool, connections)

    @property
    def _timeout(self) -> float:
        """The bound of every network wait: ``params["timeout"]``, else the ``timeout`` option."""
        params = self.params if isinstance(self.params, dict) else {}
        value = params.get("timeout")
        return float(value if value is not None else self.timeout)

    @property
    def port(self) -> int:
        return int(self.params.get("port") or 22)

    @property
    def known_hosts_path(self) -> str:
        return os.path.expanduser(self.known_host_file or "~/.ssh/known_hosts")

    def _expected_host_keys(self) -> dict[str, paramiko.PKey]:
        """Host keys the server may present: pinned ones, or the known-hosts file's entries."""
        keys: dict[str, paramiko.PKey] = {}
        if self.host_keys:
            for entry in self.host_keys:
                key = parse_pinned_key(entry)
                keys[key.get_name()] = key
        else:
            path = self.known_hosts_path
            if os.path.exists(path):
                entries = paramiko.HostKeys(path).lookup(lookup_name(self.host, self.port))
                if entries is not None:
                    keys.update({name: entries[name] for name in entries})
        with self._lock:
            for name, key in self._learned_host_keys.items():
                keys.setdefault(name, key)
        return keys

    def _learn_host_key(self, key: paramiko.PKey) -> None:
        # The next connections of this storage expect the same key.
        with self._lock:
            self._learned_host_keys.setdefault(key.get_name(), key)

    # -- connections --------------------------------------------------------------------------

    def _connect(self) -> SSHConnection:
        self.check_required()
        timeout = self._timeout
        params = dict(self.params)
        params.pop("timeout", None)
        for name in ("banner_timeout", "auth_timeout", "channel_timeout"):
            params.setdefault(name, timeout)
        if self._prompted_password is not None:
            params.setdefault("password", self._prompted_password)
        try:
            return self._open_ssh(params, timeout)
        except paramiko.AuthenticationException:
            if not self.interactive or "password" in params:
                raise
        params["password"] = self._prompt_password(params)
        return self._open_ssh(params, timeout)

    def _open_ssh(self, params: dict[str, Any], timeout: float) -> SSHConnection:
        params = dict(params)
        user_factory = params.pop("transport_factory", None) or paramiko.Transport

        def transport_factory(sock: Any, **kwargs: Any) -> paramiko.Transport:
            transport = user_factory(sock, **kwargs)
            # Key exchange and waits for it are bounded by the same timeout (15 s and 30 s).
            transport.handshake_timeout = timeout
            transport.clear_to_send_timeout = timeout
            return transport

        given = params.pop("sock", None)
        raw = (
            given if given is not None else socket.create_connection((self.host, self.port), timeout=timeout)
        )
        sock = WatchedSocket(raw, timeout)
        client = paramiko.SSHClient()
        known = client.get_host_keys()
        for keytype, key in self._expected_host_keys().items():
            known.add(lookup_name(self.host, self.port), keytype, key)
        client.set_missing_host_key_policy(_Policy(self))
        logger.debug("Connecting to %s port %s.", self.host, self.port)
        try:
            client.connect(
                self.host,
                sock=cast(Any, sock),
                timeout=timeout,
                transport_factory=transport_factory,
                **params,
            )
            # The policy holds the storage: drop it, or the pool (kept by the finalizer) would
            # keep the storage alive through its connections.
            client.set_missing_host_key_policy(paramiko.RejectPolicy())
            return SSHConnection(client, sock, timeout, float(self.keepalive_interval or 0))
        except BaseException:
            client.close()
            with contextlib.suppress(Exception):
                raw.close()
            raise

    def _prompt_password(self, params: dict[str, Any]) -> str:
        with self._lock:
            if self._prompted_password is None:
                username = params.setdefault("username", getpass.getuser())
                prompt = f"SFTP password for {username}@{self.host}: "
                self._prompted_password = getpass.getpass(prompt)
            return self._prompted_password

    def _take(self) -> Connection:
        me = threading.get_ident()
        with self._lock:
            holding = self._holders.get(me, 0)
        pool = self._extra_pool if holding else self._pool
        connection = pool.take()
        connection.pool, connection.owner = pool, me
        with self._lock:
            self._holders[me] = self._holders.get(me, 0) + 1
        return connection

    def _give_back(self, connection: Connection) -> None:
        owner = connection.owner
        with self._lock:
            left = self._holders.get(owner, 0) - 1  # type: ignore[arg-type]
            if left > 0:
                self._holders[owner] = left  # type: ignore[index]
            else:
                self._holders.pop(owner, None)  # type: ignore[arg-type]
        pool: ConnectionPool[Connection] = connection.pool or self._pool
        # Checked here rather than by the pool: for SFTP it is cheap (no round trip), and a
        # session that dropped mid-transfer is closed now instead of waiting idle.
        if connection.is_active():
            connection.reused = True
            pool.give_back(connection)
        else:
            pool.discard(connection)

    def _run(self, operation: Callable[[Connection], T], keep: bool = False, idempotent: bool = True) -> Any:
        """Run ``operation`` on a pooled channel; retry once on a fresh one if it was dead.

        A reused channel whose connection turns out dead (dropped, or silently gone: the
        request timed out) is dropped, and the operation runs once more on a new connection;
        an operation that is not ``idempotent`` is retried only when it surely never ran (the
        connection was found closed). With ``keep`` the connection is not given back and
        ``(connection, result)`` is returned: the caller gives it back when done.
        """
        for attempt in (1, 2):
            connection = self._take()
            try:
                if self._leftovers:
                    self._remove_leftovers(connection.sftp)
                result = operation(connection)
            except BaseException as exc:
                network = connection.fail(exc)
                self._give_back(connection)
                if connection.timed_out and 0 < self.keepalive_interval < self._timeout:
                    self._connections.drop_silent(self._timeout)
                retry = network and attempt == 1 and connection.reused
                if retry and (idempotent or not connection.timed_out):
                    logger.info("The connection to %s was dead (%s); retrying on a new one.", self.host, exc)
                    continue
                raise
            if keep:
                return connection, result
            self._give_back(connection)
            return result
        raise AssertionError("unreachable")  # pragma: no cover

    def _remove_leftovers(self, sftp: paramiko.SFTPClient) -> None:
        with self._lock:
            leftovers = list(self._leftovers)
        for temp in leftovers:
            try:
                sftp.remove(temp)
            except FileNotFoundError:
                pass
            except OSError as exc:
                if isinstance(exc, NETWORK_ERRORS):
                    raise
                logger.warning("Could not remove the temporary file %s: %s", temp, exc)
            with self._lock:
                self._leftovers.discard(temp)

    @property
    def sftp(self) -> paramiko.SFTPClient:
        """A live paramiko ``SFTPClient``, for what the storage API lacks (chmod, symlinks).

        As in the original, the same client is returned until it drops or :meth:`close` runs;
        like any paramiko client it is for one thread at a time. It is a channel of its own
        on one of the storage's SSH connections, outside the pool: the storage never uses it,
        and it does not count against ``max_connections``' channels. Paths are the server's
        (``storage._path(name)`` gives a name's).
        """
        with self._lock:
            current = self._user_channel
        if current is not None and current.is_active():
            return current.sftp
        fresh = self._connections.open_channel(self._timeout)
        with self._lock:
            stale, self._user_channel = self._user_channel, fresh
        if stale is not None:
            stale.close()
        return fresh.sftp

    def _ssh_connection_count(self) -> int:
        return self._connections.count()

    def close(self) -> None:
        """Close every connection of this storage; later calls reconnect."""
        with self._lock:
            user, self._user_channel = self._user_channel, None
        if user is not None:
            user.close()
        _close_pools(self._pool, self._extra_pool)

    def __enter__(self) -> SFTPStorage:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- helpers ------------------------------------------------------------------------------

    def _path(self, name: Any) -> str:
        """The remote path of ``name`` (confined below ``root_path``)."""
        return self._normalize_name(name) or "."

    def _chown(self, sftp: paramiko.SFTPClient, path: str) -> None:
        if self.uid is None and self.gid is None:
            return
        uid, gid = self.uid, self.gid
        if uid is None or gid is None:
            attributes = sftp.stat(path)
            uid = attributes.st_uid if uid is None else uid
            gid = attributes.st_gid if gid is None else gid
        if uid is None or gid is None:
            raise OSError(f"The server did not report the owner of {path}; cannot chown it.")
        sftp.chown(path, int(uid), int(gid))

    def _makedirs(self, sftp: paramiko.SFTPClient, folder: str) -> None:
        try:
            if stat.S_ISDIR(sftp.stat(folder).st_mode or 0):
                return
            raise NotADirectoryError(errno.ENOTDIR, f"{folder} is not a folder on the server")
        except FileNotFoundError:
            pass
        parent = posixpath.dirname(folder.rstrip("/"))
        if parent and parent not in ("/", "."):
            self._makedirs(sftp, parent)
        try:
            sftp.mkdir(folder)
        except OSError:
            # Another writer may have created it meanwhile.
            if not stat.S_ISDIR(sftp.stat(folder).st_mode or 0):
                raise
            return
        if self.dir_mode is not None:
            sftp.chmod(folder, self.dir_mode)
        self._chown(sftp, folder)

    def _posix_rename_supported(self, sftp: paramiko.SFTPClient) -> bool:
        extensions = getattr(sftp, "extensions", None)
        return extensions is None or "posix-rename@openssh.com" in extensions

    def _rename_into_place(self, sftp: paramiko.SFTPClient, temp: str, path: str) -> None:
        if self._posix_rename_supported(sftp):
            # Any failure is the server's answer about this rename: the existing file stays.
            sftp.posix_rename(temp, path)
            return
        # Plain SFTP rename refuses to replace: remove first (not atomic, only on such servers).
        logger.debug("The server lacks posix-rename@openssh.com: remove, then rename.")
        try:
            sftp.rename(temp, path)
            return
        except OSError as exc:
            if isinstance(exc, NETWORK_ERRORS):
                raise
            try:
                sftp.lstat(path)
            except FileNotFoundError:
                raise exc from None  # refused for another reason than an existing file
        sftp.remove(path)
        sftp.rename(temp, path)

    # -- the Storage API ------------------------------------------------------------------------

    def delete(self, name: str) -> None:
        path = self._path(name)
        with contextlib.suppress(FileNotFoundError):
            self._run(lambda c: c.sftp.remove(path))

    def exists(self, name: str) -> bool:
        path = self._path(name)
        try:
            self._run(lambda c: c.sftp.stat(path))
        except FileNotFoundError:
            return False
        return True

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        remote = self._path(path)
        entries = self._run(lambda c: c.sftp.listdir_attr(remote))
        dirs: list[str] = []
        files: list[str] = []
        for entry in entries:
            if entry.st_mode is not None and stat.S_ISDIR(entry.st_mode):
                dirs.append(entry.filename)
            elif not is_temporary_name(entry.filename):
                files.append(entry.filename)
        return dirs, files

    def _stat(self, name: str) -> paramiko.SFTPAttributes:
        path = self._path(name)
        attributes: paramiko.SFTPAttributes = self._run(lambda c: c.sftp.stat(path))
        return attributes

    def size(self, name: str) -> int:
        return int(self._stat(name).st_size or 0)

    def get_modified_time(self, name: str) -> datetime.datetime:
        return setting_time(self._stat(name).st_mtime or 0)

    def get_accessed_time(self, name: str) -> datetime.datetime:
        return setting_time(self._stat(name).st_atime or 0)

    def url(self, name: str | None) -> str:
        if self.base_url is None:
            raise ValueError("This file is not accessible via a URL.")
        return urljoin(self.base_url, url_quote(normalize_name(name or "")))


def _close_pools(*pools: ConnectionPool[Connection]) -> None:
    for pool in pools:
        pool.close()


def _close_all(
    pool: ConnectionPool[Connection], extra: ConnectionPool[Connection], connections: SSHConnections
) -> None:
    _close_pools(pool, extra)
    connections.drop_all()


__all__ = ["SFTPStorage", "SFTPStorageFile"]
