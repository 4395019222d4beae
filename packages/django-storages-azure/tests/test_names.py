"""Blob names: Azure's limits refused before any request, dots kept, listdir relative and scoped."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.base import ContentFile

from storages.backends.azure_storage import AzureStorage


@pytest.mark.parametrize("name", [".env", "folder/.hidden", "..double", "a..b.txt", "x/.well-known/y"])
def test_dots_are_kept(make_storage: Callable[..., Any], name: str) -> None:
    storage = make_storage(overwrite_files=True)
    assert storage.save(name, ContentFile(b"dots")) == name
    assert storage.client.get_blob_client(name).exists()
    with storage.open(name) as f:
        assert f.read() == b"dots"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("file.", "end with a dot"),
        ("folder/file...", "end with a dot"),
        ("folder/", "folder"),
        ("x" * 1025, "1024"),
        ("/".join(["s"] * 255), "254"),
    ],
    ids=["trailing-dot", "trailing-dots", "trailing-slash", "too-long", "too-many-segments"],
)
def test_what_azure_forbids_is_refused_before_any_request(
    logged_storage: Callable[..., Any], name: str, message: str
) -> None:
    storage, log = logged_storage(overwrite_files=True)
    calls: list[Callable[[], Any]] = [
        lambda: storage.save(name, ContentFile(b"x")),
        lambda: storage.open(name, "wb"),
        lambda: storage.exists(name),
        lambda: storage.size(name),
        lambda: storage.url(name),
    ]
    for call in calls:
        with pytest.raises(SuspiciousFileOperation, match=message):
            call()
    assert len(log) == 0


def test_limits_count_the_location() -> None:
    storage = AzureStorage(account_name="a", azure_container="c", location="media")
    assert storage.get_name_max_len() == 1024 - len("media/")
    storage.url("x" * (1024 - 6))
    with pytest.raises(SuspiciousFileOperation):
        storage.url("x" * (1024 - 5))
    assert len("/".join(["s"] * 253)) < 1024
    storage.url("/".join(["s"] * 253))
    with pytest.raises(SuspiciousFileOperation):
        storage.url("/".join(["s"] * 254))


def test_listdir_nested_relative_and_scoped(make_storage: Callable[..., Any]) -> None:
    outside = make_storage(overwrite_files=True)
    outside.save("elsewhere.txt", ContentFile(b""))
    outside.save("media-other/x.txt", ContentFile(b""))
    storage = make_storage(location="media", overwrite_files=True)
    for name in ("top.txt", "a/b.txt", "a/c/d.txt", "a/c/e f ü.txt", "a/.dot", "z/y/x/w.txt"):
        storage.save(name, ContentFile(b"1"))
    assert sorted(storage.listdir("")[0]) == ["a", "z"]
    assert storage.listdir("")[1] == ["top.txt"]
    assert (sorted(storage.listdir("a")[0]), sorted(storage.listdir("a")[1])) == (["c"], [".dot", "b.txt"])
    assert sorted(storage.listdir("a/c/")[1]) == ["d.txt", "e f ü.txt"]
    assert storage.listdir("z/y") == (["x"], [])
    assert storage.listdir("does-not-exist") == ([], [])


def test_listdir_many_pages_with_nested_prefixes(make_storage: Callable[..., Any]) -> None:
    storage = make_storage(overwrite_files=True)
    storage.list_page_size = 7
    expected_files = {f"f{i:03d}.txt" for i in range(40)}
    expected_dirs = {f"d{i:02d}" for i in range(15)}
    for name in expected_files:
        storage.save(f"root/{name}", ContentFile(b""))
    for folder in expected_dirs:
        storage.save(f"root/{folder}/inner/x.txt", ContentFile(b""))
    dirs, files = storage.listdir("root")
    assert set(dirs) == expected_dirs and len(dirs) == 15
    assert set(files) == expected_files and len(files) == 40


def test_folder_marker_blob_is_not_a_file(
    make_storage: Callable[..., Any], raw_container: Callable[[str], Any]
) -> None:
    storage = make_storage()
    raw_container(storage.azure_container).upload_blob("folder/", b"")
    storage.save("folder/real.txt", ContentFile(b""))
    assert storage.listdir("folder") == ([], ["real.txt"])


def test_root_exists(make_storage: Callable[..., Any]) -> None:
    assert make_storage().exists("") is True
