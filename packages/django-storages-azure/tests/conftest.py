"""Fixtures: one Azurite Blob service (real HTTP on 127.0.0.1) per session, a new container per test."""

from __future__ import annotations

import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from storages.testing import configure_django

# The repository root holds the shared test-server helpers (``shared.testservers``).
sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from shared.testservers import serve
from shared.testservers.azurite import AzuriteServer, azurite_server

configure_django()


@pytest.fixture(scope="session")
def azurite() -> Iterator[AzuriteServer]:
    yield from serve(azurite_server())


def _service(server: AzuriteServer) -> Any:
    from azure.storage.blob import BlobServiceClient

    return BlobServiceClient.from_connection_string(server.connection_string)


@pytest.fixture
def container_name(azurite: AzuriteServer) -> str:
    """A new, empty, private container."""
    name = f"test-{uuid.uuid4().hex[:20]}"
    _service(azurite).create_container(name)
    return name


@pytest.fixture
def public_container_name(azurite: AzuriteServer) -> str:
    """A new, empty container whose blobs anyone may read (unsigned URLs work)."""
    name = f"public-{uuid.uuid4().hex[:20]}"
    _service(azurite).create_container(name, public_access="blob")
    return name


@pytest.fixture
def raw_container(azurite: AzuriteServer) -> Callable[[str], Any]:
    """``raw_container(name)``: a ContainerClient of the raw SDK, behind the storage's back."""
    return lambda name: _service(azurite).get_container_client(name)


@pytest.fixture
def make_storage(azurite: AzuriteServer, container_name: str) -> Callable[..., Any]:
    """Build a storage (AzureStorage by default) on the test container, by connection string."""

    def make(cls: Any = None, **options: Any) -> Any:
        from storages.backends.azure_storage import AzureStorage

        options.setdefault("connection_string", azurite.connection_string)
        options.setdefault("azure_container", container_name)
        return (cls or AzureStorage)(**options)

    return make


@dataclass
class Request:
    method: str
    url: str
    headers: dict[str, str]
    thread: str = ""

    @property
    def query(self) -> str:
        return self.url.split("?", 1)[1] if "?" in self.url else ""


@dataclass
class RequestLog:
    """Every HTTP request a storage's client sends (an azure-core ``raw_request_hook``)."""

    requests: list[Request] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, pipeline_request: Any) -> None:
        http = pipeline_request.http_request
        request = Request(http.method, http.url, dict(http.headers), threading.current_thread().name)
        with self._lock:
            self.requests.append(request)

    def __len__(self) -> int:
        return len(self.requests)

    def __bool__(self) -> bool:
        return True  # azure-core skips a falsy hook: an empty log must still be called

    def clear(self) -> None:
        self.requests.clear()

    @property
    def summary(self) -> list[str]:
        """``METHOD comp`` per request, e.g. ``PUT block``, ``GET list``, ``HEAD``."""
        result = []
        for r in self.requests:
            comp = [p.split("=", 1)[1] for p in r.query.split("&") if p.startswith("comp=")]
            result.append(f"{r.method} {comp[0]}" if comp else r.method)
        return result


@pytest.fixture
def logged_storage(make_storage: Callable[..., Any]) -> Callable[..., tuple[Any, RequestLog]]:
    """``storage, log = logged_storage(**options)``: a storage whose requests are recorded."""

    def make(cls: Any = None, **options: Any) -> tuple[Any, RequestLog]:
        log = RequestLog()
        client_options = dict(options.pop("client_options", {}))
        client_options["raw_request_hook"] = log
        return make_storage(cls, client_options=client_options, **options), log

    return make
