"""moto's S3 server on 127.0.0.1, for the S3 tests, the demo and the benchmark.

Usage::

    from shared.testservers.moto import moto_server

    with moto_server() as endpoint_url:      # "http://127.0.0.1:PORT"
        storage = S3Storage(endpoint_url=endpoint_url, access_key="testing", ...)

It runs ``python -m moto.server -H 127.0.0.1 -p PORT`` as a subprocess of the given Python
(the current one by default) on a free port, and stops it by the PID it started.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator

from shared.testservers import ServerUnavailable, free_port, start_process, stop_process

__all__ = ["MOTO_CREDENTIALS", "moto_server"]

#: Credentials moto accepts (any are accepted; these are the conventional ones).
MOTO_CREDENTIALS = {"access_key": "testing", "secret_key": "testing", "region_name": "us-east-1"}


@contextlib.contextmanager
def moto_server(python: str | None = None, timeout: float = 60.0) -> Iterator[str]:
    """Start moto's server and yield its endpoint URL; stop it on exit (also on Ctrl-C)."""
    interpreter = python or sys.executable
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="storages-moto-") as folder:
        env = dict(os.environ)
        # Keep the server away from the user's AWS configuration.
        env.update({"AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull})
        try:
            process = start_process(
                [interpreter, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                port,
                os.path.join(folder, "moto.log"),
                timeout=timeout,
                env=env,
                cwd=folder,
            )
        except FileNotFoundError as exc:
            raise ServerUnavailable(f"cannot run {interpreter}: {exc}") from exc
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            stop_process(process)
