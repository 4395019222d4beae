"""One declaration per backend option, driving resolution, validation, redaction and docs.

A backend lists its options once::

    class MyStorage(BaseStorage):
        options = OptionSet(
            Option("bucket_name", setting="MY_BUCKET", required=True,
                   doc="Bucket that holds the files."),
            Option("api_key", setting="MY_API_KEY", env="MY_API_KEY", secret=True,
                   doc="Key used to sign requests."),
        )

and :class:`storages.base.BaseStorage` resolves every option with this precedence:

1. keyword arguments (``STORAGES[alias]["OPTIONS"]``);
   an attribute that a subclass sets on the instance before ``super().__init__()`` comes next;
2. an attribute of the class or a user's subclass (``class Media(MyStorage): bucket_name = "x"``);
3. the Django settings named by the option, first found wins;
4. the environment variables named by the option, first non-empty wins;
5. the default.
"""

from __future__ import annotations

import difflib
import os
import re
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from storages.exceptions import StorageConfigurationError, UnknownOptionError

REDACTED = "***"

_MISSING: Any = object()


@dataclass(frozen=True)
class Option:
    """A single backend option.

    ``setting`` and ``env`` name the Django settings and environment variables consulted, in
    order. ``secret`` options are redacted from ``repr()``, the management command and
    ``deconstruct()``. ``deprecated`` is the message of the :class:`DeprecationWarning`
    emitted when the option is given a value anywhere. ``choices`` restricts the accepted
    values. ``default_factory`` builds a fresh default per instance (for mutable defaults).
    ``falsy_is_default`` reproduces settings that the original library read as
    ``setting(...) or default``.
    """

    name: str
    default: Any = None
    setting: str | tuple[str, ...] = ()
    env: str | tuple[str, ...] = ()
    secret: bool = False
    required: bool = False
    doc: str = ""
    deprecated: str | None = None
    choices: tuple[Any, ...] | None = None
    default_factory: Callable[[], Any] | None = None
    falsy_is_default: bool = False
    default_doc: str | None = None

    @property
    def settings(self) -> tuple[str, ...]:
        return (self.setting,) if isinstance(self.setting, str) else self.setting

    @property
    def env_vars(self) -> tuple[str, ...]:
        return (self.env,) if isinstance(self.env, str) else self.env

    def make_default(self) -> Any:
        return self.default_factory() if self.default_factory is not None else self.default

    def display_default(self) -> str:
        if self.default_doc is not None:
            return self.default_doc
        return repr(self.make_default())

    def looked_in(self) -> list[str]:
        """Human-readable list of the places a value can come from."""
        places = [f"STORAGES[...]['OPTIONS']['{self.name}']"]
        places += [f"settings.{s}" for s in self.settings]
        places += [f"the environment variable {e}" for e in self.env_vars]
        return places


@dataclass(frozen=True)
class Resolved:
    """An option's effective value and where it came from."""

    value: Any
    source: str


@dataclass(frozen=True)
class OptionSet:
    """The ordered, immutable table of a backend's options."""

    items: tuple[Option, ...] = field(default=())

    def __init__(self, *options: Option) -> None:
        names = [o.name for o in options]
        duplicates = {n for n in names if names.count(n) > 1}
        if duplicates:
            raise ValueError(f"Options declared twice: {', '.join(sorted(duplicates))}")
        object.__setattr__(self, "items", tuple(options))

    def __iter__(self) -> Iterator[Option]:
        return iter(self.items)

    def __contains__(self, name: object) -> bool:
        return any(o.name == name for o in self.items)

    def __getitem__(self, name: str) -> Option:
        for option in self.items:
            if option.name == name:
                return option
        raise KeyError(name)

    def __len__(self) -> int:
        return len(self.items)

    @property
    def names(self) -> list[str]:
        return [o.name for o in self.items]

    def extend(self, *options: Option, remove: Iterable[str] = ()) -> OptionSet:
        """A new set with ``options`` added (replacing same-named ones) and ``remove`` dropped."""
        replaced = {o.name for o in options} | set(remove)
        kept = [o for o in self.items if o.name not in replaced]
        return OptionSet(*kept, *options)

    def check_keys(self, backend: str, keys: Iterable[str]) -> None:
        """Raise :class:`UnknownOptionError` for the first key this set does not declare."""
        for key in keys:
            if key not in self:
                close = difflib.get_close_matches(key, self.names, n=1, cutoff=0.6)
                raise UnknownOptionError(backend, key, close[0] if close else None, self.names)

    def resolve(
        self,
        cls: type,
        kwargs: Mapping[str, Any],
        django_settings: Any = None,
        environ: Mapping[str, str] | None = None,
        preset: Mapping[str, Any] | None = None,
    ) -> dict[str, Resolved]:
        """Resolve every option for ``cls`` given constructor ``kwargs``.

        ``preset`` holds attributes a subclass set on the instance before calling
        ``super().__init__()`` (the 1.x pattern); they rank after ``kwargs``.

        Unknown keys raise :class:`UnknownOptionError`; values outside ``choices`` raise
        :class:`StorageConfigurationError`. Nothing here touches the network.
        """
        if django_settings is None:
            from django.conf import settings as django_settings
        environ = os.environ if environ is None else environ
        backend = cls.__name__
        self.check_keys(backend, kwargs)
        resolved: dict[str, Resolved] = {}
        for option in self.items:
            result = _resolve_one(option, cls, kwargs, preset or {}, django_settings, environ)
            if option.falsy_is_default and not result.value and result.source != "default":
                result = Resolved(option.make_default(), "default")
            if option.choices is not None and result.value not in option.choices:
                allowed = ", ".join(repr(c) for c in option.choices)
                shown = REDACTED if option.secret else repr(result.value)
                raise StorageConfigurationError(
                    f"{backend} option '{option.name}' is {shown} (from {result.source}); "
                    f"it must be one of {allowed}."
                )
            if option.deprecated and result.source != "default":
                warnings.warn(
                    f"{backend} option '{option.name}' (from {result.source}) is deprecated: "
                    f"{option.deprecated}",
                    DeprecationWarning,
                    stacklevel=4,
                )
            resolved[option.name] = result
        return resolved


def defining_class(cls: type, name: str) -> type | None:
    """The first class in ``cls``'s MRO whose body defines ``name``."""
    for klass in cls.__mro__:
        if name in vars(klass):
            return klass
    return None


def _resolve_one(
    option: Option,
    cls: type,
    kwargs: Mapping[str, Any],
    preset: Mapping[str, Any],
    django_settings: Any,
    environ: Mapping[str, str],
) -> Resolved:
    if option.name in kwargs:
        return Resolved(kwargs[option.name], "OPTIONS")
    if option.name in preset:
        return Resolved(preset[option.name], f"attribute {cls.__name__}.{option.name} set before __init__")
    owner = defining_class(cls, option.name)
    if owner is not None:
        return Resolved(vars(owner)[option.name], f"class attribute {owner.__name__}.{option.name}")
    for setting_name in option.settings:
        value = getattr(django_settings, setting_name, _MISSING)
        if value is not _MISSING:
            return Resolved(value, f"setting {setting_name}")
    for env_name in option.env_vars:
        value = environ.get(env_name)
        if value:
            return Resolved(value, f"environment {env_name}")
    return Resolved(option.make_default(), "default")


_SECRET_NAME = re.compile(
    r"secret|password|passwd|token|credential|private|signature|(^|_)sas(_|$)"
    r"|key$|access_key|account_key|api_key|connection_string",
    re.IGNORECASE,
)
# The password of "scheme://user:password@host...": group 2. As urllib splits a netloc: the
# user info ends at the last "@" before the path, and the password starts at its first ":"
# (a raw "@" in a password or an e-mail address as the user still has its password found).
_URL_PASSWORD = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://[^/:?#]*:)([^/?#]*)(@)")


def looks_secret(name: str) -> bool:
    """True for names that usually hold a secret (``password``, ``secret_key``, ``SSECustomerKey``)."""
    return bool(_SECRET_NAME.search(name))


def redact_nested(value: Any) -> Any:
    """``value`` with the secrets inside it replaced by ``***``; the same object when it has none.

    Secrets inside a value are the values of secret-looking keys of a mapping (a
    ``SSECustomerKey`` in ``object_parameters``) and the password of a URL
    (``http://user:password@proxy``, ``ftp://user:password@host/``), also nested in lists and
    mappings.
    """
    if isinstance(value, str):
        if _URL_PASSWORD.match(value) is None:
            return value
        return _URL_PASSWORD.sub(rf"\g<1>{REDACTED}\g<3>", value, count=1)
    if isinstance(value, Mapping):
        changed = False
        result: dict[Any, Any] = {}
        for key, item in value.items():
            shown = REDACTED if looks_secret(str(key)) and item not in (None, "") else redact_nested(item)
            changed = changed or shown is not item
            result[key] = shown
        return result if changed else value
    if isinstance(value, list | tuple):
        items = [redact_nested(item) for item in value]
        if any(shown is not item for shown, item in zip(items, value, strict=True)):
            return type(value)(items) if isinstance(value, tuple) else items
        return value
    return value


def nested_secrets(value: Any) -> list[str]:
    """The secret strings inside ``value`` (see :func:`redact_nested`), for scrubbing text."""
    found: list[str] = []
    if isinstance(value, str):
        match = _URL_PASSWORD.match(value)
        if match and match.group(2):
            from urllib.parse import unquote

            found += [match.group(2), unquote(match.group(2))]
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if looks_secret(str(key)) and item not in (None, ""):
                found += _strings(item)
            else:
                found += nested_secrets(item)
    elif isinstance(value, list | tuple):
        for item in value:
            found += nested_secrets(item)
    return found


def _strings(value: Any) -> list[str]:
    if isinstance(value, Mapping):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, list | tuple | set):
        return [s for item in value for s in _strings(item)]
    if isinstance(value, bytes):
        return [value.decode("utf-8", "replace")]
    return [str(value)]


def redact(option: Option, value: Any) -> Any:
    """The value to show for ``option``: secrets that are set become ``***``, and so do the
    secrets nested in other values (see :func:`redact_nested`)."""
    if option.secret:
        return REDACTED if value not in (None, "") else value
    return redact_nested(value)


def holds_secret(option: Option, value: Any) -> bool:
    """Whether ``value`` of ``option`` is, or contains, a secret: such values are never
    written into migrations (``deconstruct()``)."""
    if option.secret:
        return value not in (None, "")
    return redact_nested(value) is not value


def settings_table_rst(options: OptionSet, title: str = "") -> str:
    """Render ``options`` as a reStructuredText list-table (used by the docs build)."""
    lines = [
        f".. list-table:: {title}".rstrip(),
        "   :header-rows: 1",
        "   :widths: 18 24 14 44",
        "",
        "   * - Option (``OPTIONS`` key)",
        "     - Django setting / environment",
        "     - Default",
        "     - Description",
    ]
    for option in options:
        where = [f"``{s}``" for s in option.settings]
        where += [f"env ``{e}``" for e in option.env_vars]
        notes = [option.doc.strip()]
        if option.required:
            notes.append("**Required.**")
        if option.secret:
            notes.append("Secret: redacted everywhere, omitted from migrations.")
        if option.choices is not None:
            notes.append("One of " + ", ".join(f"``{c!r}``" for c in option.choices) + ".")
        if option.deprecated:
            notes.append(f"*Deprecated:* {option.deprecated}")
        lines += [
            f"   * - ``{option.name}``",
            f"     - {', '.join(where) if where else '—'}",
            f"     - ``{option.display_default()}``",
            f"     - {' '.join(n for n in notes if n)}",
        ]
    return "\n".join(lines) + "\n"
