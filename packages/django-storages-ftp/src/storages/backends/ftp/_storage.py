"""``FTPStorage``: Django storage on an FTP or FTPS server, through the standard library's ftplib."""

from __future__ import annotations

import contextlib
import errno
import ftplib
import io
import logging
import posixpath
import socket
import ssl
import threading
import weakref
from collections.abc import Callable
from typing import IO, Any, ClassVar, TypeVar
from urllib.parse import quote, urljoin

from django.conf import settings

from storages.backends.ftp._connection import (
    Connection,
    Download,
    FTPStorageException,
    SessionReusingFTP_TLS,
    close_data,
    read_all_lines,
)
from storages.backends.ftp._listing import (
    Entry,
    entry_from_facts,
    parse_list_line,
    parse_mlsx_line,
    parse_timeval,
)
from storages.backends.ftp._location import Location, parse_location
from storages.base import BaseStorage
from storages.exceptions import StorageConfigurationError
from storages.files import StreamingFile
from storages.options import Option, OptionSet
from storages.pool import ConnectionPool
from storages.utils import is_temporary_name, normalize_name, setting_time, temporary_name, url_quote

logger = logging.getLogger("storages.ftp")

T = TypeVar("T")


#: Errors after which a connection is known or suspected to be dead. ``error_reply`` and
#: ``error_proto`` mean an answer out of step with the question: the session cannot be trusted.
_CONNECTION_ERRORS = (EOFError, OSError, ftplib.error_reply, ftplib.error_proto)
#: OSErrors that are the server's answer, not a broken connection.
_ANSWERS = (FileNotFoundError, FTPStorageException)


def _media_url() -> Any:
    return getattr(settings, "MEDIA_URL", None)


def _code(exc: BaseException) -> str:
    """The reply code of an ftplib error (``"550"``), or ``""``."""
    text = str(exc.args[0]) if exc.args else ""
    return text[:3] if text[:3].isdigit() else ""


def _missing(name: str, exc: BaseException | None = None) -> FileNotFoundError:
    reply = f" ({exc})" if exc is not None else ""
    return FileNotFoundError(errno.ENOENT, f"No such file on the FTP server{reply}", name)


class _NoSize(Exception):
    """The server has no ``SIZE`` command."""


class FTPStorageFile(StreamingFile):
    """A file on the FTP server: reads stream from ``RETR``, writes go through a temporary name.

    A write sends ``STOR .<name>.<random>.part`` in the target folder, streaming the data as it
    is written (at most two parts wait in memory), and on close renames it over ``name``.
    Leaving a ``with`` block by an exception, or a failure while writing, removes the temporary
    file: ``name`` is never half-written. Reads can seek (``REST``).
    """

    storage: FTPStorage
    part_size = 1024 * 1024
    #: Bytes per ``send`` on the data connection.
    block_size: ClassVar[int] = 256 * 1024

    def __init__(self, name: str, mode: Any, storage: Any, key: str | None = None) -> None:
        if isinstance(mode, BaseStorage):
            # The original's signature, FTPStorageFile(name, storage, mode).
            mode, storage = storage, mode
        self._upload: list[Any] | None = None
        if key is None and isinstance(storage, FTPStorage):
            key = storage._key(name)
        super().__init__(name, mode, storage, key)

    # -- reading --------------------------------------------------------------------------

    def _open_stream(self, offset: int) -> IO[bytes]:
        storage = self.storage
        key = self.key

        def start(connection: Connection) -> tuple[socket.socket, int | None] | None:
            try:
                return connection.ftp.ntransfercmd(f"RETR {key}", rest=offset or None)
            except ftplib.error_perm as exc:
                if _code(exc) in ("550", "450", "553"):
                    raise _missing(self.name or key, exc) from None
                if offset and _code(exc) == "554":
                    return None  # "554 REST position > file size": a seek past the end
                raise

        connection, started = storage._run(start, keep=True)
        if started is None:
            storage._give_back(connection)
            return io.BytesIO(b"")
        sock, size = started
        if size is not None:
            self._size = size + offset
        return Download(storage, connection, sock)  # type: ignore[return-value]

    # -- writing (pull style: ftplib's STOR reads a stream) ---------------------------------

    def _upload_stream(self, stream: IO[bytes]) -> None:
        storage = self.storage
        folder = posixpath.dirname(self.key)
        temp = temporary_name(self.key)

        def start(connection: Connection) -> socket.socket:
            try:
                sock: socket.socket = connection.ftp.transfercmd(f"STOR {temp}")
            except ftplib.error_perm as exc:
                if not folder or _code(exc) not in ("550", "553"):
                    raise
                storage._makedirs(connection, folder)  # a new folder: create it, then again
                sock = connection.ftp.transfercmd(f"STOR {temp}")
            return sock

        connection, sock = storage._run(start, keep=True)
        # [connection, temporary name, connection in step, server answering]
        upload = self._upload = [connection, temp, True, True]
        try:
            while data := stream.read(self.block_size):
                sock.sendall(data)
        except BaseException as exc:
            close_data(sock, complete=False)
            if isinstance(exc, TimeoutError | socket.timeout):
                # The server stopped answering: nothing more is waited for (the temporary
                # file is removed through the next connection).
                upload[2] = upload[3] = False
            else:
                # Closing the data connection ends the STOR: the server keeps the partial
                # temporary file (removed by _abort) and answers; read it to stay in step.
                upload[2] = connection.settle()
            raise
        try:
            close_data(sock, complete=True)
            connection.ftp.voidresp()  # 226: the server has every byte
        except BaseException as exc:
            upload[2] = False
            upload[3] = not isinstance(exc, TimeoutError | socket.timeout)
            raise
        storage._rename_into_place(connection, temp, self.key)
        self._upload = None
        storage._give_back(connection)

    def _abort(self) -> None:
        upload, self._upload = self._upload, None
        if upload is None:
            return
        connection, temp, usable, answering = upload
        storage = self.storage
        if not answering:
            storage._discard(connection)
            storage._remember_orphan(temp)
            return
        if usable:
            try:
                storage._delete_quietly(connection, temp)
                storage._give_back(connection)
                return
            except Exception:
                logger.debug("Removing %s failed on the upload's connection.", temp, exc_info=True)
        storage._discard(connection)
        storage._remove_temporary(temp)


class FTPStorage(BaseStorage):
    """Files on an FTP server (plain, or FTPS with explicit TLS), with the standard library's ftplib.

    Every name is confined below the location's path. Connections come from a bounded pool
    (an ftplib connection is used by one thread at a time), are opened lazily, re-opened when
    the server dropped them, and closed by :meth:`close` or when the storage is collected.
    """

    distribution = "django-storages-ftp"
    overwrite_option = "allow_overwrite"
    file_class = FTPStorageFile
    transient_attributes = ("_pool", "_lock", "_orphans", "_finalizer")

    # Resolved option values (annotations only: a class attribute would count as a user's
    # subclass value in core's precedence).
    location: str  # required: check_required() runs before the first connection
    encoding: str | None
    base_url: str | None
    allow_overwrite: bool
    timeout: float
    max_connections: int
    tls_ca_file: str | None
    tls_verify: bool

    options = OptionSet(
        Option(
            "location",
            setting="FTP_STORAGE_LOCATION",
            required=True,
            doc="Server and folder as ``ftp://user:password@host:port/path``: ``ftp`` (passive "
            "mode), ``aftp`` (active mode), ``ftps`` or ``aftps`` (explicit TLS, data channel "
            "protected too). Port (default 21) and path are optional; percent-encode ``@``, "
            "``:`` and ``/`` in the user and password. The password is redacted everywhere and "
            "kept out of migrations.",
        ),
        Option(
            "encoding",
            setting="FTP_STORAGE_ENCODING",
            default_doc="'utf-8' if the server announces UTF8, else 'latin-1'",
            doc="Encoding of file names on the wire.",
        ),
        Option(
            "base_url",
            setting="BASE_URL",
            default_factory=_media_url,
            default_doc="settings.MEDIA_URL",
            doc="URL prefix for ``url()`` (the web server that serves the FTP folder).",
        ),
        Option(
            "allow_overwrite",
            setting="FTP_ALLOW_OVERWRITE",
            default=False,
            doc="Save over an existing name instead of choosing a free one.",
        ),
        Option(
            "timeout",
            setting="FTP_STORAGE_TIMEOUT",
            default=30.0,
            doc="Seconds any single network wait may last: connect, TLS handshake, each answer, "
            "each block of a transfer, and waiting for a free connection.",
        ),
        Option(
            "max_connections",
            setting="FTP_STORAGE_MAX_CONNECTIONS",
            default=8,
            doc="Most connections one storage opens at once (threads beyond it wait up to "
            "``timeout``). An open file holds one until it is closed. Keep it below the "
            "server's per-client limit.",
        ),
        Option(
            "tls_ca_file",
            setting="FTP_STORAGE_TLS_CA_FILE",
            doc="For ``ftps``: a PEM file of the certificates to trust (a private CA, or the "
            "server's self-signed certificate) instead of the system's.",
        ),
        Option(
            "tls_verify",
            setting="FTP_STORAGE_TLS_VERIFY",
            default=True,
            doc="For ``ftps``: check the server's certificate and host name. ``False`` accepts "
            "any certificate (encrypted, but open to man-in-the-middle attacks).",
        ),
    )

    #: Seconds an idle connection is kept; servers close idle sessions (often after 300 s).
    max_idle_time: ClassVar[float] = 60.0

    # -- configuration ----------------------------------------------------------------------

    def validate_options(self) -> None:
        self._location_url: Location | None = None
        if self.location not in (None, ""):
            self._location_url = parse_location(self.location)
        try:
            self.timeout = float(self.timeout)
        except (TypeError, ValueError):
            raise StorageConfigurationError(
                "FTPStorage option 'timeout' (FTP_STORAGE_TIMEOUT) must be a number of seconds, "
                f"not {self.timeout!r}."
            ) from None
        if not self.timeout > 0:
            raise StorageConfigurationError(
                "FTPStorage option 'timeout' (FTP_STORAGE_TIMEOUT) must be above 0."
            )
        if (
            not isinstance(self.max_connections, int)
            or isinstance(self.max_connections, bool)
            or self.max_connections < 1
        ):
            raise StorageConfigurationError(
                "FTPStorage option 'max_connections' (FTP_STORAGE_MAX_CONNECTIONS) must be a whole "
                f"number of at least 1, not {self.max_connections!r}."
            )
        if self.encoding is not None:
            try:
                "".encode(self.encoding)
            except (LookupError, TypeError):
                raise StorageConfigurationError(
                    "FTPStorage option 'encoding' (FTP_STORAGE_ENCODING) names no known encoding: "
                    f"{self.encoding!r}."
                ) from None

    def _init_transient(self) -> None:
        self._lock = threading.Lock()
        #: Temporary files that could not be removed while the server was away.
        self._orphans: set[str] = set()
        # The pool must not hold the storage itself: the finalizer below keeps the pool alive.
        storage = weakref.ref(self)

        def connect() -> Connection:
            alive = storage()
            if alive is None:  # pragma: no cover - a pool outliving its storage is not used
                raise ReferenceError("The FTP storage of this connection pool was garbage collected.")
            return alive._connect()

        address = self._location_url.address if self._location_url else "an unset location"
        self._pool: ConnectionPool[Connection] = ConnectionPool(
            connect,
            Connection.is_alive,
            Connection.close,
            max_size=self.max_connections,
            max_idle=self.max_connections,
            max_idle_time=self.max_idle_time,
            wait_timeout=self.timeout,
            option_hint="the 'max_connections' option (FTP_STORAGE_MAX_CONNECTIONS)",
            name=f"the FTP connections to {address}",
        )
        self._finalizer = weakref.finalize(self, self._pool.close)

    @property
    def _location(self) -> str:
        # Every connection starts in the location's folder (CWD after login): names are sent
        # relative to it, and core confines them below it.
        return ""

    @property
    def _url(self) -> Location:
        self.check_required()
        assert self._location_url is not None  # set whenever location is
        return self._location_url

    def _scrub(self, text: str) -> str:
        """``text`` without the password, in case a server echoes it."""
        password = self._location_url.password if self._location_url else ""
        if len(password) >= 3:
            for form in {password, quote(password, safe="")}:
                text = text.replace(form, "***")
        return text

    def _tls_context(self) -> ssl.SSLContext:
        if not self.tls_verify:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            return context
        return ssl.create_default_context(cafile=self.tls_ca_file)

    # -- connections --------------------------------------------------------------------------

    def _connect(self) -> Connection:
        url = self._url
        where = url.public_url
        ftp: ftplib.FTP
        # Plain FTP is what this backend is for; ftps:// locations get TLS.
        if url.secure:
            ftp = SessionReusingFTP_TLS(context=self._tls_context(), timeout=self.timeout)
        else:
            ftp = ftplib.FTP(timeout=self.timeout)  # noqa: S321
        logger.debug("Connecting to %s.", where)
        try:
            try:
                ftp.connect(url.host, url.port, timeout=self.timeout)
                if isinstance(ftp, ftplib.FTP_TLS):
                    ftp.auth()
            except ssl.SSLCertVerificationError as exc:
                raise FTPStorageException(
                    f"The TLS certificate of the FTP server {url.address} was refused: "
                    f"{exc.verify_message}. Trust it with the 'tls_ca_file' option "
                    "(FTP_STORAGE_TLS_CA_FILE), or set 'tls_verify' to False."
                ) from None
            except (OSError, EOFError, ftplib.Error) as exc:
                raise FTPStorageException(
                    f"Cannot connect to the FTP server {url.address} ({where}): {self._scrub(str(exc))}"
                ) from None
            try:
                ftp.login(url.user or "anonymous", url.password)
            except ftplib.error_perm as exc:
                raise FTPStorageException(
                    f"The FTP server {url.address} refused the login of user {url.user or 'anonymous'!r}: "
                    f"{self._scrub(str(exc))}. Check the user and password in FTP_STORAGE_LOCATION "
                    "(percent-encode '@', ':' and '/' in them)."
                ) from None
            if isinstance(ftp, ftplib.FTP_TLS):
                ftp.prot_p()
            features = self._features(ftp)
            ftp.encoding = self.encoding or ("utf-8" if "UTF8" in features else "latin-1")
            ftp.set_pasv(not url.active)
            ftp.voidcmd("TYPE I")
            connection = Connection(ftp, features)
            self._enter_root(connection)
            if not connection.has_mlst:
                # exists() of a folder goes there with CWD, and must find its way back.
                with contextlib.suppress(ftplib.Error):
                    connection.home = ftp.pwd()
            if self._orphans:
                self._clean_orphans(connection)
        except BaseException:
            ftp.close()
            raise
        return connection

    @staticmethod
    def _features(ftp: ftplib.FTP) -> set[str]:
        try:
            reply = ftp.sendcmd("FEAT")
        except ftplib.error_perm:
            return set()
        lines = reply.splitlines()[1:-1]
        return {line.strip().split(" ", 1)[0].upper() for line in lines if line.strip()}

    def _enter_root(self, connection: Connection) -> None:
        path = self._url.path
        if path == ".":
            return
        try:
            connection.ftp.cwd(path)
        except ftplib.error_perm:
            # A new location: create it (as uploads create their folders).
            self._makedirs(connection, path)
            connection.ftp.cwd(path)

    def _give_back(self, connection: Connection) -> None:
        self._pool.give_back(connection)

    def _discard(self, connection: Connection) -> None:
        connection.broken = True
        self._pool.discard(connection)

    def _run(self, operation: Callable[[Connection], T], keep: bool = False) -> Any:
        """Run ``operation`` on a pooled connection; retry once on a fresh one if it dropped.

        With ``keep`` the connection is not given back and ``(connection, result)`` is
        returned: the caller gives it back when done (open files hold one).
        """
        for attempt in (1, 2):
            connection = self._pool.take()
            try:
                if self._orphans:
                    self._clean_orphans(connection)
                result = operation(connection)
            except BaseException as exc:
                if isinstance(exc, TimeoutError | socket.timeout) or not isinstance(exc, Exception):
                    # A late answer would be read as the answer to the next command.
                    self._discard(connection)
                    raise
                if isinstance(exc, _CONNECTION_ERRORS) and not isinstance(exc, _ANSWERS):
                    self._discard(connection)
                    if attempt == 1:
                        logger.info("The connection to %s dropped; reconnecting.", self._url.address)
                        continue
                    raise
                if isinstance(exc, ftplib.error_temp) and _code(exc) == "421":
                    # "Service not available, closing control connection".
                    self._discard(connection)
                    if attempt == 1:
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

    #: The original's name for :meth:`close`.
    disconnect = close

    def __enter__(self) -> FTPStorage:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- helpers ------------------------------------------------------------------------------

    def _key(self, name: Any) -> str:
        """The path of ``name`` relative to the location's folder (confined below it)."""
        return self._normalize_name(name)

    def _makedirs(self, connection: Connection, folder: str) -> None:
        """``MKD`` each missing level of ``folder`` (relative or absolute)."""
        parts = [p for p in folder.split("/") if p]
        prefix = "/" if folder.startswith("/") else ""
        for index in range(len(parts)):
            path = prefix + "/".join(parts[: index + 1])
            # An error means it exists (or cannot be made: the next command says so).
            with contextlib.suppress(ftplib.error_perm):
                connection.ftp.mkd(path)

    def _rename_into_place(self, connection: Connection, temp: str, key: str) -> None:
        ftp = connection.ftp
        try:
            ftp.rename(temp, key)
        except ftplib.error_perm:
            # Servers on Windows refuse to rename over an existing file: remove it first.
            try:
                ftp.delete(key)
            except ftplib.error_perm:
                raise FTPStorageException(f"The FTP server refused to rename {temp!r} to {key!r}.") from None
            ftp.rename(temp, key)

    def _delete_quietly(self, connection: Connection, path: str) -> None:
        try:
            connection.ftp.delete(path)
        except ftplib.error_perm as exc:
            if _code(exc) != "550":
                raise

    def _remove_temporary(self, temp: str) -> None:
        """Remove an aborted upload's temporary file; remember it when the server is away."""
        try:
            self._run(lambda c: self._delete_quietly(c, temp))
        except Exception:  # noqa: BLE001 - cleaned on the next connection instead
            self._remember_orphan(temp)

    def _remember_orphan(self, temp: str) -> None:
        logger.warning("Could not remove the temporary file %s now; the next connection will.", temp)
        with self._lock:
            self._orphans.add(temp)

    def _clean_orphans(self, connection: Connection) -> None:
        """Remove the temporary files of uploads aborted while the server was away."""
        with self._lock:
            orphans, self._orphans = self._orphans, set()
        remaining = sorted(orphans)
        try:
            while remaining:
                try:
                    self._delete_quietly(connection, remaining[0])
                except ftplib.Error:
                    logger.warning("Could not remove the temporary file %s.", remaining[0], exc_info=True)
                remaining.pop(0)
        finally:
            if remaining:  # the connection failed: keep them for the next one
                with self._lock:
                    self._orphans.update(remaining)

    @staticmethod
    def _mlst_on(connection: Connection, key: str) -> dict[str, str] | None:
        """``MLST`` facts of ``key`` (``None`` when missing)."""
        try:
            reply = connection.ftp.sendcmd(f"MLST {key or '.'}")
        except ftplib.error_perm as exc:
            if _code(exc) in ("550", "450"):
                return None
            raise
        lines = reply.splitlines()
        for line in lines[1:-1] or lines[:1]:
            if "=" in line:
                return parse_mlsx_line(line)[0]
        return {}

    @staticmethod
    def _size_on(connection: Connection, key: str) -> int | None:
        """``SIZE`` of ``key``: ``None`` for a missing file or a folder.

        Raises :class:`_NoSize` on a server without ``SIZE`` (the caller lists the parent).
        """
        if connection.features and "SIZE" not in connection.features:
            raise _NoSize
        try:
            reply = connection.ftp.sendcmd(f"SIZE {key}")
        except ftplib.error_perm as exc:
            if _code(exc) in ("500", "502"):
                raise _NoSize from None
            if _code(exc) in ("550", "450"):
                return None
            raise
        return int(reply[3:].strip())

    @staticmethod
    def _is_folder_on(connection: Connection, key: str) -> bool | None:
        """Whether ``key`` is a folder, by ``CWD`` there and back; ``None`` when unknown."""
        home = connection.home
        if home is None:
            return None
        try:
            connection.ftp.cwd(key)
        except ftplib.error_perm:
            return False
        try:
            connection.ftp.cwd(home)
        except ftplib.Error as exc:
            # Left in the wrong folder: the connection must not be used again.
            raise ConnectionError(f"Could not change back to {home!r}: {exc}") from None
        return True

    def _entry_in_parent(self, name: str) -> Entry | None:
        key = self._key(name).rstrip("/")
        folder, base = posixpath.split(key)
        try:
            dirs, files = self._list(folder)
        except FileNotFoundError:
            return None
        for entry in (*dirs, *files):
            if entry.name == base:
                return entry
        return None

    def _list(self, path: str) -> tuple[list[Entry], list[Entry]]:
        key = self._key(path)

        def listing(connection: Connection) -> tuple[list[Entry], list[Entry]]:
            mlsd = connection.has_mlst
            command = ("MLSD" if mlsd else "LIST") + (f" {key}" if key else "")
            try:
                lines = read_all_lines(connection, command)
            except ftplib.error_perm as exc:
                # pyftpdlib answers MLSD of a missing folder with "501 No such directory".
                if _code(exc) in ("550", "450", "501"):
                    raise _missing(path, exc) from None
                raise
            entries = [
                entry_from_facts(*parse_mlsx_line(line)) if mlsd else parse_list_line(line) for line in lines
            ]
            dirs = [e for e in entries if e is not None and e.is_dir]
            files = [e for e in entries if e is not None and not e.is_dir and not is_temporary_name(e.name)]
            return dirs, files

        result: tuple[list[Entry], list[Entry]] = self._run(listing)
        return result

    # -- the Storage API ------------------------------------------------------------------------

    def exists(self, name: str) -> bool:
        key = self._key(name)
        if not key:
            return True  # the location itself

        def probe(connection: Connection) -> bool | None:
            if connection.has_mlst:
                return self._mlst_on(connection, key) is not None
            # Without MLST: SIZE answers for files, CWD for folders; without SIZE (or without
            # a known home folder to come back to) the parent folder's listing tells.
            try:
                if self._size_on(connection, key) is not None:
                    return True
            except _NoSize:
                return None
            return self._is_folder_on(connection, key)

        found: bool | None = self._run(probe)
        if found is None:
            return self._entry_in_parent(name) is not None
        return found

    def delete(self, name: str) -> None:
        key = self._key(name)

        def delete(connection: Connection) -> bool:
            try:
                connection.ftp.delete(key)
            except ftplib.error_perm as exc:
                if _code(exc) == "550":
                    return False
                raise
            return True

        if not self._run(delete) and self.exists(name):
            raise FTPStorageException(errno.EACCES, "The FTP server refused to delete the file", name)

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        dirs, files = self._list(path)
        return [e.name for e in dirs], [e.name for e in files]

    def size(self, name: str) -> int:
        key = self._key(name)

        def size(connection: Connection) -> int:
            if connection.has_mlst:
                facts = self._mlst_on(connection, key)
                if facts is None:
                    raise _missing(name)
                return int(facts.get("size") or facts.get("sizd") or 0)
            try:
                value = self._size_on(connection, key)
            except _NoSize:
                return -1
            if value is None:
                raise _missing(name)
            return value

        result: int = self._run(size)
        if result < 0:  # no SIZE: the parent folder's LIST tells
            entry = self._entry_in_parent(name)
            if entry is None or entry.size is None:
                raise _missing(name)
            return entry.size
        return result

    def get_modified_time(self, name: str) -> Any:
        key = self._key(name)

        def modified(connection: Connection) -> str:
            if connection.has_mlst:
                facts = self._mlst_on(connection, key)
                if facts is None:
                    raise _missing(name)
                if "modify" in facts:
                    return facts["modify"]
            try:
                return connection.ftp.sendcmd(f"MDTM {key}")[4:]
            except ftplib.error_perm as exc:
                if _code(exc) in ("550", "450"):
                    raise _missing(name, exc) from None
                raise

        value: str = self._run(modified)
        return setting_time(parse_timeval(value))

    def url(self, name: str | None) -> str:
        if self.base_url is None:
            raise ValueError("This file is not accessible via a URL.")
        return urljoin(self.base_url, url_quote(normalize_name(name or "")))


__all__ = ["FTPStorage", "FTPStorageException", "FTPStorageFile"]
