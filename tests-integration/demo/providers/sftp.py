"""Demo row for SFTP: OpenSSH's sshd on 127.0.0.1, reached with a key and a known-hosts file."""

from __future__ import annotations

import contextlib
from typing import Any

PROVIDER = "sftp"
#: sshd serves no HTTP: url() is built from base_url but there is nothing to fetch.
serves_urls = False


def start(stack: contextlib.ExitStack) -> dict[str, Any]:
    """Start sshd (stopped when ``stack`` closes) and return the ``STORAGES`` entry for it."""
    from shared.testservers.sshd import sshd_server

    server = stack.enter_context(sshd_server())
    return {
        "BACKEND": "storages.backends.sftpstorage.SFTPStorage",
        "OPTIONS": {
            "host": server.host,
            "params": server.params(),
            "known_host_file": server.known_hosts,
            "root_path": server.root,
            "base_url": "https://media.example.invalid/",
        },
    }
