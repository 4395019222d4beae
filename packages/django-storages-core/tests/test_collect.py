"""The collect scope: one listing inside ``collectstatic``, plain calls everywhere else.

The provider here is the memory store of ``memory_provider`` with every call recorded, so each
test asserts the exact requests a scope makes.
"""

from __future__ import annotations

import datetime
import hashlib
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.test import override_settings
from memory_provider import MemoryStorage

from storages.checks import check_collectstatic_command
from storages.collect import CollectStaticMixin, ListedFile, active_scope, collect_scope, joins_collect_scope
from storages.utils import read_from_start

HERE = __name__

# Objects and calls by bucket name, so that storages built from settings share them.
_OBJECTS: dict[str, dict[str, tuple[bytes, datetime.datetime]]] = {}
_CALLS: dict[str, list[tuple[str, str, int]]] = {}


class RecordingMemoryStorage(MemoryStorage):
    """The memory provider with every question recorded as a request, like a remote store."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.calls = _CALLS.setdefault(self.bucket_name, [])

    # The objects of a bucket are shared by every instance on it, like a server's.
    @property  # type: ignore[override]
    def objects(self) -> dict[str, tuple[bytes, datetime.datetime]]:
        return _OBJECTS.setdefault(str(self.bucket_name), {})

    @objects.setter
    def objects(self, value: Any) -> None:
        """Ignored: the bucket's objects are the shared ones."""

    def exists(self, name: str) -> bool:
        self.calls.append(("exists", self._normalize_name(name), 0))
        return super().exists(name)

    def size(self, name: str) -> int:
        self.calls.append(("size", self._normalize_name(name), 0))
        return super().size(name)

    def get_modified_time(self, name: str) -> datetime.datetime:
        self.calls.append(("mtime", self._normalize_name(name), 0))
        return super().get_modified_time(name)

    def delete(self, name: str) -> None:
        self.calls.append(("delete", self._normalize_name(name), 0))
        super().delete(name)

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        self.calls.append(("listdir", self._normalize_name(path), 0))
        return super().listdir(path)


class ScopedMemoryStorage(CollectStaticMixin, RecordingMemoryStorage):
    """A provider that joins the collect scope: a listing hook and a SHA-256 digest hook."""

    def collect_listing(self) -> Iterator[ListedFile]:
        prefix = self._normalize_name("")
        self.calls.append(("list", prefix, 0))
        for key, (data, modified) in sorted(self.objects.items()):
            if key.startswith(prefix):
                yield ListedFile(key, len(data), modified, hashlib.sha256(data).hexdigest())

    def collect_upload_digest(self, key: str, content: Any) -> str | None:
        return hashlib.sha256(read_from_start(content).read()).hexdigest()


def requests(storage: Any) -> list[tuple[str, str]]:
    """The calls that reach the store (parts of one write are one ``commit``)."""
    return [(kind, key) for kind, key, _ in storage.calls if kind != "part"]


@pytest.fixture
def bucket() -> str:
    return f"bucket-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def storage(bucket: str) -> ScopedMemoryStorage:
    store = ScopedMemoryStorage(bucket_name=bucket, location="static", file_overwrite=True)
    for name in ("a.css", "b.css", "img/c.png"):
        store.save(name, ContentFile(name.encode()))
    store.calls.clear()
    return store


# -- outside a scope: plain -----------------------------------------------------------------


def test_outside_a_scope_every_call_reaches_the_store(storage: ScopedMemoryStorage) -> None:
    assert storage.exists("a.css")
    assert storage.size("a.css") == 5
    storage.get_modified_time("a.css")
    storage.delete("a.css")
    assert not storage.exists("a.css")
    assert requests(storage) == [
        ("exists", "static/a.css"),
        ("size", "static/a.css"),
        ("mtime", "static/a.css"),
        ("delete", "static/a.css"),
        ("exists", "static/a.css"),
    ]
    assert "static/a.css" not in storage.objects


def test_after_a_scope_closes_calls_are_plain_again(storage: ScopedMemoryStorage) -> None:
    with collect_scope(storage):
        assert storage.exists("a.css")
    storage.calls.clear()
    assert storage.exists("a.css")
    assert requests(storage) == [("exists", "static/a.css")]
    assert active_scope(storage) is None


# -- inside a scope: one listing ------------------------------------------------------------


def test_questions_inside_a_scope_cost_one_listing(storage: ScopedMemoryStorage) -> None:
    with collect_scope(storage):
        assert storage.exists("a.css")
        assert storage.exists("img/c.png")
        assert not storage.exists("missing.css")
        assert storage.size("b.css") == 5
        assert storage.get_modified_time("a.css") == storage.objects["static/a.css"][1]
        with pytest.raises(FileNotFoundError):
            storage.get_modified_time("missing.css")
    assert requests(storage) == [("list", "static/")]


def test_the_listing_is_taken_at_the_first_question_not_when_opening(storage: ScopedMemoryStorage) -> None:
    with collect_scope(storage) as scope:
        assert scope is not None and scope.entries is None
        assert requests(storage) == []
        storage.exists("a.css")
    assert requests(storage) == [("list", "static/")]


def test_delete_then_save_of_the_same_content_costs_nothing(storage: ScopedMemoryStorage) -> None:
    with collect_scope(storage) as scope:
        assert storage.exists("a.css")
        storage.delete("a.css")
        assert not storage.exists("a.css")
        assert storage.save("a.css", ContentFile(b"a.css")) == "a.css"
        assert storage.exists("a.css")
    assert requests(storage) == [("list", "static/")]
    assert scope is not None and (scope.skipped_uploads, scope.dropped_deletes) == (1, 1)
    assert storage.objects["static/a.css"][0] == b"a.css"


def test_delete_then_save_of_new_content_uploads_without_a_delete(storage: ScopedMemoryStorage) -> None:
    with collect_scope(storage):
        storage.delete("a.css")
        storage.save("a.css", ContentFile(b"new"))
        assert storage.exists("a.css")
    assert requests(storage) == [("list", "static/"), ("commit", "static/a.css")]
    assert storage.objects["static/a.css"][0] == b"new"


def test_save_of_the_stored_content_is_skipped(storage: ScopedMemoryStorage) -> None:
    with collect_scope(storage):
        storage.save("b.css", ContentFile(b"b.css"))
        storage.save("new.css", ContentFile(b"new"))
        assert storage.exists("new.css")
    assert requests(storage) == [("list", "static/"), ("commit", "static/new.css")]


def test_a_deferred_delete_is_sent_when_the_scope_closes(storage: ScopedMemoryStorage) -> None:
    with collect_scope(storage):
        storage.delete("a.css")
        assert "static/a.css" in storage.objects
    assert requests(storage) == [("list", "static/"), ("delete", "static/a.css")]
    assert "static/a.css" not in storage.objects


def test_a_deferred_delete_is_sent_when_the_scope_is_left_by_an_exception(
    storage: ScopedMemoryStorage,
) -> None:
    with pytest.raises(RuntimeError), collect_scope(storage):
        storage.delete("a.css")
        raise RuntimeError("collectstatic failed")
    assert "static/a.css" not in storage.objects
    assert active_scope(storage) is None


def test_a_deferred_delete_is_sent_before_open_and_listdir(storage: ScopedMemoryStorage) -> None:
    with collect_scope(storage):
        storage.delete("a.css")
        storage.delete("b.css")
        with pytest.raises(FileNotFoundError), storage.open("a.css") as deleted:
            deleted.read()
        assert "static/a.css" not in storage.objects
        assert "static/b.css" in storage.objects  # opening a.css cannot observe b.css
        assert storage.listdir("") == (["img"], [])
    assert requests(storage) == [
        ("list", "static/"),
        ("delete", "static/a.css"),
        ("get", "static/a.css"),
        ("delete", "static/b.css"),
        ("listdir", "static/"),
    ]


def test_a_failed_upload_after_a_deferred_delete_still_deletes(storage: ScopedMemoryStorage) -> None:
    with collect_scope(storage):
        storage.delete("a.css")
        storage.fail_commit = True
        with pytest.raises(ConnectionError):
            storage.save("a.css", ContentFile(b"new"))
        storage.fail_commit = False
    assert "static/a.css" not in storage.objects


def test_a_write_through_open_is_asked_of_the_store(storage: ScopedMemoryStorage) -> None:
    with collect_scope(storage):
        storage.exists("a.css")
        with storage.open("written.css", "wb") as f:
            f.write(b"x")
        storage.calls.clear()
        assert storage.exists("written.css")
    assert requests(storage) == [("exists", "static/written.css")]


def test_other_threads_see_plain_behaviour(storage: ScopedMemoryStorage) -> None:
    seen: list[bool] = []
    with collect_scope(storage):
        storage.delete("a.css")
        storage.calls.clear()
        thread = threading.Thread(target=lambda: seen.append(storage.exists("b.css")))
        thread.start()
        thread.join()
    assert seen == [True]
    assert requests(storage) == [("exists", "static/b.css"), ("delete", "static/a.css")]


def test_other_instances_see_plain_behaviour(storage: ScopedMemoryStorage, bucket: str) -> None:
    other = ScopedMemoryStorage(bucket_name=bucket, location="static", file_overwrite=True)
    with collect_scope(storage):
        storage.exists("a.css")
        storage.calls.clear()
        assert other.exists("a.css")
        other.delete("a.css")
        assert "static/a.css" not in other.objects
    assert requests(other) == [("exists", "static/a.css"), ("delete", "static/a.css")]


def test_a_scope_opened_twice_closes_with_the_outer_block(storage: ScopedMemoryStorage) -> None:
    with collect_scope(storage) as outer:
        with collect_scope(storage) as inner:
            assert inner is outer
            storage.delete("a.css")
        assert "static/a.css" in storage.objects
        assert active_scope(storage) is outer
    assert "static/a.css" not in storage.objects


def test_storages_without_the_mixin_are_left_alone(bucket: str) -> None:
    plain = RecordingMemoryStorage(bucket_name=bucket)
    assert not joins_collect_scope(plain)
    with collect_scope(plain) as scope:
        assert scope is None
        plain.exists("a")
    assert requests(plain) == [("exists", "a")]


def test_the_lazy_staticfiles_storage_is_unwrapped(bucket: str) -> None:
    from django.contrib.staticfiles.storage import staticfiles_storage

    with override_settings(STORAGES=_storages(bucket, "static")):
        assert joins_collect_scope(staticfiles_storage)
        with collect_scope(staticfiles_storage) as scope:
            assert scope is not None
            assert scope.storage is staticfiles_storage._wrapped


# -- the collectstatic command --------------------------------------------------------------


def _storages(bucket: str, location: str) -> dict[str, Any]:
    return {
        "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
        "staticfiles": {
            "BACKEND": f"{HERE}.ScopedMemoryStorage",
            "OPTIONS": {"bucket_name": bucket, "location": location, "file_overwrite": True},
        },
    }


def _collect(bucket: str, root: Path, location: str = "static", **options: Any) -> None:
    with override_settings(STORAGES=_storages(bucket, location), STATICFILES_DIRS=[str(root)]):
        call_command("collectstatic", interactive=False, verbosity=0, **options)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "src"
    for index in range(20):
        path = root / f"app{index % 2}" / f"file{index}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"file {index}")
    return root


def test_collectstatic_of_an_unchanged_tree_is_one_listing(tree: Path, bucket: str) -> None:
    _collect(bucket, tree)
    calls = _CALLS[bucket]
    assert [kind for kind, _, _ in calls].count("commit") == 20
    calls.clear()
    _collect(bucket, tree)
    assert calls == [("list", "static/", 0)]


def test_collectstatic_clear_deletes_everything_under_the_location_only(tree: Path, bucket: str) -> None:
    objects = _OBJECTS.setdefault(bucket, {})
    now = datetime.datetime.now(datetime.UTC)
    objects.update(
        {"static/stale.txt": (b"s", now), "static/x/y/stale.txt": (b"s", now), "other/keep.txt": (b"k", now)}
    )
    _collect(bucket, tree, clear=True)
    assert sorted(objects) == ["other/keep.txt", *sorted(f"static/app{i % 2}/file{i}.txt" for i in range(20))]


def test_collectstatic_clear_with_an_empty_location_deletes_everything(tree: Path, bucket: str) -> None:
    objects = _OBJECTS.setdefault(bucket, {})
    objects["stale/old.txt"] = (b"s", datetime.datetime.now(datetime.UTC))
    _collect(bucket, tree, location="", clear=True)
    assert "stale/old.txt" not in objects
    assert len(objects) == 20


def test_collectstatic_clear_of_an_unchanged_tree_uploads_every_file_and_deletes_none(
    tree: Path, bucket: str
) -> None:
    _collect(bucket, tree)
    calls = _CALLS[bucket]
    calls.clear()
    _collect(bucket, tree, clear=True)
    kinds = [kind for kind, _, _ in calls if kind != "part"]
    assert sorted(kinds) == ["commit"] * 20 + ["list"] + ["listdir"] * 3
    assert len(_OBJECTS[bucket]) == 20


# -- storages.W004 --------------------------------------------------------------------------


def test_w004_when_staticfiles_comes_before_storages(bucket: str) -> None:
    apps = ["django.contrib.contenttypes", "django.contrib.auth", "django.contrib.staticfiles", "storages"]
    with override_settings(STORAGES=_storages(bucket, "static"), INSTALLED_APPS=apps):
        messages = check_collectstatic_command()
    assert [m.id for m in messages] == ["storages.W004"]
    assert "ScopedMemoryStorage" in messages[0].msg
    assert messages[0].hint == 'Move "storages" above "django.contrib.staticfiles" in INSTALLED_APPS.'


def test_no_w004_when_storages_comes_first(bucket: str) -> None:
    with override_settings(STORAGES=_storages(bucket, "static")):
        assert check_collectstatic_command() == []


def test_no_w004_for_a_storage_that_does_not_join(bucket: str) -> None:
    apps = ["django.contrib.staticfiles", "storages"]
    storages = {"staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    with override_settings(STORAGES=storages, INSTALLED_APPS=apps):
        assert check_collectstatic_command() == []
