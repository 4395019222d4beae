"""Fixtures: one GCS emulator (fake-gcs-server, real HTTP on 127.0.0.1) per session, a fresh
bucket per test, anonymous credentials for requests and a throwaway service-account key for
signing."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from google.auth.credentials import AnonymousCredentials, Signing

# Keep google-auth away from the developer's credentials and any configured emulator.
for _variable in ("GOOGLE_APPLICATION_CREDENTIALS", "STORAGE_EMULATOR_HOST", "GOOGLE_CLOUD_PROJECT"):
    os.environ.pop(_variable, None)
os.environ["GCE_METADATA_HOST"] = "127.0.0.1:9"  # never wait for a metadata server
os.environ["CLOUDSDK_CONFIG"] = os.devnull

from storages.testing import configure_django  # noqa: E402

# The repository root holds the shared test-server helpers (``shared.testservers``).
sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from shared.testservers import serve  # noqa: E402
from shared.testservers.gcs import GCSServer, gcs_server  # noqa: E402

configure_django()


@pytest.fixture(scope="session")
def server() -> Iterator[GCSServer]:
    yield from serve(gcs_server())


@pytest.fixture
def bucket_name(server: GCSServer) -> str:
    """A new, empty bucket on the emulator."""
    return server.create_bucket()


@pytest.fixture(scope="session")
def service_account_info() -> dict[str, str]:
    """A throwaway service-account key, made here (nothing real signs with it)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return {
        "type": "service_account",
        "project_id": "test-project",
        "private_key_id": "0123456789abcdef",
        "private_key": pem,
        "client_email": "storages-test@test-project.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": "http://127.0.0.1:9/token",  # never reached: requests use anonymous credentials
    }


@pytest.fixture(scope="session")
def service_account_credentials(service_account_info: dict[str, str]) -> Any:
    from google.oauth2 import service_account

    return service_account.Credentials.from_service_account_info(service_account_info)


class SigningAnonymousCredentials(AnonymousCredentials, Signing):  # type: ignore[misc]
    """Anonymous for requests (the emulator takes any; a service account would try to refresh
    its token), and a signer with the throwaway service-account key for URLs."""

    def __init__(self, signer_credentials: Any) -> None:
        super().__init__()
        self._signer_credentials = signer_credentials

    def sign_bytes(self, message: bytes) -> bytes:
        return bytes(self._signer_credentials.sign_bytes(message))

    @property
    def signer_email(self) -> str:
        return str(self._signer_credentials.signer_email)

    @property
    def signer(self) -> Any:
        return self._signer_credentials.signer


@pytest.fixture
def anonymous() -> Any:
    from google.auth.credentials import AnonymousCredentials

    return AnonymousCredentials()


@pytest.fixture
def make_storage(server: GCSServer, bucket_name: str) -> Callable[..., Any]:
    """Build a storage class (GoogleCloudStorage by default) on the test bucket."""

    def make(cls: Any = None, **options: Any) -> Any:
        from google.auth.credentials import AnonymousCredentials

        from storages.backends.gcloud import GoogleCloudStorage

        options.setdefault("api_endpoint", server.url)
        options.setdefault("bucket_name", bucket_name)
        options.setdefault("project_id", "test")
        options.setdefault("retry", 0)
        options.setdefault("timeout", 30)
        if "credentials" not in options:
            options["credentials"] = AnonymousCredentials()
        return (cls or GoogleCloudStorage)(**options)

    return make


@dataclass
class Request:
    method: str
    url: str
    headers: dict[str, str]
    thread: str = ""


@dataclass
class RequestLog:
    """Every HTTP request a storage's session sends."""

    requests: list[Request] = field(default_factory=list)

    @property
    def methods(self) -> list[str]:
        return [
            f"{r.method} {r.url.split('?')[0].split('/storage/v1/')[0].rsplit('/', 1)[-1] or r.url}"
            for r in self.requests
        ]

    def __len__(self) -> int:
        return len(self.requests)

    def clear(self) -> None:
        self.requests.clear()


@pytest.fixture
def count_requests() -> Iterator[Callable[[Any], RequestLog]]:
    """``log = count_requests(storage)``: record the requests of the storage's HTTP session."""
    patched: list[tuple[Any, Any]] = []

    def start(storage: Any) -> RequestLog:
        log = RequestLog()
        session = storage.http
        original = session.request

        def request(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            headers = {k: str(v) for k, v in (kwargs.get("headers") or {}).items()}
            log.requests.append(Request(method.upper(), url, headers, threading.current_thread().name))
            return original(method, url, *args, **kwargs)

        session.request = request
        patched.append((session, original))
        return log

    yield start
    for session, original in patched:
        session.request = original
