"""The Google Cloud Storage row of the demo: fake-gcs-server on 127.0.0.1, started and stopped
by the demo."""

from __future__ import annotations

import contextlib
from typing import Any

from shared.testservers.gcs import gcs_server

PROVIDER = "gcs"
serves_urls = True


def start(stack: contextlib.ExitStack) -> dict[str, Any]:
    """Start the emulator, create a bucket, and return the ``STORAGES`` entry for it."""
    from google.auth.credentials import AnonymousCredentials

    server = stack.enter_context(gcs_server())
    return {
        "BACKEND": "storages.backends.gcloud.GoogleCloudStorage",
        "OPTIONS": {
            "bucket_name": server.create_bucket(),
            "api_endpoint": server.url,
            "project_id": "demo",
            # The emulator takes any request: anonymous credentials never refresh a token.
            "credentials": AnonymousCredentials(),
            # Public URLs (the emulator serves them); signing needs a service-account key.
            "querystring_auth": False,
        },
    }
