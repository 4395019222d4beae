"""Azurite's Blob service on 127.0.0.1, for the Azure tests, the demo and the benchmark.

Usage::

    from shared.testservers.azurite import azurite_server

    with azurite_server() as server:
        storage = AzureStorage(connection_string=server.connection_string, azure_container="c")
        ...
        server.restart()     # drops every open connection; same port, same data

Azurite comes from npm: ``shared/scripts/setup.sh`` runs ``npm ci`` in
``shared/testservers/npm/`` (its ``package.json`` pins the version), which puts the
``azurite-blob`` binary in ``shared/testservers/npm/node_modules/.bin/``. The binary is
looked up there first, then in ``$AZURITE_BLOB`` (a path), then on ``PATH``. It runs with
``--disableTelemetry`` (otherwise it reaches out to the internet), ``--skipApiVersionCheck``
(the SDK may be newer than the emulator) and ``--loose``, keeps its data in a temporary
folder, and is stopped by the PID this module started, never by name.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shared.testservers import ServerUnavailable, free_port, start_process, stop_process

__all__ = [
    "AZURITE_ACCOUNT_KEY",
    "AZURITE_ACCOUNT_NAME",
    "AzuriteServer",
    "azurite_server",
    "find_azurite",
]

#: The well-known development account of the Azure storage emulators (published by Microsoft).
AZURITE_ACCOUNT_NAME = "devstoreaccount1"
AZURITE_ACCOUNT_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

_HERE = Path(__file__).resolve().parent
LOCAL_BINARY = _HERE / "npm" / "node_modules" / ".bin" / "azurite-blob"
INSTALL_HINT = "npm ci --prefix shared/testservers/npm (shared/scripts/setup.sh does it)"


def find_azurite() -> str:
    """The ``azurite-blob`` executable: the repo's npm install, ``$AZURITE_BLOB``, or ``PATH``."""
    if LOCAL_BINARY.exists():
        return str(LOCAL_BINARY)
    configured = os.environ.get("AZURITE_BLOB")
    if configured and Path(configured).exists():
        return configured
    found = shutil.which("azurite-blob")
    if found:
        return found
    raise ServerUnavailable(f"azurite-blob not found; install it with: {INSTALL_HINT}")


@dataclass
class AzuriteServer:
    """A running Azurite Blob service."""

    port: int
    folder: str
    binary: str
    process: Any = field(default=None, repr=False)
    account_name: str = AZURITE_ACCOUNT_NAME
    account_key: str = field(default=AZURITE_ACCOUNT_KEY, repr=False)

    @property
    def blob_endpoint(self) -> str:
        """``http://127.0.0.1:PORT/devstoreaccount1`` (path-style: the account is in the path)."""
        return f"http://127.0.0.1:{self.port}/{self.account_name}"

    def endpoint_for(self, port: int) -> str:
        """The blob endpoint through another port on 127.0.0.1 (a proxy in front of Azurite)."""
        return f"http://127.0.0.1:{port}/{self.account_name}"

    @property
    def connection_string(self) -> str:
        return self.connection_string_for(self.port)

    def connection_string_for(self, port: int) -> str:
        return (
            "DefaultEndpointsProtocol=http;"
            f"AccountName={self.account_name};AccountKey={self.account_key};"
            f"BlobEndpoint={self.endpoint_for(port)};"
        )

    def start(self, timeout: float = 60.0) -> None:
        args = [
            self.binary,
            "--blobHost",
            "127.0.0.1",
            "--blobPort",
            str(self.port),
            "--location",
            os.path.join(self.folder, "data"),
            "--skipApiVersionCheck",
            "--disableTelemetry",
            "--loose",
            "--silent",
        ]
        try:
            self.process = start_process(
                args, self.port, os.path.join(self.folder, "azurite.log"), timeout=timeout, cwd=self.folder
            )
        except OSError as exc:
            raise ServerUnavailable(f"cannot run {self.binary}: {exc}") from exc

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
            self.process = None

    def restart(self) -> None:
        """Stop and start again on the same port with the same data (drops every connection)."""
        self.stop()
        self.start()


@contextlib.contextmanager
def azurite_server(timeout: float = 60.0) -> Iterator[AzuriteServer]:
    """Start Azurite's Blob service and yield it; stop it on exit (also on Ctrl-C)."""
    binary = find_azurite()
    with tempfile.TemporaryDirectory(prefix="storages-azurite-") as folder:
        server = AzuriteServer(port=free_port(), folder=folder, binary=binary)
        server.start(timeout)
        try:
            yield server
        finally:
            server.stop()
