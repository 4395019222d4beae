"""System checks for ``settings.STORAGES``, run by ``manage.py check`` and at server start.

They are registered when ``"storages"`` is in ``INSTALLED_APPS`` (see
:class:`storages.apps.StoragesConfig`) under the tag ``storages``, so
``manage.py check --tag storages`` runs them alone. The ids are stable; the docs list them:

=================  ===============================================================================
``storages.E001``  an ``OPTIONS`` key the backend does not declare (with the closest valid one)
``storages.E002``  a required option has no value in ``OPTIONS``, settings or environment
``storages.E003``  ``BACKEND`` cannot be imported, or names an alias that is not installed
``storages.E004``  constructing the storage raised another configuration error
``storages.W001``  the original ``django-storages`` distribution is installed side by side
``storages.W002``  ``DEFAULT_FILE_STORAGE`` / ``STATICFILES_STORAGE`` set, but Django ignores them
``storages.W003``  two installed distributions declare the same storage alias
``storages.W004``  the static storage joins the collectstatic scope, but Django's command runs
=================  ===============================================================================

Constructing a storage never touches the network, so these checks are safe to run anywhere.
No message ever contains a secret value: messages name options, settings and classes only,
and text taken from exceptions is scrubbed of every secret value the storage could have read.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import django
from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from storages import registry
from storages.base import BaseStorage
from storages.exceptions import (
    DuplicateAliasError,
    MissingDependencyError,
    MissingOptionError,
    UnknownOptionError,
)
from storages.options import REDACTED, looks_secret, nested_secrets

__all__ = [
    "BackendLoadError",
    "check_legacy_storage_settings",
    "check_original_distribution",
    "check_registry",
    "check_storages",
    "load_backend",
    "looks_secret",
    "scrub",
    "secret_values",
]

TAG = "storages"

_LEGACY_SETTINGS = {"DEFAULT_FILE_STORAGE": "default", "STATICFILES_STORAGE": "staticfiles"}

# -- helpers shared with the management command -------------------------------------------


def secret_values(cls: type, options: Mapping[str, Any]) -> list[str]:
    """Every secret value a storage of ``cls`` built from ``options`` could have read.

    That is the ``OPTIONS`` values of secret (or secret-looking) keys and, for a
    :class:`BaseStorage`, the Django settings and environment variables of its secret
    options. :func:`scrub` removes them from text shown to users.
    """
    found: list[Any] = [value for key, value in options.items() if looks_secret(str(key))]
    found += nested_secrets(dict(options))
    if isinstance(cls, type) and issubclass(cls, BaseStorage):
        for option in cls.accepted_options():
            if not option.secret:
                found += nested_secrets([getattr(settings, name, None) for name in option.settings])
                continue
            found.append(options.get(option.name))
            attribute = getattr(cls, option.name, None)
            found.append(attribute if isinstance(attribute, str) else None)
            found += [getattr(settings, name, None) for name in option.settings]
            found += [os.environ.get(name) for name in option.env_vars]
    strings = {str(value) for value in _flatten(found) if value not in (None, "")}
    # Longest first, so that a secret containing another is replaced whole.
    return sorted((s for s in strings if len(s) >= 3), key=len, reverse=True)


def _flatten(values: Iterable[Any]) -> Iterable[Any]:
    for value in values:
        if isinstance(value, Mapping):
            yield from _flatten(value.values())
        elif isinstance(value, list | tuple | set):
            yield from _flatten(value)
        else:
            yield value


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every occurrence of each secret replaced by ``***``."""
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    return text


class BackendLoadError(Exception):
    """A ``STORAGES`` entry's ``BACKEND`` cannot be turned into a class.

    ``message`` and ``hint`` are sentences for users; ``install_line`` is the ``pip install``
    line that fixes it, when one does.
    """

    def __init__(self, message: str, hint: str | None = None, install_line: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.install_line = install_line


def load_backend(alias: str, config: Mapping[str, Any]) -> type:
    """Import the ``BACKEND`` class of ``STORAGES[alias]``, or raise :class:`BackendLoadError`.

    ``storages.aliases.<name>`` paths resolve through :mod:`storages.registry`, like Django's
    own ``import_string`` does at run time.
    """
    where = f"STORAGES[{alias!r}]['BACKEND']"
    path = config.get("BACKEND")
    if not isinstance(path, str) or not path:
        raise BackendLoadError(
            f"STORAGES[{alias!r}] has no BACKEND.",
            hint='Give it a dotted path, e.g. "BACKEND": "storages.aliases.s3".',
        )
    try:
        backend = import_string(path)
    except MissingDependencyError as exc:
        what, rest = _split_install_message(exc)
        raise BackendLoadError(
            f"{where} is {path!r}, which cannot be loaded: {what}",
            hint=" ".join(part for part in (f"Install it with: {exc.install_line}", rest) if part),
            install_line=exc.install_line,
        ) from exc
    except DuplicateAliasError as exc:
        raise BackendLoadError(f"{where} is {path!r}, which cannot be resolved: {exc}") from exc
    except ModuleNotFoundError as exc:
        raise _module_not_found(where, path, exc) from exc
    except (ImportError, ImproperlyConfigured) as exc:
        raise BackendLoadError(f"{where} is {path!r}, which cannot be imported: {exc}") from exc
    if not isinstance(backend, type):
        raise BackendLoadError(
            f"{where} is {path!r}, which is a {type(backend).__name__}, not a storage class."
        )
    return backend


def _split_install_message(exc: MissingDependencyError) -> tuple[str, str]:
    """The "what is missing" sentence of ``exc`` and its extra lines, without the install line.

    The install line goes into the hint, so that the message does not say it twice.
    """
    first, _, rest = str(exc).partition("\n")
    what = first.replace(f" Install it with: {exc.install_line}", "").strip()
    return what, rest.strip()


def _module_not_found(where: str, path: str, exc: ModuleNotFoundError) -> BackendLoadError:
    missing = exc.name or ""
    for module, distribution in registry.FIRST_PARTY_MODULES.items():
        if missing and path.startswith(module + ".") and module.startswith(missing):
            line = f"pip install {distribution}"
            return BackendLoadError(
                f"{where} is {path!r}, but {module} is not installed: it is part of {distribution}.",
                hint=f"Install it with: {line}",
                install_line=line,
            )
    return BackendLoadError(
        f"{where} is {path!r}, which cannot be imported: {exc}",
        hint=f"Is the module {missing!r} installed?" if missing else None,
    )


def storage_options(alias: str, config: Mapping[str, Any]) -> dict[str, Any]:
    """The ``OPTIONS`` of ``STORAGES[alias]`` (an empty dict when absent)."""
    options = config.get("OPTIONS") or {}
    if not isinstance(options, Mapping):
        raise BackendLoadError(
            f"STORAGES[{alias!r}]['OPTIONS'] is a {type(options).__name__}; it must be a dict."
        )
    return dict(options)


def storages_setting() -> dict[str, Mapping[str, Any]]:
    """``settings.STORAGES``, with entries that are not dicts left out."""
    value = getattr(settings, "STORAGES", None) or {}
    if not isinstance(value, Mapping):
        return {}
    return {str(k): v for k, v in value.items() if isinstance(v, Mapping)}


# -- the checks ---------------------------------------------------------------------------


@dataclass
class _Entry:
    alias: str
    backend: type[BaseStorage]
    options: dict[str, Any]


@register(TAG)
def check_storages(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """storages.E001 to E004 for every entry of ``settings.STORAGES``."""
    messages: list[CheckMessage] = []
    for alias, config in storages_setting().items():
        try:
            backend = load_backend(alias, config)
            options = storage_options(alias, config)
        except BackendLoadError as exc:
            messages.append(Error(exc.message, hint=exc.hint, id="storages.E003"))
            continue
        if issubclass(backend, BaseStorage):
            messages += _check_options(_Entry(alias, backend, options))
    return messages


def _check_options(entry: _Entry) -> list[CheckMessage]:
    cls = entry.backend
    where = f"STORAGES[{entry.alias!r}]"
    messages: list[CheckMessage] = []
    suggested: set[str] = set()
    accepted = cls.accepted_options()
    arguments = cls.init_arguments()
    for key in entry.options:
        if key in arguments:
            continue
        try:
            accepted.check_keys(cls.__name__, [key])
        except UnknownOptionError as exc:
            if exc.closest:
                suggested.add(exc.closest)
            messages.append(_unknown_option(where, cls, exc))
    known = {k: v for k, v in entry.options.items() if k in accepted or k in arguments}
    secrets = secret_values(cls, entry.options)
    try:
        storage = cls(**known)
        storage.check_required()
        messages += storage.check_configuration(where)
    except MissingOptionError as exc:
        # A misspelt key already reported by E001 is the same mistake: say it once.
        if exc.option not in suggested:
            messages.append(_missing_option(where, cls, exc))
    except MissingDependencyError as exc:
        what, _ = _split_install_message(exc)
        messages.append(
            Error(
                f"{where} uses {cls.__name__}, which cannot be used: {scrub(what, secrets)}",
                hint=f"Install it with: {exc.install_line}",
                id="storages.E003",
            )
        )
    except Exception as exc:  # noqa: BLE001  (any construction error is a configuration error)
        kind = "" if isinstance(exc, ImproperlyConfigured) else f"{type(exc).__name__}: "
        messages.append(
            Error(
                f"{where} cannot be constructed with its OPTIONS: {kind}{scrub(str(exc), secrets)}",
                hint=f"Fix the options of {cls.__module__}.{cls.__qualname__} given in "
                f"{where}['OPTIONS'], in settings or in the environment.",
                id="storages.E004",
            )
        )
    return messages


def _unknown_option(where: str, cls: type[BaseStorage], exc: UnknownOptionError) -> Error:
    message = f"{where}['OPTIONS'] has {exc.key!r}, which {cls.__name__} does not accept."
    if exc.closest:
        message += f" Did you mean {exc.closest!r}?"
    return Error(
        message,
        hint=f"Valid options of {cls.__module__}.{cls.__qualname__}: {', '.join(sorted(cls.options.names))}.",
        id="storages.E001",
    )


def _missing_option(where: str, cls: type[BaseStorage], exc: MissingOptionError) -> Error:
    if exc.option in cls.options:
        places = cls.options[exc.option].looked_in()
        places[0] = f"{where}['OPTIONS'][{exc.option!r}]"
        hint = f"Set it in {', or '.join(places)}."
    else:
        hint = str(exc)
    return Error(
        f"{where} uses {cls.__name__}, which needs the option {exc.option!r}, but it is not set.",
        hint=hint,
        id="storages.E002",
    )


@register(TAG)
def check_original_distribution(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """storages.W001: the original ``django-storages`` is installed next to these packages."""
    try:
        original = metadata.distribution("django-storages")
    except metadata.PackageNotFoundError:
        return []
    return [
        Warning(
            f"The original django-storages distribution ({original.version}) is installed "
            "next to django-storages-core. Both install modules into the same 'storages' "
            "package (its storages/__init__.py also turns the shared namespace into a plain "
            "package), so whichever was installed last overwrites the other's files.",
            hint="Run 'pip uninstall django-storages', then reinstall the "
            "django-storages-<provider> packages you use with 'pip install "
            "--force-reinstall'. Import paths such as storages.backends.s3.S3Storage stay "
            "the same.",
            id="storages.W001",
        )
    ]


@register(TAG)
def check_legacy_storage_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """storages.W002: ``DEFAULT_FILE_STORAGE`` / ``STATICFILES_STORAGE`` set but ignored.

    Django 5.1 removed both settings; Django reads only ``STORAGES``. The hint prints the
    ``STORAGES`` value that does what the legacy settings asked for.
    """
    if django.VERSION < (5, 1):
        return []
    legacy = {
        name: value
        for name in _LEGACY_SETTINGS
        if isinstance(value := getattr(settings, name, None), str) and value
    }
    if not legacy:
        return []
    current = storages_setting()
    if all(current.get(_LEGACY_SETTINGS[name], {}).get("BACKEND") == v for name, v in legacy.items()):
        hint = f"STORAGES already does what it asks for: remove {' and '.join(legacy)}."
    else:
        hint = _storages_equivalent(legacy, current)
    messages: list[CheckMessage] = []
    for name, value in legacy.items():
        key = _LEGACY_SETTINGS[name]
        used = current.get(key, {}).get("BACKEND")
        now = f"STORAGES[{key!r}] uses {used!r}" if used else f"STORAGES has no {key!r} entry"
        messages.append(
            Warning(
                f"settings.{name} is {value!r}, but Django {django.get_version()} ignores it "
                f"(the setting was removed in Django 5.1); {now}.",
                hint=hint,
                id="storages.W002",
            )
        )
    return messages


def _storages_equivalent(legacy: Mapping[str, str], current: Mapping[str, Any]) -> str:
    entries: dict[str, str] = {}
    for name, key in _LEGACY_SETTINGS.items():
        backend = legacy.get(name) or current.get(key, {}).get("BACKEND")
        if backend:
            entries[key] = backend
    lines = [
        (
            f"Remove {' and '.join(legacy)} and set STORAGES instead "
            "(moving the backend's settings into OPTIONS is optional):"
        ),
        "",
        "STORAGES = {",
    ]
    lines += [f'    "{key}": {{"BACKEND": "{backend}"}},' for key, backend in entries.items()]
    if set(current) - set(entries):
        lines.append("    # ... and your other STORAGES entries, unchanged.")
    lines.append("}")
    return "\n".join(lines)


@register(TAG)
def check_registry(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """storages.W003: two installed distributions declare the same storage alias."""
    try:
        registry.backends()
    except DuplicateAliasError as exc:
        return [
            Warning(
                str(exc),
                hint="Storage aliases must be unique: uninstall one of the two distributions "
                "(pip uninstall <name>), or use the dotted class path in STORAGES instead of "
                "storages.aliases.<alias>.",
                id="storages.W003",
            )
        ]
    return []


@register(TAG)
def check_collectstatic_command(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """storages.W004: the static storage joins the collect scope, but Django's command runs.

    Django takes ``collectstatic`` from the first app in ``INSTALLED_APPS`` that has it; only
    the command of ``storages`` opens the collect scope (one listing instead of requests per
    file) and clears object stores with ``--clear``.
    """
    from django.apps import apps
    from django.core.management import find_commands

    from storages.collect import CollectStaticMixin

    config = storages_setting().get("staticfiles")
    if config is None or not apps.is_installed("django.contrib.staticfiles"):
        return []
    try:
        backend = load_backend("staticfiles", config)
    except BackendLoadError:
        return []  # storages.E003 reports it
    if not issubclass(backend, CollectStaticMixin):
        return []
    provider = next(
        (
            app.name
            for app in apps.get_app_configs()
            if "collectstatic" in find_commands(os.path.join(app.path, "management"))
        ),
        None,
    )
    if provider is None or provider == "storages":
        return []
    listed = apps.is_installed("storages")
    where = "listed after it" if listed else "not in INSTALLED_APPS"
    return [
        Warning(
            f"STORAGES['staticfiles'] uses {backend.__name__}, but manage.py collectstatic is "
            f"the command of {provider!r} ('storages' is {where}): it makes requests for "
            "every file instead of one listing, and --clear leaves object stores as they are.",
            hint=f'{"Move" if listed else "Add"} "storages" above "{provider}" in INSTALLED_APPS.',
            id="storages.W004",
        )
    ]
