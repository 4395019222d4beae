"""Fixtures: a LOCAL folder (served over HTTP for URLs), moto's S3 server and Azurite, all on
127.0.0.1, and a fresh container per test."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from storages.testing import configure_django

# The repository root holds the shared test-server helpers (``shared.testservers``).
sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from shared.testservers import serve
from shared.testservers.libcloud import folder_server
from shared.testservers.moto import moto_server

configure_django()

LOCAL = "libcloud.storage.types.Provider.LOCAL"
S3 = "libcloud.storage.types.Provider.S3"
AZURE = "libcloud.storage.types.Provider.AZURE_BLOBS"
#: moto takes any credentials; this one is long enough for the kit's secret checks.
S3_SECRET = "moto-secret-access-key"


@pytest.fixture(scope="session")
def local_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("libcloud-local")


@pytest.fixture(scope="session")
def local_base_url(local_root: Path) -> Iterator[str]:
    with folder_server(str(local_root)) as base:
        yield base


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    yield from serve(moto_server())


@pytest.fixture(scope="session")
def azurite() -> Iterator[Any]:
    from shared.testservers.azurite import azurite_server

    yield from serve(azurite_server())


def _container_name() -> str:
    return f"test-{uuid.uuid4().hex[:20]}"


@pytest.fixture
def local_entry(local_root: Path) -> dict[str, Any]:
    bucket = _container_name()
    os.mkdir(local_root / bucket)
    return {"type": LOCAL, "user": str(local_root), "bucket": bucket}


@pytest.fixture
def s3_entry(moto_endpoint: str) -> dict[str, Any]:
    from libcloud.storage.drivers.s3 import S3StorageDriver

    port = int(moto_endpoint.rsplit(":", 1)[1])
    entry = {
        "type": S3,
        "user": "moto-access-key",
        "key": S3_SECRET,
        "bucket": _container_name(),
        "host": "127.0.0.1",
        "port": port,
        "secure": False,
        "region": "us-east-1",
    }
    S3StorageDriver("moto-access-key", S3_SECRET, host="127.0.0.1", port=port, secure=False).create_container(
        entry["bucket"]
    )
    return entry


@pytest.fixture
def azure_entry(azurite: Any) -> dict[str, Any]:
    from libcloud.storage.drivers.azure_blobs import AzureBlobsStorageDriver

    entry = {
        "type": AZURE,
        "user": azurite.account_name,
        "key": azurite.account_key,
        "bucket": _container_name(),
        "host": "127.0.0.1",
        "port": azurite.port,
        "secure": False,
    }
    AzureBlobsStorageDriver(
        azurite.account_name, azurite.account_key, host="127.0.0.1", port=azurite.port, secure=False
    ).create_container(entry["bucket"])
    return entry


@pytest.fixture
def make_storage() -> Callable[..., Any]:
    """``make_storage(entry, **options)``: a storage whose LIBCLOUD_PROVIDERS is {"default": entry}."""

    def make(entry: dict[str, Any], **options: Any) -> Any:
        from storages.backends.apache_libcloud import LibCloudStorage

        options.setdefault("providers", {"default": entry})
        return LibCloudStorage(**options)

    return make
