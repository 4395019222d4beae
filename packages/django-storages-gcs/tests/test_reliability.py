"""Timeouts, retries, cut links, restarts, threads and bad credentials against the emulator."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from django.core.files.base import ContentFile

from shared.testservers import free_port, serve
from shared.testservers.gcs import GCSServer, gcs_server
from storages.testing import mixed_work

from .faults import FaultProxy

MiB = 1024 * 1024
TIMEOUT = 2


@pytest.fixture
def proxy(server: GCSServer) -> Iterator[FaultProxy]:
    proxy = FaultProxy(server.port)
    yield proxy
    proxy.close()


@pytest.fixture
def proxied(make_storage: Callable[..., Any], proxy: FaultProxy) -> Any:
    return make_storage(api_endpoint=proxy.url, timeout=TIMEOUT, retry=0, blob_chunk_size=MiB)


def finishes_within(seconds: float, call: Callable[[], Any]) -> BaseException | None:
    """Run ``call`` on a thread; assert it ended within ``seconds``; return what it raised."""
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            call()
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 - returned to the test
            outcome.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"still waiting after {seconds} s"
    return outcome[0]


def test_stalled_download_raises_within_the_timeout(
    make_storage: Callable[..., Any], proxied: Any, proxy: FaultProxy
) -> None:
    make_storage().save("big.bin", ContentFile(os.urandom(48 * MiB)))
    f = proxied.open("big.bin")
    try:
        assert len(f.read(MiB)) == MiB
        proxy.stall()
        error = finishes_within(TIMEOUT + 2, f.read)
        assert error is not None
    finally:
        f.abort()


def test_stalled_upload_raises_within_the_timeout_cleanup_included(
    make_storage: Callable[..., Any], proxied: Any, proxy: FaultProxy
) -> None:
    make_storage().save("doc.bin", ContentFile(b"previous"))

    def upload() -> None:
        with proxied.open("doc.bin", "wb") as f:
            f.write(os.urandom(2 * MiB))  # two chunks sent
            proxy.stall()
            for _ in range(32):
                f.write(os.urandom(MiB))

    error = finishes_within(TIMEOUT + 2, upload)
    assert error is not None
    with make_storage().open("doc.bin") as f:
        assert f.read() == b"previous"
    # The cancel could not reach the stalled server: it is sent with the next upload.
    assert len(proxied._pending_cancels) == 1


def test_pending_cancel_is_sent_when_the_server_is_back(
    make_storage: Callable[..., Any], count_requests: Any
) -> None:
    storage = make_storage(blob_chunk_size=256 * 1024)
    f = storage.open("a.bin", "wb")
    f.write(os.urandom(300 * 1024))
    session = f._session_url
    f.abort()
    storage._pending_cancels.append(session)  # as if the cancel had failed
    log = count_requests(storage)
    storage.save("b.bin", ContentFile(os.urandom(300 * 1024)))
    assert [r.method for r in log.requests][:1] == ["DELETE"]
    assert storage._pending_cancels == []


def test_link_cut_mid_upload_leaves_nothing_and_keeps_previous(
    make_storage: Callable[..., Any], proxied: Any, proxy: FaultProxy
) -> None:
    direct = make_storage()
    direct.save("kept.bin", ContentFile(b"previous"))
    with pytest.raises(Exception), proxied.open("kept.bin", "wb") as f:
        f.write(os.urandom(2 * MiB))
        proxy.cut()
        for _ in range(8):
            f.write(os.urandom(MiB))
    with direct.open("kept.bin") as f:
        assert f.read() == b"previous"
    with pytest.raises(Exception), proxied.open("new.bin", "wb") as f:
        f.write(os.urandom(2 * MiB))
    assert not direct.exists("new.bin")
    assert direct.listdir("") == ([], ["kept.bin"])


def test_refused_connection_fails_at_once_without_retry(
    make_storage: Callable[..., Any], count_requests: Any
) -> None:
    storage = make_storage(api_endpoint=f"http://127.0.0.1:{free_port()}", retry=0)
    log = count_requests(storage)
    with pytest.raises(requests.exceptions.ConnectionError):
        storage.exists("a.txt")
    assert len(log) == 1


def test_refused_connection_is_retried_within_the_retry_budget(
    make_storage: Callable[..., Any], count_requests: Any
) -> None:
    from google.api_core.exceptions import RetryError

    storage = make_storage(api_endpoint=f"http://127.0.0.1:{free_port()}", retry=1.5)
    log = count_requests(storage)
    with pytest.raises(RetryError, match="Connection refused"):
        storage.exists("a.txt")
    assert len(log) > 1


def test_timeouts_are_not_retried(
    make_storage: Callable[..., Any], proxy: FaultProxy, count_requests: Any
) -> None:
    storage = make_storage(api_endpoint=proxy.url, timeout=1, retry=30)
    proxy.stall()
    log = count_requests(storage)
    error = finishes_within(1 + 2, lambda: storage.exists("a.txt"))
    assert isinstance(error, requests.exceptions.Timeout)
    assert len(log) == 1


def test_same_instance_works_after_a_server_restart(anonymous: Any) -> None:
    from storages.backends.gcloud import GoogleCloudStorage

    for server in serve(gcs_server()):
        bucket = server.create_bucket()
        storage = GoogleCloudStorage(
            bucket_name=bucket, api_endpoint=server.url, credentials=anonymous, retry=0, timeout=10
        )
        storage.save("before.txt", ContentFile(b"1"))
        assert storage.exists("before.txt")  # a pooled keep-alive connection now exists
        server.restart()
        # The pooled connection died with the server: noticed, replaced, no stall, no retry.
        assert storage.exists("before.txt")
        storage.save("after.txt", ContentFile(b"2"))
        assert sorted(storage.listdir("")[1]) == ["after.txt", "before.txt"]


def test_wrong_credentials_give_a_clear_error_without_the_key(
    make_storage: Callable[..., Any], service_account_credentials: Any, service_account_info: dict[str, str]
) -> None:
    # A service-account key whose token endpoint refuses: the refresh fails.
    storage = make_storage(credentials=service_account_credentials, timeout=TIMEOUT)
    error = finishes_within(TIMEOUT + 10, lambda: storage.exists("a.txt"))
    assert error is not None
    text = f"{error!r} {error}"
    assert "PRIVATE KEY" not in text
    assert service_account_info["private_key"][40:80] not in text


def test_sixteen_threads_mixed_work_for_ten_seconds(make_storage: Callable[..., Any]) -> None:
    storage = make_storage(querystring_auth=False)
    assert mixed_work(storage, "mixed", seconds=10) > 16
    pool = storage.http.get_adapter(storage.api_base).poolmanager
    assert all(len(p.pool.queue) <= 32 for p in pool.pools._container.values())
