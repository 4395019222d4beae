"""Demo row for Apache Libcloud: the LOCAL driver on a temporary folder, served over HTTP."""

from __future__ import annotations

import contextlib
import os
import tempfile
from typing import Any

PROVIDER = "libcloud"
#: The folder is served by shared.testservers.libcloud.folder_server: url() can be fetched.
serves_urls = True


def start(stack: contextlib.ExitStack) -> dict[str, Any]:
    """Create the folder and its web server (removed when ``stack`` closes); return the entry."""
    from shared.testservers.libcloud import folder_server

    root = stack.enter_context(tempfile.TemporaryDirectory(prefix="storages-demo-libcloud-"))
    os.mkdir(os.path.join(root, "media"))
    base = stack.enter_context(folder_server(root))
    return {
        "BACKEND": "storages.backends.apache_libcloud.LibCloudStorage",
        "OPTIONS": {
            "providers": {
                "local": {"type": "libcloud.storage.types.Provider.LOCAL", "user": root, "bucket": "media"}
            },
            "provider_name": "local",
            "base_url": f"{base}/media",
        },
    }
