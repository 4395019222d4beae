"""Demo row for Azure Blob Storage: Azurite on 127.0.0.1 (from npm), reached by connection string."""

from __future__ import annotations

import contextlib
import uuid
from typing import Any

PROVIDER = "azure"
#: Azurite serves the SAS URLs that url() signs.
serves_urls = True


def start(stack: contextlib.ExitStack) -> dict[str, Any]:
    """Start Azurite (stopped when ``stack`` closes), create a container, return the entry."""
    from azure.storage.blob import BlobServiceClient

    from shared.testservers.azurite import azurite_server

    server = stack.enter_context(azurite_server())
    container = f"demo-{uuid.uuid4().hex[:12]}"
    BlobServiceClient.from_connection_string(server.connection_string).create_container(container)
    return {
        "BACKEND": "storages.backends.azure_storage.AzureStorage",
        "OPTIONS": {
            "connection_string": server.connection_string,
            "azure_container": container,
            "expiration_secs": 300,
        },
    }
