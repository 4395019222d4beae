"""pyftpdlib on 127.0.0.1, for the FTP tests, the demo and the benchmark.

Usage::

    from shared.testservers.ftp import ftp_server

    with ftp_server(tls=True) as server:           # FTPS: explicit TLS, data channel protected
        storage = FTPStorage(location=server.location("ftps"), tls_ca_file=server.certfile)
        server.commands_since(mark)                # the commands the server received (counting)
        server.restart()                           # drops every connection, same port and data

The server is pyftpdlib's ``ThreadedFTPServer`` with its default connection limits, run as a
subprocess (``python -m shared.testservers.ftp``) so that a restart really drops the connections. It
logs in one user whose password holds ``@:/`` (clients must percent-encode it) and keeps its
files in a temporary folder. Variants: ``tls`` (a certificate for 127.0.0.1 made here with
``cryptography``), ``mlsd=False`` (no ``MLSD``/``MLST``: clients must parse ``LIST``) and
``list_format="windows"`` (``LIST`` answers in the IIS/DOS format, and ``RNTO`` refuses to
replace an existing file, as IIS does). Every command received is
appended to a log, so tests count requests against the server, not the client. It is stopped by
the PID this module started, never by name.
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from shared.testservers import ServerUnavailable, free_port, start_process

__all__ = ["FTPServer", "ftp_server", "make_certificate"]

USER = "django"
#: ``@``, ``:`` and ``/`` are what breaks naive URL parsing; ``%`` checks the decoding.
PASSWORD = "p@ss:w/rd%20x"


def make_certificate(folder: str, host: str = "127.0.0.1") -> str:
    """A self-signed certificate and its key for ``host``, in one PEM file; returns its path."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host))]), critical=False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    path = os.path.join(folder, "server.pem")
    with open(path, "wb") as f:
        f.write(certificate.public_bytes(serialization.Encoding.PEM))
        f.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    return path


@dataclass
class FTPServer:
    """A running pyftpdlib server and what a client needs to log in to it."""

    port: int
    root: str
    folder: str
    tls: bool
    mlsd: bool
    list_format: str
    certfile: str | None
    host: str = "127.0.0.1"
    user: str = USER
    password: str = PASSWORD
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def commands_log(self) -> str:
        return os.path.join(self.folder, "commands.log")

    def location(self, scheme: str = "", path: str = "/") -> str:
        """``scheme://user:password@127.0.0.1:port/path`` with user and password percent-encoded."""
        scheme = scheme or ("ftps" if self.tls else "ftp")
        credentials = f"{quote(self.user, safe='')}:{quote(self.password, safe='')}"
        return f"{scheme}://{credentials}@{self.host}:{self.port}{path}"

    def mark(self) -> int:
        """A position in the command log, for :meth:`commands_since`."""
        try:
            return os.path.getsize(self.commands_log)
        except FileNotFoundError:
            return 0

    def commands_since(self, mark: int) -> list[str]:
        """Commands received after ``mark`` (``"RETR a/b.txt"``; ``PASS`` without its argument)."""
        with open(self.commands_log, "rb") as f:
            f.seek(mark)
            data = f.read().decode("utf-8", "replace")
        return [line for line in data.split("\n") if line]

    def start(self) -> None:
        args = [sys.executable, "-m", "shared.testservers.ftp", "--port", str(self.port), "--root", self.root]
        args += ["--log", self.commands_log, "--list-format", self.list_format]
        if self.certfile:
            args += ["--certfile", self.certfile]
        if not self.mlsd:
            args.append("--no-mlsd")
        repo = str(Path(__file__).resolve().parents[2])
        path = os.pathsep.join(p for p in (repo, os.environ.get("PYTHONPATH", "")) if p)
        env = {**os.environ, "PYTHONPATH": path, "FTPD_USER": self.user, "FTPD_PASSWORD": self.password}
        self.process = start_process(args, self.port, os.path.join(self.folder, "server.log"), env=env)

    def stop(self) -> None:
        if self.process is not None:
            self.resume()  # a paused process would ignore SIGTERM until continued
            from shared.testservers import stop_process

            stop_process(self.process)
            self.process = None

    def pause(self) -> None:
        """Freeze the server process (SIGSTOP): connections stay open, nothing is answered."""
        if self.process is not None:
            os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        if self.process is not None:
            os.kill(self.process.pid, signal.SIGCONT)

    def restart(self) -> None:
        """Stop the server (every connection drops) and start it again on the same port."""
        self.stop()
        deadline = time.monotonic() + 10
        while True:
            try:
                self.start()
                return
            except ServerUnavailable:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)


@contextlib.contextmanager
def ftp_server(
    tls: bool = False, mlsd: bool = True, list_format: str = "unix", password: str = PASSWORD
) -> Iterator[FTPServer]:
    """Start pyftpdlib on a free port of 127.0.0.1; stop it by its PID on exit.

    ``password`` is the user's (the benchmark gives a plain one: the original django-storages
    cannot parse ``@:/`` in a password).
    """
    try:
        import pyftpdlib  # noqa: F401

        if tls:
            import OpenSSL  # noqa: F401
    except ImportError as exc:
        raise ServerUnavailable(
            f"{exc.name} is not installed: `pip install pyftpdlib pyopenssl cryptography`"
        ) from exc
    folder = tempfile.mkdtemp(prefix="storages-ftpd-")
    try:
        root = os.path.join(folder, "root")
        os.mkdir(root)
        certfile = make_certificate(folder) if tls else None
        server = FTPServer(free_port(), root, folder, tls, mlsd, list_format, certfile, password=password)
        server.start()
        try:
            yield server
        finally:
            server.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# -- the server process ------------------------------------------------------------------------


def _windows_lines(fs: Any, basedir: str, listing: list[str]) -> Iterator[bytes]:
    """``LIST`` lines as IIS writes them: ``01-16-24  02:35PM       <DIR>          name``."""
    for basename in listing:
        try:
            st = fs.lstat(os.path.join(basedir, basename))
        except OSError:
            continue
        stamp = time.strftime("%m-%d-%y  %I:%M%p", time.gmtime(st.st_mtime))
        kind = "<DIR>         " if os.path.isdir(os.path.join(basedir, basename)) else f"{st.st_size:>14}"
        yield f"{stamp} {kind} {basename}\r\n".encode(fs.cmd_channel.encoding)


def _main(argv: list[str]) -> None:  # pragma: no cover - runs in the server process
    import argparse
    import logging

    from pyftpdlib.authorizers import DummyAuthorizer
    from pyftpdlib.filesystems import AbstractedFS
    from pyftpdlib.handlers import FTPHandler, TLS_FTPHandler
    from pyftpdlib.servers import ThreadedFTPServer

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--root", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--certfile")
    parser.add_argument("--no-mlsd", action="store_true")
    parser.add_argument("--list-format", default="unix", choices=("unix", "windows"))
    options = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    log = open(options.log, "a", encoding="utf-8", buffering=1)  # noqa: SIM115 - lives with the process

    authorizer = DummyAuthorizer()
    authorizer.add_user(os.environ["FTPD_USER"], os.environ["FTPD_PASSWORD"], options.root, perm="elradfmwMT")

    class FileSystem(AbstractedFS):  # type: ignore[misc]
        def format_list(self, basedir: str, listing: list[str], ignore_err: bool = True) -> Iterator[bytes]:
            if options.list_format == "windows":
                return _windows_lines(self, basedir, listing)
            return super().format_list(basedir, listing, ignore_err)  # type: ignore[no-any-return]

    base: Any = TLS_FTPHandler if options.certfile else FTPHandler

    class Handler(base):  # type: ignore[misc]
        def pre_process_command(self, line: str, cmd: str, arg: str) -> None:
            # Written before the command runs, so a client that got the answer finds it here.
            log.write("PASS\n" if cmd == "PASS" else f"{line}\n")
            super().pre_process_command(line, cmd, arg)

        def ftp_RNTO(self, path: str) -> Any:
            # Servers on Windows (IIS) refuse to rename over an existing file.
            if options.list_format == "windows" and self._rnfr and os.path.exists(path):
                self._rnfr = None
                self.respond("550 Cannot create a file when that file already exists.")
                return None
            return super().ftp_RNTO(path)

    if options.no_mlsd:
        Handler.proto_cmds = {k: v for k, v in base.proto_cmds.items() if k not in ("MLSD", "MLST")}
    Handler.authorizer = authorizer
    Handler.abstracted_fs = FileSystem
    Handler.use_gmt_times = True
    Handler.banner = "storages test server ready."
    if options.certfile:
        Handler.certfile = options.certfile
        Handler.tls_control_required = True
        Handler.tls_data_required = True
    server = ThreadedFTPServer(("127.0.0.1", options.port), Handler)
    server.serve_forever(handle_exit=True)


if __name__ == "__main__":  # pragma: no cover
    _main(sys.argv[1:])
