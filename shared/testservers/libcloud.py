"""Servers for the Apache Libcloud tests, the demo and the benchmark.

libcloud's LOCAL driver keeps a container as a folder and cannot serve it, so ``url()`` needs a
web server in front of it (``base_url``). :func:`folder_server` is that server: Python's
``http.server`` on 127.0.0.1, on a free port, in a thread of this process, serving ``folder``::

    with folder_server("/tmp/root") as base:      # "http://127.0.0.1:PORT"
        storage = LibCloudStorage(base_url=f"{base}/bucket", ...)

The HTTP drivers are tested against the S3 and Azure servers of ``moto.py`` and ``azurite.py``.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import threading
from collections.abc import Iterator
from typing import Any

__all__ = ["folder_server"]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def folder_server(folder: str) -> Iterator[str]:
    """Serve ``folder`` over HTTP on 127.0.0.1 and yield the base URL; stop it on exit."""
    handler = functools.partial(_QuietHandler, directory=folder)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="libcloud-folder-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
