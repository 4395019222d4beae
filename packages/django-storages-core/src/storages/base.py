"""``BaseStorage``: what every provider's storage class inherits.

It resolves the backend's declared :class:`~storages.options.OptionSet` (see
:mod:`storages.options` for the precedence), keeps secrets out of ``repr()`` and migrations,
turns user names into confined keys, opens :class:`~storages.files.StreamingFile` objects, and
drops live connections when pickled.
"""

from __future__ import annotations

import copy
import inspect
import logging
import warnings
from collections.abc import Mapping
from typing import IO, Any, ClassVar

from django.conf import settings
from django.core.files.base import File
from django.core.files.storage import Storage
from django.utils.deconstruct import deconstructible

from storages.exceptions import MissingOptionError
from storages.files import StreamingFile, copy_stream
from storages.options import Option, OptionSet, Resolved, holds_secret, looks_secret, redact
from storages.utils import (
    get_available_overwrite_name,
    join_location,
    normalize_name,
    read_from_start,
)

logger = logging.getLogger("storages")

__all__ = ["BaseStorage"]

_warned_legacy: set[type] = set()


def _names_class(backend: Any, cls: type) -> bool:
    """Whether a ``STORAGES`` ``BACKEND`` value (a dotted path or alias) names ``cls``."""
    if backend is cls:
        return True
    if not isinstance(backend, str):
        return False
    if backend in (f"{cls.__module__}.{cls.__qualname__}", f"{cls.__module__}.{cls.__name__}"):
        return True
    from django.utils.module_loading import import_string

    return import_string(backend) is cls


@deconstructible
class BaseStorage(Storage):
    """Base class of every django-storages backend."""

    #: The backend's options; subclasses extend it (``BaseStorage.options.extend(...)``).
    options: ClassVar[OptionSet] = OptionSet()
    #: The option holding the key prefix or root folder names are confined to.
    location_option: ClassVar[str] = "location"
    #: The option that, when true, makes ``save()`` overwrite instead of renaming.
    overwrite_option: ClassVar[str | None] = None
    #: Longest accepted full key, in UTF-8 bytes (``None``: no limit).
    max_name_bytes: ClassVar[int | None] = None
    #: The file class returned by ``open()``.
    file_class: ClassVar[type[StreamingFile]] = StreamingFile
    #: Instance attributes holding connections or locks: dropped on pickling.
    transient_attributes: ClassVar[tuple[str, ...]] = ()
    #: The distribution to ``pip install`` for this backend (used in messages).
    distribution: ClassVar[str] = "django-storages-core"

    def __init__(self, **kwargs: Any) -> None:
        cls = type(self)
        self._options = cls._options_for(self)
        kwargs = cls._rebuilt_from_storages_entry(kwargs)
        # The 1.x pattern: ``self.location = "media"`` in a subclass, then ``super().__init__()``.
        preset = {name: value for name, value in vars(self).items() if name in self._options}
        resolved = self._options.resolve(cls, kwargs, preset=preset)
        self._option_sources: dict[str, Resolved] = resolved
        for name, result in resolved.items():
            if not result.source.startswith("class attribute"):
                # A shallow copy of containers, so that changing one storage's dict changes no
                # other's; other objects (credentials, configs) are shared as they were given.
                value = result.value
                setattr(self, name, copy.copy(value) if isinstance(value, dict | list | set) else value)
        self._drop_secrets_from_constructor_args()
        self.validate_options()
        self._init_transient()

    def _drop_secrets_from_constructor_args(self) -> None:
        # ``@deconstructible`` records the constructor arguments for ``deconstruct()``, which
        # writes them into migrations. Secrets, and values with a secret inside (a password in
        # a URL, a key in a dict), must not be written there. A storage rebuilt from
        # ``deconstruct()`` gets them back from its STORAGES entry (_rebuilt_from_storages_entry)
        # or, for an ad-hoc instance, from settings.
        args, kwargs = getattr(self, "_constructor_args", ((), {}))
        withheld = self._withheld(kwargs, self._options)
        self._constructor_args = (args, {k: v for k, v in kwargs.items() if k not in withheld})

    @classmethod
    def _withheld(cls, options: Mapping[str, Any], option_set: OptionSet) -> set[str]:
        """The keys of ``options`` that ``deconstruct()`` leaves out (secrets, nested ones too)."""
        return {k for k, v in options.items() if k in option_set and holds_secret(option_set[k], v)}

    @classmethod
    def _rebuilt_from_storages_entry(cls, kwargs: dict[str, Any]) -> dict[str, Any]:
        """The ``OPTIONS`` of the ``STORAGES`` entry that this storage was deconstructed from.

        A storage built from ``STORAGES[alias]`` deconstructs without its secrets; code that
        rebuilds it with ``import_string(path)(*args, **kwargs)`` (Wagtail's delete task, a
        migration) passes exactly that entry's other options. Those kwargs are recognised here,
        and the entry's secrets come back, so the rebuilt storage works with the same
        credentials. Kwargs that match no entry, or several entries with different secrets,
        are used as they are (secrets then come from settings or the environment).
        """
        entries = getattr(settings, "STORAGES", None)
        if not isinstance(entries, Mapping):
            return kwargs
        option_set = cls.options
        found: list[dict[str, Any]] = []
        for config in entries.values():
            options = (config.get("OPTIONS") or {}) if isinstance(config, Mapping) else None
            if not isinstance(options, Mapping):
                continue
            withheld = cls._withheld(options, option_set)
            if withheld & kwargs.keys():
                continue
            try:
                public = {k: v for k, v in options.items() if k not in withheld}
                if public != kwargs or not _names_class(config.get("BACKEND"), cls):
                    continue
            except Exception:  # an incomparable value, or a backend that cannot be imported
                logger.debug("STORAGES entry not compared with %s.", cls.__name__, exc_info=True)
                continue
            if not withheld:
                # An entry with exactly these options and no secrets: this is its storage
                # (``STORAGES["backup"]`` with no OPTIONS), not a rebuilt one of another entry.
                return kwargs
            if dict(options) not in found:
                found.append(dict(options))
        if len(found) == 1:
            return found[0]
        if found:
            logger.warning(
                "%s was built with options that match %d STORAGES entries with different secrets; "
                "their secrets are not used.",
                cls.__name__,
                len(found),
            )
        return kwargs

    @classmethod
    def _options_for(cls, instance: BaseStorage) -> OptionSet:
        """The options of ``instance``: the declared ones, plus a 1.x ``get_default_settings()``."""
        if cls.get_default_settings is BaseStorage.get_default_settings:
            return cls.options
        if cls not in _warned_legacy:
            _warned_legacy.add(cls)
            warnings.warn(
                f"{cls.__module__}.{cls.__qualname__}.get_default_settings() is deprecated: declare "
                "the options once with storages.options.OptionSet (each Option names its setting "
                "and default) instead.",
                DeprecationWarning,
                stacklevel=4,
            )
        defaults = instance.get_default_settings()
        extra = [
            Option(name, default=value, secret=looks_secret(name), doc="From get_default_settings().")
            for name, value in defaults.items()
            if name not in cls.options
        ]
        return cls.options.extend(*extra) if extra else cls.options

    @classmethod
    def accepted_options(cls) -> OptionSet:
        """The options a ``STORAGES`` entry may give this backend (for the system checks)."""
        if cls.get_default_settings is BaseStorage.get_default_settings:
            return cls.options
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                return cls._options_for(cls.__new__(cls))
        except Exception:  # noqa: BLE001 - a get_default_settings() that needs a built instance
            return cls.options

    @classmethod
    def init_arguments(cls) -> set[str]:
        """Keyword arguments of the constructors that are not options (``cloudfront_signer``,
        Django's ``manifest_storage``): accepted in ``OPTIONS`` too."""
        names: set[str] = set()
        for klass in cls.__mro__:
            init = vars(klass).get("__init__")
            if init is None:
                continue
            try:
                parameters = inspect.signature(init).parameters.values()
            except (TypeError, ValueError):
                continue
            names.update(
                p.name
                for p in parameters
                if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD) and p.name != "self"
            )
        return names - set(cls.options.names)

    def get_default_settings(self) -> dict[str, Any]:
        """Deprecated 1.x hook: ``{name: default}`` of a backend's options.

        Third-party backends written for django-storages 1.x override it; their names become
        options (accepted as keyword arguments) with a :class:`DeprecationWarning`. New code
        declares an :class:`~storages.options.OptionSet`.
        """
        return {}

    def _given_options(self) -> dict[str, Any]:
        """The options this storage was given as keyword arguments (secrets included)."""
        return {name: r.value for name, r in self._option_sources.items() if r.source == "OPTIONS"}

    # -- options --------------------------------------------------------------------------

    def validate_options(self) -> None:
        """Check combinations of options; raise ``ImproperlyConfigured``. No network here."""

    def check_required(self) -> None:
        """Raise :class:`MissingOptionError` for the first required option without a value.

        Providers call this before their first network call; the system checks call it at
        startup.
        """
        for option in self._options:
            if option.required and getattr(self, option.name, None) in (None, ""):
                raise MissingOptionError(type(self).__name__, option.name, option.looked_in())

    def check_configuration(self, where: str) -> list[Any]:
        """Extra system-check messages about this storage's configuration (``where``: the
        ``STORAGES[alias]`` it was built from). No network here. None by default."""
        return []

    def option_sources(self) -> dict[str, tuple[Any, str]]:
        """Effective value and origin of every option, secrets redacted."""
        result = {}
        for option in self._options:
            value = getattr(self, option.name, None)
            result[option.name] = (redact(option, value), self._option_sources[option.name].source)
        return result

    def __repr__(self) -> str:
        shown = []
        for option in self._options:
            value = getattr(self, option.name, None)
            if value == option.make_default() or value is None:
                continue
            shown.append(f"{option.name}={redact(option, value)!r}")
        return f"<{type(self).__name__}({', '.join(shown)})>"

    # -- pickling -------------------------------------------------------------------------

    def _init_transient(self) -> None:
        """Create the (empty) connection state; called at construction and after unpickling."""

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        for name in (*type(self).transient_attributes, "_options"):
            state.pop(name, None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._options = type(self)._options_for(self)
        self._init_transient()

    # -- names ----------------------------------------------------------------------------

    @property
    def _location(self) -> str:
        return str(getattr(self, self.location_option, "") or "")

    def _normalize_name(self, name: Any) -> str:
        """The full key or path of ``name``: normalised, confined below the location."""
        relative = normalize_name(name)
        full = join_location(self._location, relative)
        limit = self.max_name_bytes
        # A character is at most 4 bytes in UTF-8: most names need no encoding to know.
        if limit is not None and len(full) * 4 > limit and len(full.encode("utf-8")) > limit:
            from django.core.exceptions import SuspiciousFileOperation

            raise SuspiciousFileOperation(
                f"The key for {str(name)[:80]!r} is {len(full.encode('utf-8'))} bytes long; "
                f"{type(self).__name__} accepts at most {self.max_name_bytes}."
            )
        return full

    def _overwrites(self) -> bool:
        return bool(self.overwrite_option and getattr(self, self.overwrite_option, False))

    def get_available_name(self, name: str, max_length: int | None = None) -> str:
        name = normalize_name(name)
        if self._overwrites():
            return get_available_overwrite_name(name, max_length)
        return super().get_available_name(name, max_length)

    # -- files ----------------------------------------------------------------------------

    def _open(self, name: str, mode: str = "rb") -> StreamingFile:
        # The file refuses a bad mode itself (storages.files.parse_mode).
        relative = normalize_name(name)
        return self.file_class(relative, mode, self, key=self._normalize_name(relative))

    def _save(self, name: str, content: File[Any] | IO[Any]) -> str:
        """Stream ``content`` through a write-mode file: committed whole, or not at all."""
        target = self._open(name, "wb")
        with target:
            copy_stream(read_from_start(content), target)
        return normalize_name(name)
