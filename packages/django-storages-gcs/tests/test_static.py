"""collectstatic with the static and manifest storages: one listing for an unchanged tree."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.test import override_settings

FILES = 60
STATIC = "storages.backends.gcloud.GoogleCloudStaticStorage"
MANIFEST = "storages.backends.gcloud.GoogleCloudManifestStaticStorage"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "static"
    for index in range(FILES):
        folder = root / f"app{index % 3}"
        folder.mkdir(parents=True, exist_ok=True)
        if index % 20 == 0:
            (folder / f"style{index}.css").write_text(f'body {{ background: url("img{index + 3}.png"); }}\n')
        else:
            (folder / f"img{index}.png").write_bytes(f"file {index}".encode() * 5)
    old = time.time() - 3600
    for path in root.rglob("*.*"):
        os.utime(path, (old, old))
    return root


@pytest.fixture
def sent(server: Any, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Every request any storage sends to the emulator (collectstatic builds its own storage)."""
    log: list[tuple[str, str]] = []
    original = requests.Session.request

    def request(self: Any, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        if url.startswith(server.url):
            log.append((method.upper(), url.split("?")[0]))
        return original(self, method, url, *args, **kwargs)

    monkeypatch.setattr(requests.Session, "request", request)
    return log


@pytest.fixture
def collect(server: Any, bucket_name: str) -> Callable[[str, Path], None]:
    from google.auth.credentials import AnonymousCredentials

    def run(backend: str, root: Path) -> None:
        options = {
            "api_endpoint": server.url,
            "bucket_name": bucket_name,
            "project_id": "test",
            "credentials": AnonymousCredentials(),
            "retry": 0,
            "location": "static",
        }
        storages = {
            "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
            "staticfiles": {"BACKEND": backend, "OPTIONS": options},
        }
        with override_settings(STORAGES=storages, STATICFILES_DIRS=[str(root)]):
            call_command("collectstatic", interactive=False, verbosity=0)

    return run


def listings(log: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(m, u) for m, u in log if m == "GET" and u.endswith("/o")]


def test_unchanged_static_tree_is_one_listing(tree: Path, collect: Any, sent: list[Any]) -> None:
    collect(STATIC, tree)
    assert sum(1 for m, _ in sent if m == "POST") == FILES
    sent.clear()
    collect(STATIC, tree)
    assert len(sent) == 1 and sent == listings(sent), sent
    # A fresh checkout: every source looks newer, the MD5 against md5Hash decides.
    new = time.time() + 3600
    for path in tree.rglob("*.*"):
        os.utime(path, (new, new))
    sent.clear()
    collect(STATIC, tree)
    assert len(sent) == 1 and sent == listings(sent), sent


def test_changed_files_are_the_only_uploads(tree: Path, collect: Any, sent: list[Any]) -> None:
    collect(STATIC, tree)
    changed = sorted(tree.rglob("*.png"))[:3]
    for path in changed:
        path.write_bytes(b"new " + path.name.encode())
        os.utime(path, (time.time() + 3600, time.time() + 3600))
    sent.clear()
    collect(STATIC, tree)
    assert sorted(m for m, _ in sent) == ["GET"] + ["POST"] * 3, sent


def test_unchanged_manifest_tree_reads_the_manifest_once_and_uploads_nothing(
    tree: Path, collect: Any, sent: list[Any]
) -> None:
    collect(MANIFEST, tree)
    sent.clear()
    collect(MANIFEST, tree)
    methods = [m for m, _ in sent]
    assert "POST" not in methods and "DELETE" not in methods, sent
    assert len(listings(sent)) == 1
    assert len(sent) <= 3, sent  # the listing, the manifest read, nothing else


def test_outside_collectstatic_every_call_asks_the_server(make_storage: Callable[..., Any]) -> None:
    from storages.backends.gcloud import GoogleCloudStaticStorage

    storage = make_storage(GoogleCloudStaticStorage, location="static")
    other = make_storage(GoogleCloudStaticStorage, location="static")
    storage.save("a.css", ContentFile(b"a"))
    assert other.exists("a.css")
    other.delete("a.css")
    assert not storage.exists("a.css")
    storage.save("a.css", ContentFile(b"a"))
    assert other.exists("a.css")
    assert "X-Goog-Signature" not in storage.url("a.css")
