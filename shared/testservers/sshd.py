"""OpenSSH's ``sshd`` on 127.0.0.1, for the SFTP tests, the demo and the benchmark.

Usage::

    from shared.testservers.sshd import sshd_server

    with sshd_server() as server:
        storage = SFTPStorage(host=server.host, params=server.params(),
                              known_host_file=server.known_hosts, root_path=server.root)
        ...
        server.restart()     # drops every open connection, same port and host key

The server runs from Debian's ``openssh-server`` (``sshd -D -e -f CONFIG``) with its own
config, host key, ``authorized_keys``, ``PidFile`` and a client key, all in a temporary folder.
It logs in the current user (root on CI containers) with the client key only. It is stopped by
the PIDs this module started, never by name.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shared.testservers import ServerUnavailable, free_port, start_process

__all__ = ["DEFAULT_LIMITS", "RAISED_LIMITS", "SSHServer", "find_sshd", "sshd_server"]

SSHD_CANDIDATES = ("/usr/sbin/sshd", "/usr/local/sbin/sshd", "/sbin/sshd")


def find_sshd() -> str:
    """The path of ``sshd``; :class:`ServerUnavailable` when OpenSSH's server is missing."""
    found = shutil.which("sshd") or next((p for p in SSHD_CANDIDATES if os.path.exists(p)), None)
    if not found:
        raise ServerUnavailable("sshd not found: install it with `apt-get install openssh-server`")
    return found


def _run(*args: str) -> str:
    result = subprocess.run(list(args), capture_output=True, check=False, timeout=60)
    if result.returncode != 0:
        raise ServerUnavailable(f"{args[0]} failed: {result.stderr.decode('utf-8', 'replace')}")
    return result.stdout.decode("utf-8", "replace")


def _descendants(pid: int) -> list[int]:
    """PIDs of every process below ``pid`` (sshd forks one monitor per connection)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # The command name may contain spaces and parentheses: the ppid follows the last ")".
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


@dataclass
class SSHServer:
    """A running sshd and what a client needs to log in to it."""

    folder: Path
    port: int
    username: str
    host: str = "127.0.0.1"
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def config(self) -> Path:
        return self.folder / "sshd_config"

    @property
    def client_key(self) -> str:
        """Path of the client's private key (ed25519, no passphrase)."""
        return str(self.folder / "client_key")

    @property
    def known_hosts(self) -> str:
        """A known-hosts file holding the server's key as ``[127.0.0.1]:PORT ssh-ed25519 ...``."""
        return str(self.folder / "known_hosts")

    @property
    def host_key_line(self) -> str:
        """The server's public key as ``ssh-ed25519 AAAA...`` (no comment)."""
        text = (self.folder / "ssh_host_ed25519_key.pub").read_text().split()
        return f"{text[0]} {text[1]}"

    @property
    def fingerprint(self) -> str:
        """The host key's SHA256 fingerprint as ``ssh-keygen -l`` prints it."""
        out = _run("ssh-keygen", "-l", "-E", "sha256", "-f", str(self.folder / "ssh_host_ed25519_key.pub"))
        return out.split()[1]

    @property
    def root(self) -> str:
        """An empty folder on the server side, for storages' ``root_path``."""
        path = self.folder / "files"
        path.mkdir(exist_ok=True)
        return str(path)

    def params(self, **extra: Any) -> dict[str, Any]:
        """``SFTP_STORAGE_PARAMS`` for key-based login to this server."""
        params: dict[str, Any] = {
            "port": self.port,
            "username": self.username,
            "key_filename": self.client_key,
            "look_for_keys": False,
            "allow_agent": False,
        }
        params.update(extra)
        return params

    def start(self) -> None:
        if os.geteuid() == 0:
            # sshd run as root insists on its privilege-separation directory.
            os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
        self.process = start_process(
            [find_sshd(), "-D", "-e", "-f", str(self.config)],
            self.port,
            str(self.folder / "sshd.log"),
        )

    def stop(self) -> None:
        """Stop the server and every session it forked, by PID."""
        if self.process is None:
            return
        process, self.process = self.process, None
        sessions = _descendants(process.pid)
        for pid in sessions:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        from shared.testservers import stop_process

        stop_process(process)
        deadline = time.monotonic() + 5
        while sessions and time.monotonic() < deadline:
            sessions = [pid for pid in sessions if os.path.exists(f"/proc/{pid}")]
            time.sleep(0.02)

    def restart(self) -> None:
        """Stop (dropping every connection) and start again on the same port and host key."""
        self.stop()
        self.start()

    @property
    def log(self) -> str:
        try:
            return (self.folder / "sshd.log").read_text(errors="replace")
        except OSError:
            return ""


#: OpenSSH's own defaults, written out so that the tests meet what a real server does: sshd
#: starts dropping unauthenticated connections at random beyond 10 at once, and allows 10
#: sessions (SFTP channels) per connection.
DEFAULT_LIMITS = ("MaxStartups 10:30:100", "MaxSessions 10")
#: Limits high enough that no client of the tests meets them (``raised_limits=True``).
RAISED_LIMITS = ("MaxStartups 100:30:200", "MaxSessions 64")


def _write_config(server: SSHServer, sftp_server: str | None, raised_limits: bool = False) -> None:
    subsystem = sftp_server or "internal-sftp"
    server.config.write_text(
        "\n".join(
            [
                f"Port {server.port}",
                f"ListenAddress {server.host}",
                f"HostKey {server.folder / 'ssh_host_ed25519_key'}",
                f"PidFile {server.folder / 'sshd.pid'}",
                f"AuthorizedKeysFile {server.folder / 'authorized_keys'}",
                "StrictModes no",
                "PubkeyAuthentication yes",
                "PasswordAuthentication yes",
                "KbdInteractiveAuthentication no",
                "PermitRootLogin prohibit-password",
                "UsePAM no",
                "UseDNS no",
                *(RAISED_LIMITS if raised_limits else DEFAULT_LIMITS),
                "LogLevel INFO",
                f"Subsystem sftp {subsystem}",
                "",
            ]
        )
    )


@contextlib.contextmanager
def sshd_server(sftp_server: str | None = None, *, raised_limits: bool = False) -> Iterator[SSHServer]:
    """Start sshd for the current user; yield an :class:`SSHServer`; stop it on exit.

    ``sftp_server`` picks the SFTP subsystem: ``None`` for sshd's ``internal-sftp``, or the path
    of an ``sftp-server`` binary. The server has OpenSSH's default connection limits
    (:data:`DEFAULT_LIMITS`); ``raised_limits=True`` lifts them (:data:`RAISED_LIMITS`).
    """
    find_sshd()
    folder = Path(tempfile.mkdtemp(prefix="storages-sshd-"))
    server = SSHServer(folder=folder, port=free_port(), username=getpass.getuser())
    try:
        keys = (("test-host", folder / "ssh_host_ed25519_key"), ("test-client", server.client_key))
        for comment, path in keys:
            _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path))
        shutil.copy(server.client_key + ".pub", folder / "authorized_keys")
        Path(server.known_hosts).write_text(f"[{server.host}]:{server.port} {server.host_key_line}\n")
        _write_config(server, sftp_server, raised_limits)
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
