"""Fixtures: one moto S3 server (real HTTP on 127.0.0.1) for the session, a fresh bucket per test."""

from __future__ import annotations

import os
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

# Keep boto3 away from the developer's AWS configuration and credentials.
os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
for _variable in (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_S3_ACCESS_KEY_ID",
    "AWS_S3_SECRET_ACCESS_KEY",
    "AWS_PROFILE",
    "AWS_DEFAULT_REGION",
):
    os.environ.pop(_variable, None)

from storages.testing import configure_django  # noqa: E402

# The repository root holds the shared test-server helpers (``shared.testservers``).
sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from shared.testservers import serve  # noqa: E402
from shared.testservers.moto import MOTO_CREDENTIALS, moto_server  # noqa: E402

configure_django()


@pytest.fixture(scope="session")
def endpoint_url() -> Iterator[str]:
    yield from serve(moto_server())


@pytest.fixture
def bucket_name(endpoint_url: str) -> str:
    """A new, empty bucket on the server."""
    import boto3

    name = f"test-{uuid.uuid4().hex[:20]}"
    client = boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )
    client.create_bucket(Bucket=name)
    return name


@pytest.fixture
def raw(endpoint_url: str) -> Any:
    """A boto3 client of its own, for changes made behind the storage's back."""
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )


@pytest.fixture
def make_storage(endpoint_url: str, bucket_name: str) -> Callable[..., Any]:
    """Build a storage class (S3Storage by default) on the test bucket."""

    def make(cls: Any = None, **options: Any) -> Any:
        from storages.backends.s3 import S3Storage

        for key, value in MOTO_CREDENTIALS.items():
            options.setdefault(key, value)
        options.setdefault("endpoint_url", endpoint_url)
        options.setdefault("bucket_name", bucket_name)
        return (cls or S3Storage)(**options)

    return make


@dataclass
class Request:
    operation: str
    method: str
    url: str
    headers: dict[str, str]
    thread: str = ""


@dataclass
class RequestLog:
    """Every HTTP request a client sends, recorded by a botocore ``before-send`` hook."""

    requests: list[Request] = field(default_factory=list)

    def __call__(self, request: Any, event_name: str = "", **kwargs: Any) -> None:
        operation = event_name.rsplit(".", 1)[-1]
        headers = {k: v.decode() if isinstance(v, bytes) else str(v) for k, v in request.headers.items()}
        thread = threading.current_thread().name
        self.requests.append(Request(operation, request.method, request.url, headers, thread))

    @property
    def operations(self) -> list[str]:
        return [r.operation for r in self.requests]

    def __len__(self) -> int:
        return len(self.requests)

    def clear(self) -> None:
        self.requests.clear()


@pytest.fixture
def count_requests() -> Iterator[Callable[[Any], RequestLog]]:
    """``log = count_requests(storage)``: record the requests of the storage's client."""
    registered: list[tuple[Any, RequestLog]] = []

    def start(storage: Any) -> RequestLog:
        log = RequestLog()
        storage.client.meta.events.register("before-send.s3", log)
        registered.append((storage.client, log))
        return log

    yield start
    for client, log in registered:
        client.meta.events.unregister("before-send.s3", log)
