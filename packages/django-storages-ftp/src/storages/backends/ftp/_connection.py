"""ftplib plumbing for :mod:`storages.backends.ftp`: one control connection, and streamed transfers.

Kept apart from the storage class so that the class reads as "what FTP adds to core".
"""

from __future__ import annotations

import contextlib
import ftplib
import io
import logging
import select
import socket
import ssl
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from storages.backends.ftp._storage import FTPStorage

logger = logging.getLogger("storages.ftp")

#: Seconds to wait for the server's last answer after a transfer that was cut short (a reader
#: that closed early, an aborted upload). Servers answer at once (426 or 226); one that does not
#: is dropped rather than waited on for the whole timeout.
SETTLE_TIMEOUT = 2.0


class FTPStorageException(OSError):
    """An FTP operation failed (connection, login, or a command the server refused).

    The original's exception type; now an :class:`OSError`, so network failures are caught by
    the same ``except`` blocks as the other providers'. Messages never hold the password.
    """


class SessionReusingFTP_TLS(ftplib.FTP_TLS):
    """ftplib's FTP_TLS, with data connections resuming the control connection's TLS session.

    vsftpd (``require_ssl_reuse=YES``, its default), ProFTPD and FileZilla Server can refuse a
    data connection that starts a new TLS session ("522 SSL connection failed: session reuse
    required"), so that nobody else can connect to the data port; ftplib's own class never
    resumes one.
    """

    def ntransfercmd(self, cmd: str, rest: int | str | None = None) -> tuple[socket.socket, int | None]:
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)  # noqa: S321 - TLS is added below
        if self._prot_p:  # type: ignore[attr-defined]
            sock = self.sock
            session = sock.session if isinstance(sock, ssl.SSLSocket) else None
            conn = self.context.wrap_socket(conn, server_hostname=self.host, session=session)
        return conn, size


class Connection:
    """One logged-in ftplib connection, in binary mode, in the storage's root folder.

    Used by one thread at a time: the storage keeps these in core's
    :class:`storages.pool.ConnectionPool`.
    """

    def __init__(self, ftp: ftplib.FTP, features: set[str]) -> None:
        self.ftp = ftp
        #: Upper-cased FEAT keywords (``MLST``, ``SIZE``, ``MDTM``, ``UTF8``...).
        self.features = features
        #: Set when a command timed out or the session fell out of step: closed without QUIT,
        #: never waited on again.
        self.broken = False
        #: The location's folder as an absolute path (``PWD``), on servers without MLST only.
        self.home: str | None = None

    @property
    def has_mlst(self) -> bool:
        # RFC 3659: the MLST feature announces both MLST and MLSD.
        return "MLST" in self.features

    def is_alive(self) -> bool:
        """False when the server closed the connection or sent something unasked (a 421).

        No round trip: an idle control connection has nothing to read, so anything readable
        means it is closing. A connection the network dropped silently is found by the next
        command's error (the storage then retries once on a fresh connection).
        """
        sock = self.ftp.sock
        if sock is None:
            return False
        if isinstance(sock, ssl.SSLSocket) and sock.pending():
            return False
        try:
            if hasattr(select, "poll"):  # no FD_SETSIZE limit (processes with 1024+ files open)
                poller = select.poll()
                poller.register(sock, select.POLLIN | select.POLLPRI)
                return not poller.poll(0)
            readable, _, _ = select.select([sock], [], [], 0)
        except (OSError, ValueError):
            return False
        return not readable

    def close(self) -> None:
        """Say QUIT when the connection is still there (briefly), then close it."""
        ftp = self.ftp
        try:
            if not self.broken and self.is_alive() and ftp.sock is not None:
                ftp.sock.settimeout(min(SETTLE_TIMEOUT, ftp.timeout or SETTLE_TIMEOUT))
                ftp.quit()
        except Exception:
            logger.debug("QUIT failed; closing the connection anyway.", exc_info=True)
        finally:
            ftp.close()

    def settle(self) -> bool:
        """After a transfer cut short: read the server's last answer; False if it did not come."""
        ftp = self.ftp
        sock = ftp.sock
        if sock is None:
            return False
        previous = sock.gettimeout()
        try:
            sock.settimeout(min(SETTLE_TIMEOUT, previous or SETTLE_TIMEOUT))
            ftp.getresp()
        except (ftplib.error_temp, ftplib.error_perm):
            return True  # "426 transfer aborted": the session is in step again
        except Exception:  # noqa: BLE001 - no answer, or a broken one: drop the connection
            return False
        finally:
            with contextlib.suppress(OSError):
                sock.settimeout(previous)
        return True


def close_data(sock: socket.socket, complete: bool) -> None:
    """Close a data connection; after a complete transfer, end its TLS session as ftplib does."""
    try:
        if complete and isinstance(sock, ssl.SSLSocket):
            sock.unwrap()
    except (OSError, ValueError):
        pass
    finally:
        sock.close()


class Download(io.RawIOBase):
    """The data connection of a ``RETR``: read until the server closes it, then give back.

    Closing early closes the data connection, reads the server's answer to the interrupted
    transfer, and gives the control connection back when it is in step (drops it otherwise).
    """

    def __init__(self, storage: FTPStorage, connection: Connection, sock: socket.socket) -> None:
        self._storage = storage
        self._connection: Connection | None = connection
        self._sock: socket.socket | None = sock

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        sock = self._sock
        if sock is None:
            return b""
        if size is None or size < 0:
            return self.readall()
        try:
            data = sock.recv(min(size, 1024 * 1024))
        except BaseException:
            self._end(complete=False, usable=False)
            raise
        if not data:
            self._end(complete=True, usable=True)
        return data

    def readall(self) -> bytes:
        chunks = []
        while chunk := self.read(1024 * 1024):
            chunks.append(chunk)
        return b"".join(chunks)

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self.read(len(view))
        view[: len(data)] = data
        return len(data)

    def _end(self, complete: bool, usable: bool) -> None:
        sock, self._sock = self._sock, None
        connection, self._connection = self._connection, None
        if sock is not None:
            close_data(sock, complete)
        if connection is None:
            return
        if usable:
            try:
                if complete:
                    connection.ftp.voidresp()  # 226 Transfer complete
                else:
                    usable = connection.settle()
            except Exception:
                usable = False
                if complete:
                    self._storage._discard(connection)
                    raise
        if usable:
            self._storage._give_back(connection)
        else:
            self._storage._discard(connection)

    def close(self) -> None:
        if self.closed:
            return
        try:
            self._end(complete=False, usable=True)
        finally:
            super().close()


def read_all_lines(connection: Connection, command: str) -> list[str]:
    """Run a listing command (``MLSD``, ``LIST``) and return its lines, decoded."""
    ftp = connection.ftp
    sock = ftp.transfercmd(command)
    chunks = []
    try:
        while data := sock.recv(1024 * 1024):
            chunks.append(data)
    except BaseException:
        close_data(sock, complete=False)
        raise
    close_data(sock, complete=True)
    ftp.voidresp()
    text = b"".join(chunks).decode(ftp.encoding, "replace")
    return [line for line in text.replace("\r\n", "\n").split("\n") if line]
