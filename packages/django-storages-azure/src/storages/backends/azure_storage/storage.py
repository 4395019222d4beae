"""``AzureStorage``: Azure Blob Storage through one ``BlobServiceClient`` per storage."""

from __future__ import annotations

import contextlib
import datetime
import math
import threading
import time
import warnings
from collections.abc import Iterator, Mapping
from typing import IO, Any, ClassVar
from urllib.parse import urlsplit

from django.core.exceptions import SuspiciousFileOperation
from django.core.files.base import File
from django.utils.deconstruct import deconstructible

from storages.backends.azure_storage.files import AzureStorageFile
from storages.backends.azure_storage.http import MAX_IDLE_SECONDS, make_session
from storages.backends.azure_storage.signing import BlobSasSigner, sas_permission
from storages.base import BaseStorage
from storages.compress import guess_content_type
from storages.exceptions import MissingDependencyError, StorageConfigurationError
from storages.files import copy_stream
from storages.options import Option, OptionSet
from storages.utils import check_location, normalize_name, read_from_start, setting_time, url_quote

try:
    from azure.core.exceptions import ResourceNotFoundError
    from azure.core.pipeline.transport import RequestsTransport
    from azure.storage.blob import (
        BlobSasPermissions,
        BlobServiceClient,
        ContentSettings,
        ExponentialRetry,
        generate_blob_sas,
    )
except ImportError as exc:  # pragma: no cover - the SDK is a dependency of the distribution
    raise MissingDependencyError(
        "azure-storage-blob (the Azure Blob Storage SDK)", "django-storages-azure"
    ) from exc

__all__ = ["AzureStorage"]

#: Azure's limits on blob names (characters, path segments).
MAX_NAME_CHARACTERS = 1024
MAX_SEGMENTS = 254

#: Retries when ``client_options`` names none: a refused connection is retried once after
#: about half a second, a read that timed out is not retried (the call raises within
#: ``timeout``), and 5xx/408 answers are retried twice. The SDK's default waits 15 s and more
#: between attempts, so a dead endpoint took minutes to fail.
DEFAULT_RETRY = {"retry_total": 3, "retry_connect": 1, "retry_read": 0, "retry_status": 2}
_RETRY_KEYS = ("retry_total", "retry_connect", "retry_read", "retry_status")

#: A user delegation key is requested for this long and renewed this long before it ends.
DELEGATION_KEY_LIFETIME = datetime.timedelta(days=7)
DELEGATION_KEY_MARGIN = datetime.timedelta(minutes=5)

AZURE_OPTIONS = OptionSet(
    Option(
        "account_name",
        setting="AZURE_ACCOUNT_NAME",
        doc="Storage account name; taken from connection_string when that has AccountName.",
    ),
    Option(
        "account_key",
        setting="AZURE_ACCOUNT_KEY",
        secret=True,
        doc="Shared key of the account; signs SAS URLs. Taken from connection_string's AccountKey if unset.",
    ),
    Option(
        "object_parameters",
        default_factory=dict,
        setting="AZURE_OBJECT_PARAMETERS",
        doc="ContentSettings for every upload (content_type, content_encoding, content_language, "
        "content_disposition, cache_control, content_md5); per object: override get_object_parameters(name).",
    ),
    Option(
        "azure_container",
        setting="AZURE_CONTAINER",
        required=True,
        doc="Container holding the files (never created by the storage).",
    ),
    Option("azure_ssl", default=True, setting="AZURE_SSL", doc="https (True) or http account URLs."),
    Option(
        "upload_max_conn",
        default=2,
        setting="AZURE_UPLOAD_MAX_CONN",
        doc="Blocks of one upload sent at once.",
    ),
    Option(
        "timeout",
        default=20,
        setting="AZURE_CONNECTION_TIMEOUT_SECS",
        doc="Seconds any network wait may take (connect and each read), also the server-side timeout.",
    ),
    Option(
        "max_memory_size",
        default=2 * 1024 * 1024,
        setting="AZURE_BLOB_MAX_MEMORY_SIZE",
        doc="No effect: files stream in blocks, memory stays bounded whatever the size.",
    ),
    Option(
        "expiration_secs",
        setting="AZURE_URL_EXPIRATION_SECS",
        doc="Lifetime of SAS URLs from url(). None: unsigned URLs (the container must be public).",
    ),
    Option(
        "overwrite_files",
        default=False,
        setting="AZURE_OVERWRITE_FILES",
        doc="Save over an existing blob of the same name instead of choosing a new name.",
    ),
    Option("location", default="", setting="AZURE_LOCATION", doc="Prefix of every blob name."),
    Option(
        "default_content_type",
        default="application/octet-stream",
        doc="Content type when neither object_parameters nor the name gives one.",
    ),
    Option("cache_control", setting="AZURE_CACHE_CONTROL", doc="Cache-Control of every upload."),
    Option(
        "sas_token",
        setting="AZURE_SAS_TOKEN",
        secret=True,
        doc="SAS token used as the credential (when there is no account_key).",
    ),
    Option(
        "endpoint_suffix",
        default="core.windows.net",
        setting="AZURE_ENDPOINT_SUFFIX",
        doc="DNS suffix of the blob endpoint, e.g. core.chinacloudapi.cn.",
    ),
    Option(
        "custom_domain",
        setting="AZURE_CUSTOM_DOMAIN",
        doc="Domain (CDN) that replaces the account host in URLs, e.g. mycdn.azureedge.net.",
    ),
    Option(
        "connection_string",
        setting="AZURE_CONNECTION_STRING",
        secret=True,
        doc="Connection string; takes precedence over the other credentials and the endpoint.",
    ),
    Option(
        "token_credential",
        setting="AZURE_TOKEN_CREDENTIAL",
        secret=True,
        doc="An azure-identity credential, e.g. DefaultAzureCredential(); SAS URLs then use a "
        "user delegation key.",
    ),
    Option(
        "api_version",
        setting="AZURE_API_VERSION",
        deprecated="set client_options={'api_version': ...} (or AZURE_CLIENT_OPTIONS) instead.",
        doc="Deprecated: the service API version; use client_options.",
    ),
    Option(
        "client_options",
        default_factory=dict,
        setting="AZURE_CLIENT_OPTIONS",
        doc="Keyword arguments for BlobServiceClient (retry_total, connection_timeout, api_version, "
        "transport ...), also with a connection string.",
    ),
)


def parse_connection_string(value: str) -> dict[str, str]:
    """``Key=Value;...`` as a dict (case kept). The value is a secret: never echo it."""
    result: dict[str, str] = {}
    for part in value.split(";"):
        if not part.strip():
            continue
        key, sep, item = part.partition("=")
        if not sep:
            raise StorageConfigurationError(
                "AZURE_CONNECTION_STRING/connection_string is malformed: every part must be Key=Value."
            )
        result[key.strip()] = item.strip()
    return result


@deconstructible
class AzureStorage(BaseStorage):
    """Azure Blob Storage.

    One ``BlobServiceClient`` per storage, created on the first request and shared by threads
    (the SDK's clients are thread-safe). Building SAS and public URLs is local string and HMAC
    work: no client, no request (except the user delegation key, fetched once a week).
    """

    options = AZURE_OPTIONS
    overwrite_option = "overwrite_files"
    file_class = AzureStorageFile
    transient_attributes: ClassVar[tuple[str, ...]] = (
        "_service_client",
        "_container_client",
        "_client_lock",
        "_signer",
        "_base_url",
        "_user_delegation_key",
        "_user_delegation_key_expiry",
    )
    distribution = "django-storages-azure"

    #: Blobs per ``listdir`` page (Azure's maximum and default is 5000).
    list_page_size: ClassVar[int] = 5000
    #: Connections kept per host (threads beyond it wait for one).
    max_pool_connections: ClassVar[int] = 32
    #: Store the MD5 of every upload as its Content-MD5 (Azure computes it only for Put Blob).
    store_content_md5: ClassVar[bool] = False
    #: A pooled connection idle for longer is replaced (networks drop idle connections silently).
    max_idle_seconds: ClassVar[float] = MAX_IDLE_SECONDS

    account_name: str | None
    account_key: str | None
    object_parameters: dict[str, Any]
    azure_container: str
    azure_ssl: bool
    upload_max_conn: int
    timeout: float
    max_memory_size: int
    expiration_secs: int | None
    overwrite_files: bool
    location: str
    default_content_type: str
    cache_control: str | None
    sas_token: str | None
    endpoint_suffix: str
    custom_domain: str | None
    connection_string: str | None
    token_credential: Any
    api_version: str | None
    client_options: dict[str, Any]

    # -- configuration --------------------------------------------------------------------

    def validate_options(self) -> None:
        check_location(self)
        self._connection_parts: dict[str, str] = {}
        if self.connection_string:
            self._connection_parts = parse_connection_string(self.connection_string)
            # Each filled independently (django-storages#1225, #1312).
            if not self.account_name:
                self.account_name = self._connection_parts.get("AccountName")
            if not self.account_key:
                self.account_key = self._connection_parts.get("AccountKey")
        if self.client_options is not None and not isinstance(self.client_options, Mapping):
            raise StorageConfigurationError(
                "AZURE_CLIENT_OPTIONS/client_options must be a dict, not "
                f"{type(self.client_options).__name__}."
            )
        if int(self.upload_max_conn) < 1:
            raise StorageConfigurationError(
                f"AZURE_UPLOAD_MAX_CONN/upload_max_conn is {self.upload_max_conn}; it must be at least 1."
            )
        if self.account_key is not None and self.token_credential is not None and not self.connection_string:
            warnings.warn(
                "AzureStorage has both account_key and token_credential: the account key is used.",
                stacklevel=4,
            )

    def _init_transient(self) -> None:
        self._service_client: Any = None
        self._container_client: Any = None
        self._client_lock = threading.Lock()
        self._signer: BlobSasSigner | None = None
        self._base_url: str | None = None
        self._user_delegation_key: Any = None
        self._user_delegation_key_expiry: datetime.datetime | None = None

    @property
    def server_timeout(self) -> int:
        """``timeout`` as the whole seconds Azure's ``timeout`` query parameter takes."""
        return max(1, math.ceil(float(self.timeout)))

    def get_name_max_len(self) -> int:
        """Longest name ``save()`` accepts (Azure's 1,024 characters less the location)."""
        location = self._location
        return MAX_NAME_CHARACTERS - (len(location.rstrip("/")) + 1 if location else 0)

    # -- the client -----------------------------------------------------------------------

    def _account_url(self) -> str:
        protocol = "https" if self.azure_ssl else "http"
        return f"{protocol}://{self.account_name}.blob.{self.endpoint_suffix}"

    def _client_kwargs(self) -> dict[str, Any]:
        kwargs = dict(self.client_options or {})
        if self.api_version and "api_version" not in kwargs:
            kwargs["api_version"] = self.api_version
        if "retry_policy" not in kwargs:
            retry = {key: kwargs.pop(key, DEFAULT_RETRY[key]) for key in _RETRY_KEYS}
            kwargs["retry_policy"] = ExponentialRetry(
                initial_backoff=kwargs.pop("initial_backoff", 0.5),
                increment_base=kwargs.pop("increment_base", 2),
                random_jitter_range=kwargs.pop("random_jitter_range", 0.25),
                **retry,
            )
        if "transport" not in kwargs:
            kwargs["transport"] = RequestsTransport(
                session=make_session(self.max_pool_connections, self.max_idle_seconds),
                session_owner=True,
                connection_timeout=kwargs.pop("connection_timeout", self.timeout),
                read_timeout=kwargs.pop("read_timeout", self.timeout),
            )
        # Reads are streamed in ranges of this size; the first range also answers small reads.
        kwargs.setdefault("max_single_get_size", AzureStorageFile.read_range_size)
        kwargs.setdefault("max_chunk_get_size", AzureStorageFile.read_range_size)
        return kwargs

    def _create_service_client(self) -> Any:
        self.check_required()
        kwargs = self._client_kwargs()
        if self.connection_string:
            # client_options apply here too (the original ignored them on this path).
            return BlobServiceClient.from_connection_string(self.connection_string, **kwargs)
        if not self.account_name:
            raise StorageConfigurationError(
                "AzureStorage needs AZURE_ACCOUNT_NAME/account_name or "
                "AZURE_CONNECTION_STRING/connection_string."
            )
        credential: Any = None
        if self.account_key:
            credential = {"account_name": self.account_name, "account_key": self.account_key}
        elif self.sas_token:
            credential = self.sas_token
        elif self.token_credential is not None:
            credential = self.token_credential
        return BlobServiceClient(self._account_url(), credential=credential, **kwargs)

    @property
    def service_client(self) -> Any:
        """The ``BlobServiceClient`` (created on first use, shared by threads)."""
        if self._service_client is None:
            with self._client_lock:
                if self._service_client is None:
                    self._service_client = self._create_service_client()
        return self._service_client

    @property
    def client(self) -> Any:
        """The ``ContainerClient`` of ``azure_container``."""
        if self._container_client is None:
            container = self.service_client.get_container_client(self.azure_container)
            with self._client_lock:
                if self._container_client is None:
                    self._container_client = container
        return self._container_client

    def blob_client(self, key: str) -> Any:
        return self.client.get_blob_client(key)

    # -- names ----------------------------------------------------------------------------

    def _normalize_name(self, name: Any) -> str:
        full = super()._normalize_name(name)
        if len(full) > MAX_NAME_CHARACTERS:
            raise SuspiciousFileOperation(
                f"The blob name for {str(name)[:80]!r}... is {len(full)} characters long; Azure accepts "
                f"at most {MAX_NAME_CHARACTERS} (AzureStorage.get_name_max_len() gives the room left)."
            )
        if full.count("/") + 1 > MAX_SEGMENTS:
            raise SuspiciousFileOperation(
                f"The blob name for {str(name)[:80]!r}... has {full.count('/') + 1} path segments; "
                f"Azure accepts at most {MAX_SEGMENTS}."
            )
        return full

    def _blob_name(self, name: Any) -> str:
        """The full blob name of a file: also refuses what Azure cannot store as a blob."""
        key = self._normalize_name(name)
        if not key or key.endswith("/"):
            raise SuspiciousFileOperation(
                f"{str(name)!r} names a folder, not a blob: a blob name cannot be empty or end with a slash."
            )
        if key.endswith("."):
            raise SuspiciousFileOperation(
                f"Azure cannot store a blob named {str(name)[:80]!r}: blob names must not end with a dot."
            )
        return key

    # -- parameters -----------------------------------------------------------------------

    def get_object_parameters(self, name: str) -> dict[str, Any]:
        """ContentSettings keyword arguments for ``name`` (its full blob name). Override hook."""
        return dict(self.object_parameters or {})

    def _content_settings(self, key: str) -> Any:
        """Content settings of an upload to ``key``.

        The type comes from ``object_parameters`` or the name, never from the uploaded file's
        ``content_type`` (which the browser chose). A compressed web file (``.svgz``,
        ``.js.gz``) keeps its type and ``Content-Encoding`` as in 1.x; archive names such as
        ``.tar.gz`` get their archive type and no ``Content-Encoding``: their bytes are stored
        and served as they are.
        """
        content_type, encoding = guess_content_type(key, self.default_content_type)
        params: dict[str, Any] = {"content_type": content_type}
        if encoding:
            params["content_encoding"] = encoding
        if self.cache_control:
            params["cache_control"] = self.cache_control
        params.update(self.get_object_parameters(key))
        return ContentSettings(**params)

    # -- Storage API ----------------------------------------------------------------------

    def _open(self, name: str, mode: str = "rb") -> AzureStorageFile:
        relative = normalize_name(name)
        return AzureStorageFile(relative, mode, self, key=self._blob_name(relative))

    def _save(self, name: str, content: File[Any] | IO[Any]) -> str:
        relative = normalize_name(name)
        key = self._blob_name(relative)
        target = AzureStorageFile(relative, "wb", self, key=key, content_settings=self._content_settings(key))
        with target:
            copy_stream(read_from_start(content), target)
        # Never close the caller's file: it may still use it.
        return relative

    def delete(self, name: str) -> None:
        with contextlib.suppress(ResourceNotFoundError):
            self.blob_client(self._blob_name(name)).delete_blob(timeout=self.server_timeout)

    def _properties(self, name: str) -> Any:
        try:
            return self.blob_client(self._blob_name(name)).get_blob_properties(timeout=self.server_timeout)
        except ResourceNotFoundError as exc:
            raise FileNotFoundError(f"File does not exist: {name}") from exc

    def exists(self, name: str) -> bool:
        if normalize_name(name) in ("", "/"):
            return True  # the root (django-storages#1403)
        try:
            self._properties(name)
        except FileNotFoundError:
            return False
        return True

    def size(self, name: str) -> int:
        return int(self._properties(name).size)

    def get_modified_time(self, name: str) -> datetime.datetime:
        return setting_time(self._properties(name).last_modified)

    def get_created_time(self, name: str) -> datetime.datetime:
        return setting_time(self._properties(name).creation_time)

    def _walk(self, prefix: str) -> Iterator[Any]:
        self.check_required()
        return iter(
            self.client.walk_blobs(
                name_starts_with=prefix or None,
                delimiter="/",
                results_per_page=self.list_page_size,
                timeout=self.server_timeout,
            )
        )

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        prefix = self._normalize_name(path)
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        directories: list[str] = []
        files: list[str] = []
        for item in self._walk(prefix):
            relative = item.name[len(prefix) :]
            if relative.endswith("/"):
                directories.append(relative.rstrip("/"))
            elif relative:  # a blob named like the prefix is a folder marker, not a file
                files.append(relative)
        return directories, files

    # -- URLs -----------------------------------------------------------------------------

    def _container_url(self) -> str:
        """``scheme://host[:port]/[account/]container``: endpoint and custom domain, once."""
        if self._base_url is None:
            self.check_required()
            endpoint = self._connection_parts.get("BlobEndpoint")
            if endpoint:
                base = endpoint.rstrip("/")
            elif self.connection_string and self._connection_parts.get("AccountName"):
                parts = self._connection_parts
                protocol = parts.get("DefaultEndpointsProtocol", "https")
                suffix = parts.get("EndpointSuffix", "core.windows.net")
                base = f"{protocol}://{parts['AccountName']}.blob.{suffix}"
            elif self.account_name:
                base = self._account_url()
            else:
                base = str(self.service_client.url).split("?", 1)[0].rstrip("/")
            if self.custom_domain:
                split = urlsplit(base)
                base = f"{split.scheme}://{self.custom_domain}{split.path}".rstrip("/")
            self._base_url = f"{base}/{url_quote(self.azure_container)}"
        return self._base_url

    def url(  # type: ignore[override]
        self,
        name: str,
        expire: int | None = None,
        parameters: dict[str, Any] | None = None,
        mode: str = "r",
    ) -> str:
        """The blob's URL: with a SAS when ``expire`` (or ``expiration_secs``) is set.

        The argument order is the original's (``expire`` second). ``mode="w"`` (or ``"cw"``)
        gives a URL a browser can PUT the blob to; ``parameters`` override response headers
        (``content_type``, ``content_disposition``, ``cache_control`` ...).
        """
        key = self._blob_name(name)
        url = f"{self._container_url()}/{url_quote(key)}"
        if expire is None:
            expire = self.expiration_secs
        if not expire:
            return url
        permission = sas_permission(mode)
        if self.account_key:
            if self._signer is None:
                self._signer = BlobSasSigner(str(self.account_name), self.account_key)
            expires_at = int(time.time()) + int(expire)
            token = self._signer.token(self.azure_container, key, expires_at, permission, parameters)
        elif self.token_credential is not None:
            expiry = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=int(expire))
            token = generate_blob_sas(
                str(self.account_name),
                self.azure_container,
                key,
                user_delegation_key=self.get_user_delegation_key(expiry),
                permission=BlobSasPermissions.from_string(permission),
                expiry=expiry,
                **(parameters or {}),
            )
        else:
            raise StorageConfigurationError(
                "AzureStorage cannot sign URLs without AZURE_ACCOUNT_KEY/account_key or "
                "AZURE_TOKEN_CREDENTIAL/token_credential (a sas_token is not handed out in URLs). "
                "Set one of them, or AZURE_URL_EXPIRATION_SECS=None for unsigned URLs."
            )
        return f"{url}?{token}"

    def get_user_delegation_key(self, expiry: datetime.datetime) -> Any:
        """A user delegation key valid past ``expiry``: one request a week, then cached."""
        with self._client_lock:
            cached, valid_until = self._user_delegation_key, self._user_delegation_key_expiry
        if cached is not None and valid_until is not None and expiry <= valid_until - DELEGATION_KEY_MARGIN:
            return cached
        now = datetime.datetime.now(datetime.UTC)
        key_expiry = now + DELEGATION_KEY_LIFETIME
        if expiry > key_expiry - DELEGATION_KEY_MARGIN:
            raise ValueError(
                "A SAS signed with a user delegation key (token_credential) can last at most 7 days; "
                "ask url() for a shorter expire."
            )
        key = self.service_client.get_user_delegation_key(
            key_start_time=now - datetime.timedelta(minutes=1),
            key_expiry_time=key_expiry,
            timeout=self.server_timeout,
        )
        with self._client_lock:
            self._user_delegation_key, self._user_delegation_key_expiry = key, key_expiry
        return key
