"""Faults: a stalled, cut, restarted or black-holed server (shared/testservers/proxy.py), wrong
credentials, an unreachable host, and 16 threads on one storage. Times are upper bounds only:
a call must raise within the timeout plus 2 s."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.files.base import ContentFile

from shared.testservers import free_port
from shared.testservers.azurite import AzuriteServer
from shared.testservers.proxy import CuttableProxy, cuttable_proxy
from storages.backends.azure_storage import AzureStorage, AzureStorageFile
from storages.testing import mixed_work

TIMEOUT = 2


@pytest.fixture
def proxy(azurite: AzuriteServer) -> Iterator[CuttableProxy]:
    with cuttable_proxy(azurite.port) as proxy:
        yield proxy


@pytest.fixture
def proxied(azurite: AzuriteServer, proxy: CuttableProxy, container_name: str) -> AzureStorage:
    """A storage that reaches Azurite through the proxy, with a 2 s timeout."""
    return AzureStorage(
        connection_string=azurite.connection_string_for(proxy.port),
        azure_container=container_name,
        timeout=TIMEOUT,
        overwrite_files=True,
    )


@pytest.fixture
def direct(make_storage: Callable[..., Any]) -> AzureStorage:
    return make_storage(overwrite_files=True)  # type: ignore[no-any-return]


def uncommitted(storage: AzureStorage, name: str) -> list[Any]:
    from azure.core.exceptions import ResourceNotFoundError

    try:
        return list(storage.client.get_blob_client(name).get_block_list("uncommitted")[1])
    except ResourceNotFoundError:
        return []


def test_stalled_download_raises_within_the_timeout(
    direct: AzureStorage, proxied: AzureStorage, proxy: CuttableProxy
) -> None:
    direct.save("big.bin", ContentFile(os.urandom(3 * AzureStorageFile.read_range_size)))
    with proxied.open("big.bin") as f:
        assert len(f.read(1024)) == 1024
        proxy.stall()
        started = time.monotonic()
        with pytest.raises(Exception) as info:
            while f.read(1024 * 1024):
                pass
    assert time.monotonic() - started < TIMEOUT + 2
    assert "timed out" in str(info.value).lower() or "timeout" in type(info.value).__name__.lower()


def test_stalled_upload_raises_within_the_timeout_and_publishes_nothing(
    direct: AzureStorage, proxied: AzureStorage, proxy: CuttableProxy
) -> None:
    direct.save("kept.bin", ContentFile(b"previous"))
    block = AzureStorageFile.part_size
    started = 0.0
    with pytest.raises(Exception), proxied.open("kept.bin", "wb") as f:
        f.write(os.urandom(block))
        proxy.stall()
        started = time.monotonic()
        for _ in range(4):
            f.write(os.urandom(block))
    assert time.monotonic() - started < TIMEOUT + 2, "the abort must not wait on the stalled connection"
    proxy.resume()
    with direct.open("kept.bin") as f:
        assert f.read() == b"previous"


def test_link_cut_mid_upload_leaves_nothing(
    direct: AzureStorage, proxied: AzureStorage, proxy: CuttableProxy
) -> None:
    block = AzureStorageFile.part_size
    with pytest.raises(Exception), proxied.open("cut/new.bin", "wb") as f:
        f.write(os.urandom(2 * block))
        proxy.go_down()
        for _ in range(4):
            f.write(os.urandom(block))
    proxy.come_back()
    assert not direct.exists("cut/new.bin")
    assert direct.listdir("cut") == ([], [])
    # The blocks staged before the cut could not be dropped while the server was away; the
    # next write under the name discards them.
    direct.save("cut/new.bin", ContentFile(b"after the cut"))
    assert uncommitted(direct, "cut/new.bin") == []
    with direct.open("cut/new.bin") as f:
        assert f.read() == b"after the cut"


def test_link_cut_mid_overwrite_keeps_the_previous_version(
    direct: AzureStorage, proxied: AzureStorage, proxy: CuttableProxy
) -> None:
    direct.save("prev.bin", ContentFile(b"previous version"))
    with pytest.raises(Exception), proxied.open("prev.bin", "wb") as f:
        f.write(os.urandom(AzureStorageFile.part_size))
        proxy.cut()
        f.write(os.urandom(AzureStorageFile.part_size))
    with direct.open("prev.bin") as f:
        assert f.read() == b"previous version"


def test_same_instance_works_after_the_server_restarts(
    azurite: AzuriteServer, make_storage: Callable[..., Any]
) -> None:
    storage = make_storage(overwrite_files=True, timeout=TIMEOUT)
    storage.save("restart.txt", ContentFile(b"before"))
    azurite.restart()
    assert storage.exists("restart.txt")
    storage.save("restart.txt", ContentFile(b"after"))
    with storage.open("restart.txt") as f:
        assert f.read() == b"after"


def test_silently_dropped_idle_connection_is_replaced_without_a_stall(
    azurite: AzuriteServer, proxy: CuttableProxy, container_name: str
) -> None:
    storage = AzureStorage(
        connection_string=azurite.connection_string_for(proxy.port),
        azure_container=container_name,
        timeout=10,
    )
    storage.max_idle_seconds = 0.5  # type: ignore[misc]  # instead of waiting 50 s
    assert storage.exists("x.txt") is False
    accepted = proxy.connections_accepted
    proxy.drop_silently()
    time.sleep(0.6)
    started = time.monotonic()
    assert storage.exists("x.txt") is False
    assert time.monotonic() - started < 2, "the dropped connection was used and waited on"
    assert proxy.connections_accepted == accepted + 1


def test_idle_connections_are_reused_below_the_limit(
    azurite: AzuriteServer, proxy: CuttableProxy, container_name: str
) -> None:
    storage = AzureStorage(
        connection_string=azurite.connection_string_for(proxy.port), azure_container=container_name
    )
    for _ in range(5):
        storage.exists("x.txt")
    assert proxy.connections_accepted == 1


def test_wrong_key_is_a_clear_error_without_the_key(azurite: AzuriteServer, container_name: str) -> None:
    from azure.core.exceptions import HttpResponseError

    wrong = "d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXktd3Jvbmcta2V5"
    connection_string = azurite.connection_string.replace(azurite.account_key, wrong)
    storage = AzureStorage(
        connection_string=connection_string, azure_container=container_name, timeout=TIMEOUT
    )
    started = time.monotonic()
    # Azure answers AuthenticationFailed (ClientAuthenticationError), Azurite AuthorizationFailure.
    with pytest.raises(HttpResponseError) as info:
        storage.exists("x.txt")
    assert time.monotonic() - started < TIMEOUT + 2
    assert info.value.status_code == 403
    assert "authenticate" in str(info.value)
    assert wrong not in str(info.value)
    assert wrong not in repr(storage)


def test_unreachable_host_fails_within_the_timeout(container_name: str) -> None:
    from azure.core.exceptions import ServiceRequestError

    port = free_port()  # nothing listens there
    storage = AzureStorage(
        connection_string=f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;"
        f"BlobEndpoint=http://127.0.0.1:{port}/devstoreaccount1;",
        azure_container=container_name,
        timeout=TIMEOUT,
    )
    started = time.monotonic()
    with pytest.raises(ServiceRequestError) as info:
        storage.save("x.txt", ContentFile(b"x"))
    assert time.monotonic() - started < TIMEOUT + 2
    assert "a2V5" not in str(info.value)


def test_client_options_apply_with_a_connection_string(
    azurite: AzuriteServer, proxy: CuttableProxy, container_name: str
) -> None:
    # The original ignored client_options with a connection string: a stalled endpoint then
    # waited for the SDK's default timeouts and retries.
    storage = AzureStorage(
        connection_string=azurite.connection_string_for(proxy.port),
        azure_container=container_name,
        client_options={"read_timeout": 1, "retry_total": 0},
    )
    storage.exists("warm-up.txt")
    proxy.stall()
    started = time.monotonic()
    with pytest.raises(Exception):
        storage.exists("x.txt")
    assert time.monotonic() - started < 1 + 2


def test_16_threads_for_10_seconds(azurite: AzuriteServer, proxy: CuttableProxy, container_name: str) -> None:
    storage = AzureStorage(
        connection_string=azurite.connection_string_for(proxy.port),
        azure_container=container_name,
        overwrite_files=True,
    )
    assert mixed_work(storage, f"mixed-{uuid.uuid4().hex[:6]}", seconds=10) > 16
    assert proxy.connections_accepted <= AzureStorage.max_pool_connections
