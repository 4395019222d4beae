"""``SFTPStorage``: Django storage on an SSH server, through paramiko."""

from __future__ import annotations

import contextlib
import datetime
import errno
import getpass
import logging
import os
import posixpath
import re
import secrets
import socket
import stat
import threading
import weakref
from collections.abc import Callable
from typing import IO, Any, ClassVar, TypeVar
from urllib.parse import urljoin

import paramiko
from django.conf import settings

from storages.backends.sftpstorage._connection import (
    HOST_KEY_POLICIES,
    Connection,
    PrefetchReader,
    _Policy,
    lookup_name,
    parse_pinned_key,
)
from storages.base import BaseStorage
from storages.exceptions import StorageConfigurationError
from storages.files import StreamingFile
from storages.options import Option, OptionSet
from storages.pool import ConnectionPool
from storages.utils import normalize_name, setting_time, url_quote

logger = logging.getLogger("storages.sftp")

T = TypeVar("T")

#: Names of in-progress uploads: ``.<name>.<16 hex>.part`` beside the final name.
_TEMP_NAME = re.compile(r"^\..+\.[0-9a-f]{16}\.part$")

#: Errors after which a connection is known or suspected to be dead.
_CONNECTION_ERRORS = (EOFError, OSError, paramiko.SSHException)


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
        folder, base = posixpath.split(self.key)
        temp = posixpath.join(folder, f".{base}.{secrets.token_hex(8)}.part")

        def start(connection: Connection) -> paramiko.SFTPFile:
            if folder:
                storage._makedirs(connection.sftp, folder)
            handle = connection.sftp.open(temp, "wb")
            handle.set_pipelined(True)
            handle.MAX_REQUEST_SIZE = storage.write_request_size
            return handle

        connection, handle = storage._run(start, keep=True)
        self._upload = (connection, handle, temp)
        return self._upload

    def _write_part(self, data: bytes) -> None:
        _connection, handle, _temp = self._begin_upload()
        handle.write(data)

    def _commit(self, tail: bytes) -> None:
        connection, handle, temp = self._begin_upload()
        storage = self.storage
        if tail:
            handle.write(tail)
        # Closing waits for every pipelined write and raises the first error the server sent.
        handle.close()
        sftp = connection.sftp
        if storage.file_mode is not None:
            sftp.chmod(temp, storage.file_mode)
        storage._chown(sftp, temp)
        storage._rename_into_place(sftp, temp, self.key)
        self._upload = None
        storage._give_back(connection)

    def _abort(self) -> None:
        upload, self._upload = self._upload, None
        if upload is None:
            return
        connection, handle, temp = upload
        with contextlib.suppress(Exception):  # the connection may be gone: cleaned up below
            handle.close()
        try:
            connection.sftp.remove(temp)
        except FileNotFoundError:
            pass
        except Exception:
            if connection.is_active():
                logger.warning("Could not remove the temporary file %s.", temp, exc_info=True)
            else:
                # The connection dropped mid-transfer: clean up through a fresh one.
                try:
                    self.storage._run(lambda c: c.sftp.remove(temp))
                except FileNotFoundError:
                    pass
                except Exception:
                    logger.warning("Could not remove the temporary file %s.", temp, exc_info=True)
        self.storage._give_back(connection)


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
    transient_attributes = ("_pool", "_lock", "_learned_host_keys", "_prompted_password", "_finalizer")

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
            "channel open and each SFTP request. Timeouts in ``params`` take precedence.",
        ),
    )

    #: Bytes asked for per SFTP read request. OpenSSH answers up to 255 KiB; lower it to 32768
    #: for servers that cap reads at the SFTP minimum.
    read_request_size: ClassVar[int] = 128 * 1024
    #: Bytes per SFTP write request.
    write_request_size: ClassVar[int] = 128 * 1024
    #: Most bytes requested ahead of the reader (the look-ahead starts at 1 MiB and doubles as
    #: the reader progresses). Received data is bounded by the SSH channel window, not by this.
    read_ahead: ClassVar[int] = 64 * 1024 * 1024
    #: Idle connections kept per storage.
    max_idle_connections: ClassVar[int] = 8

    # -- configuration ----------------------------------------------------------------------

    def validate_options(self) -> None:
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
        # The pool must not hold the storage itself: the finalizer below keeps the pool alive,
        # so a strong reference back would keep the storage alive for ever.
        storage = weakref.ref(self)

        def connect() -> Connection:
            alive = storage()
            if alive is None:  # pragma: no cover - a pool outliving its storage is not used
                raise ReferenceError("The SFTP storage of this connection pool was garbage collected.")
            return alive._connect()

        # Unbounded and without an idle age, as before the pool moved to core (a bound and its
        # option come later); a dropped idle connection is found by the liveness check on take.
        self._pool: ConnectionPool[Connection] = ConnectionPool(
            connect,
            Connection.is_active,
            Connection.close,
            max_size=None,
            max_idle=self.max_idle_connections,
            name="the SFTP storage's connections",
        )
        self._learned_host_keys: dict[str, paramiko.PKey] = {}
        self._prompted_password: str | None = None
        # Close idle connections when the storage is garbage collected without close().
        self._finalizer = weakref.finalize(self, self._pool.close)

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

    def _connect(self) -> Connection:
        self.check_required()
        params = dict(self.params)
        for name in ("timeout", "banner_timeout", "auth_timeout", "channel_timeout"):
            params.setdefault(name, self.timeout)
        if self._prompted_password is not None:
            params.setdefault("password", self._prompted_password)
        client = paramiko.SSHClient()
        known = client.get_host_keys()
        for keytype, key in self._expected_host_keys().items():
            known.add(lookup_name(self.host, self.port), keytype, key)
        client.set_missing_host_key_policy(_Policy(self))
        logger.debug("Connecting to %s port %s.", self.host, self.port)
        try:
            try:
                client.connect(self.host, **params)
            except paramiko.AuthenticationException:
                if not self.interactive or "password" in params:
                    raise
                params["password"] = self._prompt_password(params)
                client.connect(self.host, **params)
            transport = client.get_transport()
            if transport is None:  # pragma: no cover - connect() sets it or raises
                raise paramiko.SSHException("No transport after connecting.")
            sftp = paramiko.SFTPClient.from_transport(transport)
            if sftp is None:  # pragma: no cover
                raise paramiko.SSHException("The server refused the SFTP subsystem.")
            channel = sftp.get_channel()
            if channel is not None:
                channel.settimeout(self.timeout)
        except BaseException:
            client.close()
            raise
        return Connection(client, sftp)

    def _prompt_password(self, params: dict[str, Any]) -> str:
        with self._lock:
            if self._prompted_password is None:
                username = params.setdefault("username", getpass.getuser())
                prompt = f"SFTP password for {username}@{self.host}: "
                self._prompted_password = getpass.getpass(prompt)
            return self._prompted_password

    def _take(self) -> Connection:
        return self._pool.take()

    def _give_back(self, connection: Connection) -> None:
        # Checked here rather than by the pool: for SFTP it is cheap (no round trip), and a
        # session that dropped mid-transfer is closed now instead of waiting idle.
        if connection.is_active():
            self._pool.give_back(connection)
        else:
            self._pool.discard(connection)

    def _run(self, operation: Callable[[Connection], T], keep: bool = False) -> Any:
        """Run ``operation`` on a pooled connection; retry once on a fresh one if it dropped.

        With ``keep`` the connection is not given back and ``(connection, result)`` is
        returned: the caller gives it back when done (open files hold one).
        """
        for attempt in (1, 2):
            connection = self._take()
            try:
                result = operation(connection)
            except BaseException as exc:
                if isinstance(exc, TimeoutError | socket.timeout):
                    # A late answer would confuse the next request: never reuse the connection.
                    self._pool.discard(connection)
                    raise
                if isinstance(exc, _CONNECTION_ERRORS) and not connection.is_active():
                    self._pool.discard(connection)
                    if attempt == 1:
                        logger.info("The connection to %s dropped; reconnecting.", self.host)
                        continue
                    raise
                self._give_back(connection)
                raise
            if keep:
                return connection, result
            self._give_back(connection)
            return result
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        """Close every connection of this storage; later calls reconnect."""
        self._pool.close()

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

    def _rename_into_place(self, sftp: paramiko.SFTPClient, temp: str, path: str) -> None:
        try:
            sftp.posix_rename(temp, path)
            return
        except (PermissionError, FileNotFoundError):
            raise
        except OSError:
            # The server lacks posix-rename@openssh.com: plain SFTP rename refuses to replace.
            logger.debug("posix_rename unavailable; falling back to remove + rename.")
        with contextlib.suppress(FileNotFoundError):
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
            elif not _TEMP_NAME.match(entry.filename):
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


__all__ = ["SFTPStorage", "SFTPStorageFile"]
