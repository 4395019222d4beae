"""One ``LIBCLOUD_PROVIDERS`` entry: checked, resolved to a driver class, turned into a driver.

Nothing here makes a request: the storage checks its entry when it is built and creates the
driver (which, for the HTTP drivers, opens no connection either) on first use.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from storages.exceptions import StorageConfigurationError

__all__ = ["PROVIDER_PATH", "ProviderEntry", "parse_entry"]

#: The dotted prefix of a ``type`` given as a string, as the original documented it.
PROVIDER_PATH = "libcloud.storage.types.Provider."

#: Entry keys the storage uses itself; every other key is a driver keyword argument.
_OWN_KEYS = ("type", "user", "key", "bucket")


@dataclass(frozen=True)
class ProviderEntry:
    """A checked ``LIBCLOUD_PROVIDERS[name]``. ``key`` (the secret) is kept out of ``repr()``."""

    name: str
    provider: str  # a libcloud.storage.types.Provider value, e.g. "s3"
    user: Any
    key: Any = field(repr=False)
    bucket: str
    driver_kwargs: dict[str, Any]

    @property
    def is_local(self) -> bool:
        from libcloud.storage.types import Provider

        return self.provider == Provider.LOCAL

    def where(self) -> str:
        return f"LIBCLOUD_PROVIDERS[{self.name!r}]"

    def driver_class(self) -> type:
        from libcloud.storage.providers import get_driver

        try:
            return get_driver(self.provider)
        except Exception as exc:  # noqa: BLE001 - AttributeError or ImportError from libcloud's table
            raise StorageConfigurationError(
                f"{self.where()}['type'] is {self.provider!r}, which libcloud has no storage "
                f"driver for ({type(exc).__name__})."
            ) from None

    def create_driver(self) -> Any:
        """A new driver; construction errors become ``ImproperlyConfigured`` without the key."""
        cls = self.driver_class()
        kwargs = dict(self.driver_kwargs)
        if self.is_local:
            # libcloud's LOCAL driver takes a lock file in the system temporary folder for every
            # object path it writes (and never removes it). Uploads here go to a temporary name
            # and are renamed into place, so the lock adds nothing but stray files.
            kwargs.setdefault("ex_use_locking", False)
        try:
            driver = cls(self.user, self.key, **kwargs)
        except Exception as exc:  # noqa: BLE001 - any driver's own error becomes a configuration error
            message = str(exc)
            if self.key not in (None, "") and str(self.key) in message:
                message = message.replace(str(self.key), "***")
            raise StorageConfigurationError(
                f"Unable to create the libcloud driver for {self.where()} (type {self.provider!r}): "
                f"{type(exc).__name__}: {message}"
            ) from None
        connection = getattr(driver, "connection", None)
        if connection is not None and getattr(connection, "conn_class", None) is not None:
            connection.conn_class = _timed_connection_class()
            if connection.connection is not None:
                connection.connect()  # the driver connected in __init__ (no request is sent)
        return driver


def _timed_connection_class() -> type:
    """libcloud's HTTP connection with its timeout on raw requests too.

    ``LibcloudConnection.prepared_request``, which sends every download and upload, calls
    ``session.send()`` without the timeout (``request()`` passes it): a server that stalls in
    the middle of a transfer would block the caller for ever.
    """
    global _TimedConnection
    if _TimedConnection is None:
        import requests
        from libcloud.http import LibcloudConnection

        class TimedLibcloudConnection(LibcloudConnection):
            def prepared_request(
                self,
                method: str,
                url: str,
                body: Any = None,
                headers: Any = None,
                raw: bool = False,
                stream: bool = False,
            ) -> None:
                normalize: Any = self._normalize_headers
                session: Any = self.session
                request = requests.Request(
                    method, f"{self.host}{url}", data=body, headers=normalize(headers=headers)
                )
                prepared = session.prepare_request(request)
                self.response = session.send(
                    prepared,
                    stream=stream,
                    verify=self.ca_cert if self.ca_cert is not None else self.verify,
                    timeout=session.timeout,
                )

        _TimedConnection = TimedLibcloudConnection
    return _TimedConnection


_TimedConnection: type | None = None


def resolve_type(value: Any, where: str) -> str:
    """A ``Provider`` value from a constant (``Provider.S3``, ``"s3"``) or its dotted path."""
    from libcloud.storage.types import Provider

    known = {name: getattr(Provider, name) for name in dir(Provider) if name.isupper()}
    if isinstance(value, str) and value.startswith(PROVIDER_PATH):
        tag = value[len(PROVIDER_PATH) :]
        if tag in known:
            return str(known[tag])
        close = difflib.get_close_matches(tag, list(known), n=1)
        hint = f" Did you mean {PROVIDER_PATH}{close[0]}?" if close else ""
        if tag.startswith("S3_") and tag.endswith("_HOST"):
            # The names of the original's docs (S3_US_STANDARD_HOST, S3_EU_WEST_HOST) are gone.
            hint = f" Use {PROVIDER_PATH}S3 with the entry key 'region' (for example 'us-east-1')."
        raise StorageConfigurationError(
            f"{where}['type'] is {value!r}: libcloud has no Provider.{tag}.{hint}"
        )
    if isinstance(value, str) and value in known.values():
        return value
    if isinstance(value, str) and "." in value:
        raise StorageConfigurationError(
            f"{where}['type'] is {value!r}: a dotted type must start with {PROVIDER_PATH!r} "
            f"(for example '{PROVIDER_PATH}S3')."
        )
    raise StorageConfigurationError(
        f"{where}['type'] is {value!r}: use a libcloud.storage.types.Provider constant "
        f"(Provider.S3) or its dotted path ('{PROVIDER_PATH}S3')."
    )


def parse_entry(providers: Any, name: str) -> ProviderEntry:
    """Check ``providers[name]`` and return it; every error names the entry and the key."""
    if not isinstance(providers, Mapping) or not providers:
        raise StorageConfigurationError(
            "LibCloudStorage needs LIBCLOUD_PROVIDERS: a dict of named entries such as "
            "{'default': {'type': 'libcloud.storage.types.Provider.S3', 'user': ..., 'key': ..., "
            "'bucket': ...}}."
        )
    if name not in providers:
        defined = ", ".join(repr(n) for n in providers)
        raise StorageConfigurationError(
            f"LIBCLOUD_PROVIDERS has no entry {name!r} (chosen by provider_name or "
            f"DEFAULT_LIBCLOUD_PROVIDER); it defines {defined}."
        )
    where = f"LIBCLOUD_PROVIDERS[{name!r}]"
    entry = providers[name]
    if not isinstance(entry, Mapping):
        raise StorageConfigurationError(f"{where} must be a dict with 'type', 'user', 'key' and 'bucket'.")
    for required in ("type", "user", "bucket"):
        if entry.get(required) in (None, ""):
            raise StorageConfigurationError(f"{where} has no {required!r}: {_explain(required)}")
    provider = resolve_type(entry["type"], where)
    from libcloud.storage.types import Provider

    if provider != Provider.LOCAL and entry.get("key") in (None, ""):
        raise StorageConfigurationError(f"{where} has no 'key': {_explain('key')}")
    if not isinstance(entry["bucket"], str):
        raise StorageConfigurationError(f"{where}['bucket'] must be a string (the container name).")
    extra = {k: v for k, v in entry.items() if k not in _OWN_KEYS}
    return ProviderEntry(
        name=name,
        provider=provider,
        user=entry["user"],
        key=entry.get("key"),
        bucket=entry["bucket"],
        driver_kwargs=extra,
    )


def _explain(key: str) -> str:
    return {
        "type": "the libcloud provider, e.g. 'libcloud.storage.types.Provider.S3'.",
        "user": "the driver's first argument (access key id, account name; the folder for LOCAL).",
        "key": "the driver's secret (secret access key, account key).",
        "bucket": "the container that holds the files.",
    }[key]
