"""Demo row for FTP: pyftpdlib on 127.0.0.1, over FTPS with a certificate made for the demo."""

from __future__ import annotations

import contextlib
from typing import Any

PROVIDER = "ftp"
#: pyftpdlib serves no HTTP: url() is built from base_url but there is nothing to fetch.
serves_urls = False


def start(stack: contextlib.ExitStack) -> dict[str, Any]:
    """Start pyftpdlib (stopped when ``stack`` closes) and return the ``STORAGES`` entry for it."""
    from shared.testservers.ftp import ftp_server

    server = stack.enter_context(ftp_server(tls=True))
    return {
        "BACKEND": "storages.backends.ftp.FTPStorage",
        "OPTIONS": {
            "location": server.location("ftps", "/demo/"),
            "tls_ca_file": server.certfile,
            "base_url": "https://media.example.invalid/",
        },
    }
