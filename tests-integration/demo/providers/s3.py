"""The S3 row of the demo: moto's S3 server on 127.0.0.1, started and stopped by the demo."""

from __future__ import annotations

import contextlib
import uuid
from typing import Any

from shared.testservers.moto import MOTO_CREDENTIALS, moto_server

PROVIDER = "s3"
serves_urls = True


def start(stack: contextlib.ExitStack) -> dict[str, Any]:
    """Start moto, create a bucket, and return the ``STORAGES`` entry for it."""
    import boto3

    endpoint_url = stack.enter_context(moto_server())
    bucket = f"demo-{uuid.uuid4().hex[:12]}"
    boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        aws_access_key_id=MOTO_CREDENTIALS["access_key"],
        aws_secret_access_key=MOTO_CREDENTIALS["secret_key"],
        region_name=MOTO_CREDENTIALS["region_name"],
    ).create_bucket(Bucket=bucket)
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {**MOTO_CREDENTIALS, "endpoint_url": endpoint_url, "bucket_name": bucket},
    }
