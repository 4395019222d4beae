"""The django-storages demo: every installed provider through a Django FileField.

Run it with ``hatch run demo:run``. It starts the local servers it needs on 127.0.0.1 (moto for
S3, OpenSSH's sshd for SFTP, a plain HTTP server for the file system row), configures a small
Django project, and for each provider saves a file through a ``FileField``, reads it back, lists
its folder, makes a URL and fetches it where the provider serves URLs, deletes it, and prints a
table of steps and milliseconds. Servers are stopped on exit, also on Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import importlib
import sys
import tempfile
import threading
import time
import traceback
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path[:0] = [str(REPO), str(HERE)]  # shared.testservers, and the providers/ rows

PAYLOAD = "Hello from django-storages, ünïcode included.\n".encode()


@dataclass
class Row:
    provider: str
    step: str
    milliseconds: float
    result: str


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def filesystem_server() -> Iterator[dict[str, Any]]:
    """The embedded default: FileSystemStorage in a temp folder, served over HTTP."""
    with tempfile.TemporaryDirectory(prefix="storages-demo-fs-") as root:
        handler = functools.partial(_QuietHandler, directory=root)
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield {
                "BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": root, "base_url": f"http://127.0.0.1:{server.server_address[1]}/"},
            }
        finally:
            server.shutdown()
            server.server_close()


def provider_modules() -> list[ModuleType]:
    """Demo rows of installed providers (a row's module names its registry alias)."""
    from storages import registry

    installed = {backend.alias for backend in registry.backends()}
    modules = []
    for path in sorted((HERE / "providers").glob("*.py")):
        module = importlib.import_module(f"providers.{path.stem}")
        if module.PROVIDER in installed:
            modules.append(module)
    return modules


def configure(storages: dict[str, dict[str, Any]]) -> Any:
    import django
    from django.conf import settings

    settings.configure(
        SECRET_KEY="demo-not-secret",
        INSTALLED_APPS=["django.contrib.contenttypes", "storages"],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        USE_TZ=True,
        MEDIA_URL="/media/",
        STORAGES={
            **storages,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
    )
    django.setup()
    from django.db import models

    class Upload(models.Model):
        document = models.FileField(upload_to="demo/", max_length=200)

        class Meta:
            app_label = "storages"

    return Upload


def timed(rows: list[Row], provider: str, step: str, action: Callable[[], str]) -> bool:
    start = time.perf_counter()
    try:
        result = action()
        ok = True
    except Exception as exc:  # noqa: BLE001 - every failure becomes a row
        result = f"FAILED: {type(exc).__name__}: {exc}"
        ok = False
        traceback.print_exc(file=sys.stderr)
    rows.append(Row(provider, step, (time.perf_counter() - start) * 1000, result))
    return ok


def exercise(rows: list[Row], provider: str, storage: Any, upload_model: Any, serves_urls: bool) -> bool:
    from django.core.files.base import ContentFile

    field = upload_model._meta.get_field("document")
    field.storage = storage
    upload = upload_model()
    ok = True

    def save() -> str:
        upload.document.save("hello world.txt", ContentFile(PAYLOAD), save=False)
        return upload.document.name

    def read() -> str:
        with storage.open(upload.document.name, "rb") as f:
            data = f.read()
        if data != PAYLOAD:
            raise AssertionError(f"read {len(data)} bytes that differ from what was saved")
        return f"{len(data)} bytes, identical"

    def listdir() -> str:
        folder, _, base = upload.document.name.rpartition("/")
        _, files = storage.listdir(folder)
        if base not in files:
            raise AssertionError(f"{base!r} not listed in {folder!r}")
        return f"{len(files)} file(s) in {folder}/"

    def url() -> str:
        address = upload.document.url
        if not serves_urls:
            return f"{address} (not served by this provider)"
        with urllib.request.urlopen(address, timeout=30) as response:  # noqa: S310 - local server
            body = response.read()
        if body != PAYLOAD:
            raise AssertionError("the URL served other bytes")
        shown = address if len(address) < 70 else address[:67] + "..."
        return f"fetched {len(body)} bytes from {shown}"

    def delete() -> str:
        name = upload.document.name
        upload.document.delete(save=False)
        if storage.exists(name):
            raise AssertionError("still exists after delete")
        return "gone"

    for step, action in (
        ("save", save),
        ("read", read),
        ("listdir", listdir),
        ("url", url),
        ("delete", delete),
    ):
        if not timed(rows, provider, step, action):
            ok = False
            if step == "save":
                break
    return ok


def print_table(rows: list[Row]) -> None:
    headers = ("provider", "step", "ms", "result")
    cells = [(r.provider, r.step, f"{r.milliseconds:.1f}", r.result) for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    print(line)
    print("-" * len(line))
    for cell in cells:
        print(
            "  ".join(
                c.rjust(w) if i == 2 else c.ljust(w)
                for i, (c, w) in enumerate(zip(cell, widths, strict=True))
            )
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only", action="append", help="run only these providers (filesystem, s3, sftp, ...)"
    )
    args = parser.parse_args(argv)

    rows: list[Row] = []
    ok = True
    with contextlib.ExitStack() as stack:
        entries: dict[str, dict[str, Any]] = {"filesystem": stack.enter_context(filesystem_server())}
        serves_urls = {"filesystem": True}
        for module in provider_modules():
            if args.only and module.PROVIDER not in args.only:
                continue
            start = time.perf_counter()
            try:
                entries[module.PROVIDER] = module.start(stack)
                serves_urls[module.PROVIDER] = module.serves_urls
                rows.append(Row(module.PROVIDER, "start server", (time.perf_counter() - start) * 1000, "ok"))
            except Exception as exc:  # noqa: BLE001
                rows.append(Row(module.PROVIDER, "start server", 0.0, f"FAILED: {exc}"))
                ok = False
        if args.only:
            entries = {k: v for k, v in entries.items() if k in args.only}
        upload_model = configure({"default": next(iter(entries.values())), **entries})
        from django.core.files.storage import storages

        for provider in entries:
            ok = exercise(rows, provider, storages[provider], upload_model, serves_urls[provider]) and ok
    print_table(rows)
    print("\nall steps passed" if ok else "\nSOME STEPS FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
