"""``manage.py storages``: what is installed, how each storage is configured, and a live probe.

* ``storages list``: installed providers (alias, class, distribution, version) and which
  ``STORAGES`` entries use each.
* ``storages show NAME``: the backend of ``STORAGES[NAME]`` and every option's effective value
  with where it came from; secrets are shown as ``***``.
* ``storages check NAME [--write]``: list the root, and with ``--write`` save, read back, ask a
  URL for and delete a small probe file, timing each step. Exits non-zero on any failure.
"""

from __future__ import annotations

import secrets as random_tokens
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from django.core.files.base import ContentFile
from django.core.files.storage import Storage
from django.core.management.base import BaseCommand, CommandError, CommandParser

from storages import registry
from storages.base import BaseStorage
from storages.checks import (
    BackendLoadError,
    load_backend,
    looks_secret,
    scrub,
    secret_values,
    storage_options,
    storages_setting,
)
from storages.exceptions import DuplicateAliasError
from storages.options import REDACTED, redact_nested

MAX_VALUE_WIDTH = 70


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Rows as left-aligned columns separated by two spaces, under a dashed header."""
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(row) for row in rows)])


def shorten(text: str, width: int = MAX_VALUE_WIDTH) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def class_path(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def redact_url(url: str) -> str:
    """``url`` with every query-string value hidden: signed URLs carry signatures and tokens."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    query = "&".join(f"{key}={REDACTED}" for key, _ in parse_qsl(parts.query, True))
    return urlunsplit(parts._replace(query=query))


def provider_of(backend: type, installed: list[registry.Backend]) -> registry.Backend | None:
    """The installed provider whose class is ``backend`` or its nearest base class.

    Only provider modules that are already imported are looked at (loading ``backend`` imported
    its own), so this never imports a provider, or its SDK, that no storage uses.
    """
    loaded: dict[type, registry.Backend] = {}
    for provider in installed:
        module_name, _, attribute = provider.class_path.rpartition(".")
        module = sys.modules.get(module_name)
        provider_class = getattr(module, attribute, None) if module is not None else None
        if isinstance(provider_class, type):
            loaded.setdefault(provider_class, provider)
    return next((loaded[klass] for klass in backend.__mro__ if klass in loaded), None)


@dataclass
class Step:
    name: str
    status: str = "ok"
    milliseconds: float = 0.0
    detail: str = ""


class ProbeFailed(Exception):
    """A probe step failed; the step has been recorded."""


class Command(BaseCommand):
    help = (
        "Inspect and probe the storages of settings.STORAGES: 'list' installed providers, "
        "'show NAME' a storage's effective settings, 'check NAME [--write]' a live probe."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", metavar="{list,show,check}")
        actions.required = True
        actions.add_parser("list", help="Installed storage providers and the STORAGES entries using them.")
        show = actions.add_parser("show", help="A storage's effective settings and where each came from.")
        show.add_argument("name", help="A key of settings.STORAGES, e.g. default.")
        check = actions.add_parser(
            "check", help="Probe a storage: list, and with --write save/read/url/delete."
        )
        check.add_argument("name", help="A key of settings.STORAGES, e.g. default.")
        check.add_argument(
            "--write",
            action="store_true",
            help="Also save, read back, ask a URL for and delete a small probe file.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "list":
            self.list_backends()
        elif action == "show":
            self.show(options["name"])
        else:
            self.probe(options["name"], write=options["write"])

    # -- list -----------------------------------------------------------------------------

    def list_backends(self) -> None:
        try:
            installed = registry.backends()
        except DuplicateAliasError as exc:
            raise CommandError(str(exc)) from exc
        users = self._storages_by_provider(installed)
        if installed:
            rows = [
                [b.alias, b.class_path, b.distribution, b.version, ", ".join(users[b.alias])]
                for b in installed
            ]
            self.stdout.write("Installed storage providers")
            headers = ["alias", "class", "distribution", "version", "used by STORAGES"]
            self.stdout.write(format_table(headers, rows))
        else:
            self.stdout.write(
                "No storage providers are installed. Install one with "
                "'pip install django-storages-<provider>', e.g. django-storages-s3."
            )
        rows = []
        for alias, config in storages_setting().items():
            provider = next((a for a, names in users.items() if alias in names), "")
            rows.append([alias, str(config.get("BACKEND", "")), provider or "-"])
        if rows:
            self.stdout.write("\nsettings.STORAGES")
            self.stdout.write(format_table(["name", "backend", "provider alias"], rows))

    def _storages_by_provider(self, installed: list[registry.Backend]) -> dict[str, list[str]]:
        """For each provider alias, the ``STORAGES`` names whose backend is (a subclass of) it."""
        users: dict[str, list[str]] = {b.alias: [] for b in installed}
        for name, config in storages_setting().items():
            path = str(config.get("BACKEND", ""))
            provider = next(
                (b for b in installed if path in (f"storages.aliases.{b.alias}", b.class_path)), None
            )
            if provider is None:
                try:
                    provider = provider_of(load_backend(name, config), installed)
                except BackendLoadError:
                    provider = None
            if provider is not None:
                users[provider.alias].append(name)
        return users

    # -- show -----------------------------------------------------------------------------

    def _config(self, name: str) -> Mapping[str, Any]:
        configured = storages_setting()
        if name not in configured:
            known = ", ".join(sorted(configured)) or "none"
            raise CommandError(f"settings.STORAGES has no entry {name!r}. Its entries: {known}.")
        return configured[name]

    def _load(self, name: str) -> tuple[type, dict[str, Any]]:
        config = self._config(name)
        try:
            return load_backend(name, config), storage_options(name, config)
        except BackendLoadError as exc:
            raise CommandError(" ".join(p for p in (exc.message, exc.hint) if p)) from exc

    def _construct(self, name: str, backend: type, options: dict[str, Any]) -> Storage:
        try:
            storage = backend(**options)
        except Exception as exc:  # reported, scrubbed of secrets
            message = scrub(f"{type(exc).__name__}: {exc}", secret_values(backend, options))
            raise CommandError(
                f"STORAGES[{name!r}] ({class_path(backend)}) cannot be constructed: {message}"
            ) from exc
        if not isinstance(storage, Storage):
            raise CommandError(
                f"STORAGES[{name!r}]['BACKEND'] builds a {type(storage).__name__}, not a Django Storage."
            )
        return storage

    def show(self, name: str) -> None:
        backend, options = self._load(name)
        storage = self._construct(name, backend, options)
        self.stdout.write(f"STORAGES[{name!r}]")
        self.stdout.write(f"backend  {class_path(backend)}{self._provenance(backend)}")
        self.stdout.write("")
        if isinstance(storage, BaseStorage):
            rows = [
                [option, self._show_value(value), source]
                for option, (value, source) in storage.option_sources().items()
            ]
            self.stdout.write(format_table(["option", "value", "source"], rows))
            return
        self.stdout.write(
            f"{backend.__name__} does not declare its options; these are the OPTIONS given "
            "(values of secret-looking keys hidden)."
        )
        rows = [
            [key, REDACTED if looks_secret(key) else shorten(repr(redact_nested(value))), "OPTIONS"]
            for key, value in options.items()
        ]
        if rows:
            self.stdout.write(format_table(["option", "value", "source"], rows))
        else:
            self.stdout.write("(no OPTIONS)")

    @staticmethod
    def _show_value(value: Any) -> str:
        return REDACTED if value == REDACTED else shorten(repr(value))

    @staticmethod
    def _provenance(backend: type) -> str:
        try:
            provider = provider_of(backend, registry.backends())
        except DuplicateAliasError:
            return ""
        if provider is None:
            return ""
        return f"  (alias {provider.alias}, {provider.distribution} {provider.version})"

    # -- check ----------------------------------------------------------------------------

    def probe(self, name: str, write: bool) -> None:
        backend, options = self._load(name)
        secrets = secret_values(backend, options)
        steps: list[Step] = []
        try:
            storage = self._step(steps, "configure", secrets, self._configure, backend, options)
            self._step(steps, "list", secrets, self._list, storage)
            if write:
                self._write_probe(steps, secrets, storage)
        except ProbeFailed:
            pass  # recorded in ``steps``; reported below, after the table
        failure = next((s for s in steps if s.status == "FAILED"), None)
        self.stdout.write(f"Probe of STORAGES[{name!r}] ({class_path(backend)})")
        rows = [[s.name, f"{s.milliseconds:.1f}", s.status, s.detail] for s in steps]
        self.stdout.write(format_table(["step", "ms", "result", "detail"], rows))
        if failure is not None:
            raise CommandError(
                f"The probe of STORAGES[{name!r}] failed at step {failure.name!r}: {failure.detail}"
            )
        self.stdout.write(self.style.SUCCESS(f"\nSTORAGES[{name!r}] works."))

    def _step(
        self,
        steps: list[Step],
        name: str,
        secrets: list[str],
        function: Callable[..., Any],
        *args: Any,
    ) -> Any:
        """Run one timed step; record it, and raise :class:`ProbeFailed` when it fails."""
        step = Step(name)
        steps.append(step)
        started = time.perf_counter()
        try:
            result, step.detail = function(*args)
        except _Skip as skip:
            step.status, step.detail = "skipped", scrub(str(skip), secrets)
            result = None
        except Exception as exc:  # every failure is reported, never raised
            step.status = "FAILED"
            step.detail = shorten(scrub(f"{type(exc).__name__}: {exc}", secrets), 200)
            raise ProbeFailed from exc
        finally:
            step.milliseconds = (time.perf_counter() - started) * 1000
        return result

    @staticmethod
    def _configure(backend: type, options: dict[str, Any]) -> tuple[Storage, str]:
        storage = backend(**options)
        if not isinstance(storage, Storage):
            raise TypeError(f"{class_path(backend)} is not a Django Storage")
        if isinstance(storage, BaseStorage):
            storage.check_required()
        return storage, backend.__name__

    @staticmethod
    def _list(storage: Storage) -> tuple[None, str]:
        try:
            directories, files = storage.listdir("")
        except FileNotFoundError:
            # A FileSystemStorage whose root is not created yet: the first save creates it.
            return None, "the root does not exist yet"
        return None, f"{len(directories)} folders, {len(files)} files at the root"

    def _write_probe(self, steps: list[Step], secrets: list[str], storage: Storage) -> None:
        token = random_tokens.token_hex(6)
        content = f"django-storages probe {token}\n".encode()
        saved: str | None = None
        try:
            saved = self._step(
                steps, "save", secrets, self._save, storage, f".storages-probe-{token}.txt", content
            )
            self._step(steps, "read", secrets, self._read, storage, saved, content)
            self._step(steps, "url", secrets, self._url, storage, saved)
        finally:
            if saved is not None:
                try:
                    self._step(steps, "delete", secrets, self._delete, storage, saved)
                except ProbeFailed:
                    steps[-1].detail += f" (the probe file {saved!r} may remain)"
                    raise

    @staticmethod
    def _save(storage: Storage, name: str, content: bytes) -> tuple[str, str]:
        saved = storage.save(name, ContentFile(content))
        return saved, f"{saved} ({len(content)} bytes)"

    @staticmethod
    def _read(storage: Storage, name: str, expected: bytes) -> tuple[None, str]:
        with storage.open(name, "rb") as handle:
            data = handle.read()
        if data != expected:
            raise AssertionError(
                f"read back {len(data)} bytes that differ from the {len(expected)} bytes saved"
            )
        return None, f"{len(data)} bytes, identical"

    @staticmethod
    def _url(storage: Storage, name: str) -> tuple[None, str]:
        try:
            url = storage.url(name)
        except NotImplementedError as exc:
            raise _Skip(f"this storage makes no URLs ({type(exc).__name__})") from exc
        except ValueError as exc:
            raise _Skip(f"no URL: {exc}") from exc
        if not url:
            raise _Skip("no URL (url() returned nothing)")
        return None, redact_url(url)

    @staticmethod
    def _delete(storage: Storage, name: str) -> tuple[None, str]:
        storage.delete(name)
        if storage.exists(name):
            raise AssertionError(f"{name} still exists after delete()")
        return None, "deleted"


class _Skip(Exception):
    """A step that does not apply to this storage (a URL from a storage that serves none)."""
