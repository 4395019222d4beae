"""``BaseStorage``: what every provider's storage class inherits.

It resolves the backend's declared :class:`~storages.options.OptionSet` (see
:mod:`storages.options` for the precedence), keeps secrets out of ``repr()`` and migrations,
turns user names into confined keys, opens :class:`~storages.files.StreamingFile` objects, and
drops live connections when pickled.
"""

from __future__ import annotations

import copy
import logging
from typing import IO, Any, ClassVar

from django.core.files.base import File
from django.core.files.storage import Storage
from django.utils.deconstruct import deconstructible

from storages.exceptions import MissingOptionError
from storages.files import StreamingFile, copy_stream
from storages.options import OptionSet, Resolved, redact
from storages.utils import (
    get_available_overwrite_name,
    join_location,
    normalize_name,
    read_from_start,
)

logger = logging.getLogger("storages")

__all__ = ["BaseStorage"]


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
        resolved = type(self).options.resolve(type(self), kwargs)
        self._option_sources: dict[str, Resolved] = resolved
        for name, result in resolved.items():
            if not result.source.startswith("class attribute"):
                setattr(self, name, copy.copy(result.value))
        self._drop_secrets_from_constructor_args()
        self.validate_options()
        self._init_transient()

    def _drop_secrets_from_constructor_args(self) -> None:
        # ``@deconstructible`` records the constructor arguments for ``deconstruct()``, which
        # writes them into migrations. Secrets must not be written there: a storage given a key
        # through OPTIONS deconstructs without it and resolves it again from settings.
        args, kwargs = getattr(self, "_constructor_args", ((), {}))
        secrets = {o.name for o in type(self).options if o.secret}
        self._constructor_args = (args, {k: v for k, v in kwargs.items() if k not in secrets})

    # -- options --------------------------------------------------------------------------

    def validate_options(self) -> None:
        """Check combinations of options; raise ``ImproperlyConfigured``. No network here."""

    def check_required(self) -> None:
        """Raise :class:`MissingOptionError` for the first required option without a value.

        Providers call this before their first network call; the system checks call it at
        startup.
        """
        for option in type(self).options:
            if option.required and getattr(self, option.name, None) in (None, ""):
                raise MissingOptionError(type(self).__name__, option.name, option.looked_in())

    def option_sources(self) -> dict[str, tuple[Any, str]]:
        """Effective value and origin of every option, secrets redacted."""
        result = {}
        for option in type(self).options:
            value = getattr(self, option.name, None)
            result[option.name] = (redact(option, value), self._option_sources[option.name].source)
        return result

    def __repr__(self) -> str:
        shown = []
        for option in type(self).options:
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
        for name in type(self).transient_attributes:
            state.pop(name, None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._init_transient()

    # -- names ----------------------------------------------------------------------------

    @property
    def _location(self) -> str:
        return str(getattr(self, self.location_option, "") or "")

    def _normalize_name(self, name: Any) -> str:
        """The full key or path of ``name``: normalised, confined below the location."""
        relative = normalize_name(name)
        full = join_location(self._location, relative)
        if self.max_name_bytes is not None and len(full.encode("utf-8")) > self.max_name_bytes:
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
