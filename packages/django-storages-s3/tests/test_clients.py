"""Shared clients: one per configuration, equal configurations share it, the cache is bounded."""

from __future__ import annotations

import gc
import tracemalloc
from typing import Any

import pytest
from botocore.config import Config
from django.core.files.base import ContentFile

from storages.backends.s3 import storage as storage_module


@pytest.fixture(autouse=True)
def fresh_clients() -> None:
    storage_module.clear_clients()


def test_equal_client_configs_share_one_client(make_storage: Any) -> None:
    one = make_storage(client_config=Config(retries={"max_attempts": 3}, connect_timeout=5))
    two = make_storage(client_config=Config(connect_timeout=5, retries={"max_attempts": 3}))
    assert one.client is two.client
    other = make_storage(client_config=Config(connect_timeout=6, retries={"max_attempts": 3}))
    assert other.client is not one.client


def test_200_instances_with_a_client_config_stay_flat(make_storage: Any) -> None:
    # The 1.x pattern that grew memory by gigabytes: a Config built for every storage instance.
    def build() -> Any:
        storage = make_storage(client_config=Config(retries={"max_attempts": 2}, read_timeout=30))
        return storage.client

    first = build()
    for _ in range(19):
        build()
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        clients = {id(build()) for _ in range(180)}
        gc.collect()
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    growth = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    assert clients == {id(first)}
    assert len(storage_module._clients) == 1
    # One botocore client is several MB; 180 storages without one are a few hundred KB.
    assert growth < 2 * 1024 * 1024, f"grew by {growth / 1e6:.1f} MB"


def test_distinct_configurations_keep_a_bounded_number_of_clients(
    make_storage: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(storage_module, "MAX_SHARED_CLIENTS", 3)
    storages = [make_storage(client_config=Config(connect_timeout=index + 1)) for index in range(8)]
    for storage in storages:
        assert storage.client is not None
    assert len(storage_module._clients) == 3
    # An evicted configuration still works with the client its storages hold.
    storages[0].save("evicted.txt", ContentFile(b"ok"))
    assert storages[0].exists("evicted.txt")
