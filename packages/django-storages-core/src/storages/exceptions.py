"""Exceptions shared by every django-storages provider.

All configuration errors are :class:`~django.core.exceptions.ImproperlyConfigured`
subclasses, so existing ``except ImproperlyConfigured`` blocks keep working; the
subclasses let system checks and tests tell the kinds apart.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured


class StorageConfigurationError(ImproperlyConfigured):
    """A storage is configured in a way that cannot work."""


class UnknownOptionError(StorageConfigurationError):
    """An option was given that the backend does not declare."""

    def __init__(self, backend: str, key: str, closest: str | None, valid: list[str]) -> None:
        self.backend = backend
        self.key = key
        self.closest = closest
        hint = f" Did you mean '{closest}'?" if closest else ""
        super().__init__(
            f"{backend} has no option '{key}'.{hint} Valid options are: {', '.join(sorted(valid))}."
        )


class MissingOptionError(StorageConfigurationError):
    """A required option has no value anywhere it is looked up."""

    def __init__(self, backend: str, option: str, looked_in: list[str]) -> None:
        self.backend = backend
        self.option = option
        super().__init__(
            f"{backend} needs the option '{option}', but it is not set. Set it in {' or '.join(looked_in)}."
        )


class MissingDependencyError(StorageConfigurationError):
    """A provider's SDK (or the provider distribution itself) is not installed."""

    def __init__(self, what: str, distribution: str, extra: str | None = None) -> None:
        self.distribution = distribution
        self.install_line = f"pip install {distribution}"
        message = f"{what} is not installed. Install it with: {self.install_line}"
        if extra:
            message = f"{message}\n{extra}"
        super().__init__(message)


class BackendNotInstalledError(MissingDependencyError):
    """A storage alias names a provider that is not installed."""


class DuplicateAliasError(StorageConfigurationError):
    """Two installed distributions declare the same storage alias."""


class StorageWriteError(OSError):
    """A write-mode file cannot be used any more because an earlier write to it failed.

    Raised by every ``write()`` after the failure and by ``close()``: the upload was aborted,
    nothing was published under the file's name. The original error is the ``__cause__``.
    """
