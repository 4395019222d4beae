"""Demo row for Dropbox: the repository's fake of the Dropbox API v2, over HTTPS on 127.0.0.1."""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Any

PROVIDER = "dropbox"
#: url() gives a temporary link on the fake's self-signed HTTPS port, which urllib (without the
#: fake's certificate) does not trust: the demo prints it without fetching it.
serves_urls = False


def start(stack: contextlib.ExitStack) -> dict[str, Any]:
    """Start the fake (stopped when ``stack`` closes) and return the ``STORAGES`` entry for it."""
    from shared.testservers.dropbox import dropbox_fake, reserve_listener, sdk_environment

    listener = reserve_listener()
    environment = sdk_environment(listener)
    imported = sys.modules.get("dropbox.session")
    if imported is not None and environment["DROPBOX_API_HOST"] != imported.API_HOST:
        raise RuntimeError("the dropbox SDK was imported before the demo could point it at the fake")
    # The SDK reads its hosts once, when it is imported: this process is the demo's own.
    os.environ.update(environment)
    fake = stack.enter_context(dropbox_fake(listener))
    return {
        "BACKEND": "storages.backends.dropbox.DropboxStorage",
        "OPTIONS": {
            "app_key": fake.app_key,
            "app_secret": fake.app_secret,
            "oauth2_refresh_token": fake.refresh_token,
            "root_path": "/demo",
            "ca_certs": fake.ca_path,
            "timeout": 10,
        },
    }
