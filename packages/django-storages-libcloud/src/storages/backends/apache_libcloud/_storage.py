"""``LibCloudStorage``: one container of any Apache Libcloud storage provider."""

from __future__ import annotations

import base64
import contextlib
import datetime
import email.utils
import hashlib
import hmac
import inspect
import os
import threading
import warnings
from collections.abc import Iterator
from typing import Any, ClassVar
from urllib.parse import urlencode

from storages.backends.apache_libcloud._config import ProviderEntry, parse_entry
from storages.backends.apache_libcloud._files import TEMPORARY_PREFIX, LibCloudFile
from storages.base import BaseStorage
from storages.exceptions import MissingDependencyError, StorageConfigurationError
from storages.options import Option, OptionSet
from storages.utils import check_location, setting_time, url_quote

try:
    from libcloud.common.types import LibcloudError
    from libcloud.storage.base import Container, Object
    from libcloud.storage.types import ObjectDoesNotExistError, Provider
except ImportError as exc:  # pragma: no cover - apache-libcloud is a dependency of the distribution
    raise MissingDependencyError("apache-libcloud", "django-storages-libcloud") from exc

__all__ = ["LibCloudStorage"]

# Held while LOCAL folders are pruned or a file moves into one (see _delete_local).
_LOCAL_FOLDERS = threading.Lock()

# Folder markers some tools create (Google's console, s3fs): neither files nor names to list.
_FOLDER_MARKER = "_$folder$"

LIBCLOUD_OPTIONS = OptionSet(
    Option(
        "provider_name",
        default="default",
        setting="DEFAULT_LIBCLOUD_PROVIDER",
        doc="Name of the LIBCLOUD_PROVIDERS entry to use (also the constructor's first argument).",
    ),
    Option(
        "providers",
        setting="LIBCLOUD_PROVIDERS",
        required=True,
        doc="Named provider entries: {name: {'type', 'user', 'key', 'bucket', [driver keywords such "
        "as 'region', 'project', 'host', 'port', 'secure']}}. Each entry's 'key' (and any "
        "secret-looking keyword) is redacted everywhere and never written into migrations.",
    ),
    Option(
        "location",
        default="",
        doc="Prefix of every object name inside the bucket; names are confined below it.",
    ),
    Option(
        "base_url",
        doc="URL of the bucket as it is served (a CDN, a web server in front of a LOCAL folder): "
        "url() is base_url + the percent-encoded name, with no request. Unset: the driver's URL.",
    ),
    Option(
        "file_overwrite",
        default=False,
        setting="LIBCLOUD_FILE_OVERWRITE",
        doc="Save over an existing object of the same name (one request) instead of choosing a "
        "new name (a check first), as the original always did.",
    ),
    Option(
        "timeout",
        default=60,
        setting="LIBCLOUD_TIMEOUT",
        doc="Seconds any network wait of the driver may take (an entry's own 'timeout' wins).",
    ),
)


class LibCloudStorage(BaseStorage):
    """Django storage on one container (``bucket``) of a libcloud storage driver.

    ``LibCloudStorage("amazon_1")`` or ``OPTIONS = {"provider_name": "amazon_1"}`` picks the
    ``LIBCLOUD_PROVIDERS`` entry; without it ``DEFAULT_LIBCLOUD_PROVIDER`` (``"default"``).
    The driver is created on first use, one per thread (libcloud's connection objects keep
    per-request state and are not thread-safe), and never pickled.
    """

    options: ClassVar[OptionSet] = LIBCLOUD_OPTIONS
    file_class = LibCloudFile
    overwrite_option = "file_overwrite"
    transient_attributes = ("_drivers",)
    distribution = "django-storages-libcloud"
    #: Object names of S3, Azure and Google Cloud Storage are at most 1024 bytes.
    max_name_bytes = 1024

    LibcloudError = LibcloudError

    provider_name: str
    providers: dict[str, Any] | None
    location: str
    base_url: str | None
    file_overwrite: bool
    timeout: float | None

    def __init__(self, provider_name: str | None = None, option: Any = None, **kwargs: Any) -> None:
        if provider_name is not None:
            kwargs["provider_name"] = provider_name
        if option is not None:
            warnings.warn(
                "LibCloudStorage's second argument 'option' was never used; remove it.",
                DeprecationWarning,
                stacklevel=2,
            )
        super().__init__(**kwargs)

    def validate_options(self) -> None:
        check_location(self)
        if self.providers is None:
            self.check_required()
        self._entry: ProviderEntry = parse_entry(self.providers, self.provider_name)
        self._entry.driver_class()  # refuses an unknown type now, without a request
        if self.timeout is not None and (not isinstance(self.timeout, int | float) or self.timeout <= 0):
            raise StorageConfigurationError(
                f"LibCloudStorage option 'timeout' is {self.timeout!r}; "
                "it must be a positive number of seconds."
            )

    def _init_transient(self) -> None:
        self._drivers = threading.local()

    # -- the driver -----------------------------------------------------------------------

    @property
    def is_local(self) -> bool:
        return self._entry.is_local

    @property
    def bucket(self) -> str:
        return self._entry.bucket

    @property
    def driver(self) -> Any:
        """This thread's libcloud driver, created on first use."""
        driver = getattr(self._drivers, "driver", None)
        if driver is None:
            entry = self._entry
            if self.timeout is not None and "timeout" not in entry.driver_kwargs:
                init = inspect.signature(entry.driver_class()).parameters
                if "timeout" in init or any(p.kind is p.VAR_KEYWORD for p in init.values()):
                    entry = ProviderEntry(
                        **{**vars(entry), "driver_kwargs": {**entry.driver_kwargs, "timeout": self.timeout}}
                    )
            driver = entry.create_driver()
            self._drivers.driver = driver
        return driver

    def _container(self, driver: Any) -> Any:
        # Built locally: driver.get_container() would cost a request before every call.
        return Container(name=self.bucket, extra={}, driver=driver)

    def _object(self, key: str, driver: Any) -> Any:
        return Object(
            name=key,
            size=0,
            hash="",
            extra={},
            meta_data={},
            container=self._container(driver),
            driver=driver,
        )

    def _local_path(self, key: str) -> str:
        return os.path.join(self.driver.base_path, self.bucket, *key.split("/"))

    @contextlib.contextmanager
    def _translate_missing(self, name: str) -> Iterator[None]:
        try:
            yield
        except ObjectDoesNotExistError:
            raise FileNotFoundError(f"File does not exist: {name}") from None

    def _stat(self, key: str) -> Any:
        """The object ``key`` (with size and times), or ``None``: one request."""
        driver = self.driver
        if self.is_local:
            path = self._local_path(key)
            if not os.path.isfile(path):
                return None
            with contextlib.suppress(ObjectDoesNotExistError):
                return driver.get_object(self.bucket, key)
            return None
        # The driver's get_object() asks for the container first (two requests). A listing
        # with the name as prefix is one: the name is the smallest key with that prefix, so
        # when it exists it is the first entry of the first page.
        listing = driver.iterate_container_objects(self._container(driver), prefix=key)
        try:
            first = next(iter(listing), None)
        finally:
            close = getattr(listing, "close", None)
            if close is not None:
                close()
        return first if first is not None and first.name == key else None

    def _existing(self, name: str) -> Any:
        obj = self._stat(self._normalize_name(name))
        if obj is None:
            raise FileNotFoundError(f"File does not exist: {name}")
        return obj

    # -- Storage API ----------------------------------------------------------------------

    def exists(self, name: str) -> bool:
        return self._stat(self._normalize_name(name)) is not None

    def size(self, name: str) -> int:
        return int(self._existing(name).size)

    def delete(self, name: str) -> None:
        key = self._normalize_name(name)
        if self.is_local:
            self._delete_local(key)
            return
        driver = self.driver
        with contextlib.suppress(ObjectDoesNotExistError):
            driver.delete_object(self._object(key, driver))

    def _delete_local(self, key: str) -> None:
        """Remove a LOCAL file and the folders it leaves empty, up to the container.

        Not the driver's delete_object: its folder pruning raises when another thread removed
        the same folder a moment before. Pruning and moving a file into a folder hold one lock,
        so a folder is never removed under a file that is moving in.
        """
        path = self._local_path(key)
        container = os.path.join(self.driver.base_path, self.bucket)
        with _LOCAL_FOLDERS:
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)
            folder = os.path.dirname(path)
            while len(folder) > len(container) and folder.startswith(container):
                try:
                    os.rmdir(folder)
                except OSError:  # not empty, or already removed
                    break
                folder = os.path.dirname(folder)

    def _move_local(self, source: str, target: str) -> None:
        """Rename the finished upload ``source`` over ``target`` (atomic on one filesystem)."""
        source_path, target_path = self._local_path(source), self._local_path(target)
        for attempt in range(5):
            with _LOCAL_FOLDERS:
                os.makedirs(os.path.dirname(target_path), exist_ok=True)
                try:
                    os.replace(source_path, target_path)
                    return
                except FileNotFoundError:
                    # Another process pruned the folder between the two calls.
                    if attempt == 4 or not os.path.exists(source_path):
                        raise

    def get_modified_time(self, name: str) -> datetime.datetime:
        extra = self._existing(name).extra or {}
        if "modify_time" in extra:  # LOCAL: a POSIX timestamp
            return setting_time(float(extra["modify_time"]))
        value = extra.get("last_modified")
        if not value:
            raise NotImplementedError(
                f"The {self._entry.provider} driver does not report modification times."
            )
        return setting_time(_parse_time(str(value)))

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        prefix = self._normalize_name(path)
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        if self.is_local:
            return self._listdir_local(prefix)
        driver = self.driver
        directories: dict[str, None] = {}
        files: list[str] = []
        for obj in driver.iterate_container_objects(self._container(driver), prefix=prefix or None):
            relative = obj.name[len(prefix) :]
            head, slash, _rest = relative.partition("/")
            if slash:
                if head:
                    directories[head] = None
            elif relative and not relative.endswith(_FOLDER_MARKER):
                files.append(relative)
            elif relative.endswith(_FOLDER_MARKER) and relative != _FOLDER_MARKER:
                directories[relative[: -len(_FOLDER_MARKER)]] = None
        return list(directories), files

    def _listdir_local(self, prefix: str) -> tuple[list[str], list[str]]:
        folder = (
            self._local_path(prefix.rstrip("/"))
            if prefix
            else os.path.join(self.driver.base_path, self.bucket)
        )
        directories: list[str] = []
        files: list[str] = []
        try:
            entries = list(os.scandir(folder))
        except (FileNotFoundError, NotADirectoryError):
            return [], []
        for entry in entries:
            if entry.name.startswith(TEMPORARY_PREFIX) or entry.name in (".lock", ".hash"):
                continue
            (directories if entry.is_dir() else files).append(entry.name)
        return directories, files

    def url(self, name: str | None) -> str:
        key = self._normalize_name(name or "")
        if self.base_url:
            return f"{self.base_url.rstrip('/')}/{url_quote(key)}"
        if self.is_local:
            raise StorageConfigurationError(
                f"LibCloudStorage on the LOCAL driver ({self._entry.where()}) has no URL: set the "
                "option 'base_url' to where the folder is served."
            )
        if self._entry.provider == Provider.GOOGLE_STORAGE:
            # libcloud's Google driver cannot sign URLs, and building it can start an
            # interactive OAuth flow: the public URL needs no driver at all.
            return self._fallback_url(key, None)
        driver = self.driver
        if self._entry.provider == Provider.AZURE_BLOBS and getattr(driver, "_auth_type", None) != "azureAd":
            return _azure_sas_url(driver, self.bucket, key)
        with contextlib.suppress(NotImplementedError):
            return str(driver.get_object_cdn_url(self._object(key, driver)))
        return self._fallback_url(key, driver)

    def _fallback_url(self, key: str, driver: Any) -> str:
        """A plain URL for drivers that cannot build one (public objects only)."""
        provider = self._entry.provider
        path = f"{url_quote(self.bucket)}/{url_quote(key)}"
        if provider == Provider.GOOGLE_STORAGE:
            return f"https://storage.googleapis.com/{path}"
        if provider == Provider.AZURE_BLOBS:
            return f"https://{self._entry.user}.blob.core.windows.net/{path}"
        connection = getattr(driver, "connection", None)
        if "s3" in provider or provider in (Provider.MINIO, Provider.DIGITALOCEAN_SPACES):
            scheme = "https" if getattr(driver, "secure", True) else "http"
            host = connection.host if connection is not None else ""
            port = getattr(connection, "port", None)
            default_port = 443 if scheme == "https" else 80
            netloc = host if port in (None, default_port) else f"{host}:{port}"
            return f"{scheme}://{netloc}/{path}"
        raise NotImplementedError(
            f"The libcloud {provider!r} driver cannot build URLs; set the LibCloudStorage option "
            "'base_url' to where the bucket is served."
        )


def _azure_sas_url(driver: Any, container: str, key: str) -> str:
    """A read-only SAS URL for a blob, signed locally with the account key.

    libcloud's ``get_object_cdn_url`` signs the percent-encoded name, but Azure signs the
    decoded one: its URLs for names with spaces, ``+``, ``&``, ``#`` or non-ASCII characters
    are refused with 403. Same parameters as libcloud's, with the name signed as Azure wants.
    """
    from libcloud.storage.drivers import azure_blobs

    now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    start = now - datetime.timedelta(minutes=azure_blobs.AZURE_STORAGE_CDN_URL_START_MINUTES)
    expiry = now + datetime.timedelta(hours=azure_blobs.AZURE_STORAGE_CDN_URL_EXPIRY_HOURS)
    date_format = azure_blobs.AZURE_STORAGE_CDN_URL_DATE_FORMAT
    params = {
        "st": start.strftime(date_format),
        "se": expiry.strftime(date_format),
        "sp": "r",
        "spr": "https" if driver.secure else "http,https",
        "sv": driver.connectionCls.API_VERSION,
        "sr": "b",
    }
    resource = f"/blob/{driver.key}/{container}/{key}"
    string_to_sign = "\n".join(
        (
            params["sp"],
            params["st"],
            params["se"],
            resource,
            "",
            "",
            params["spr"],
            params["sv"],
            params["sr"],
        )
        + ("",) * 6
    )
    digest = hmac.new(driver.secret, string_to_sign.encode("utf-8"), hashlib.sha256).digest()
    params["sig"] = base64.b64encode(digest).decode("ascii")
    connection = driver.connection
    path = connection.morph_action_hook(f"/{url_quote(container)}/{url_quote(key)}")
    scheme = "https" if driver.secure else "http"
    return f"{scheme}://{connection.host}:{connection.port}{path}?{urlencode(params)}"


def _parse_time(value: str) -> datetime.datetime:
    """A ``Last-Modified`` header (RFC 7231) or a listing's ISO 8601 time, aware."""
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.UTC)
    return parsed
