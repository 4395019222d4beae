"""``S3Storage``: Amazon S3 and S3-compatible services through one shared boto3 client."""

from __future__ import annotations

import datetime
import hashlib
import re
import threading
import warnings
from collections import OrderedDict
from collections.abc import Iterator
from typing import IO, Any, ClassVar

from django.core.files.base import File
from django.utils.deconstruct import deconstructible
from django.utils.encoding import filepath_to_uri
from django.utils.http import urlencode

from storages.backends.s3.cloudfront import get_cloudfront_signer
from storages.backends.s3.files import MIN_PART_SIZE, S3File, buffer_size_problem
from storages.backends.s3.signing import BucketEndpoint, SigV4Presigner, query_parameter_name
from storages.base import BaseStorage
from storages.compress import CompressStorageMixin, guess_content_type, should_gzip
from storages.exceptions import MissingDependencyError, StorageConfigurationError
from storages.options import Option, OptionSet
from storages.utils import check_location, normalize_name, read_from_start, setting_time

try:
    import boto3
    from boto3.s3.transfer import TransferConfig
    from botocore import UNSIGNED
    from botocore.config import Config
    from botocore.configprovider import ConfiguredEndpointProvider
    from botocore.exceptions import ClientError, NoCredentialsError
except ImportError as exc:  # pragma: no cover - boto3 is a dependency of the distribution
    raise MissingDependencyError("boto3 (the AWS SDK for Python)", "django-storages-s3") from exc

__all__ = ["S3Storage"]

_omitted: Any = object()

#: Parameters of ``get_object_parameters()`` that reads (GET and HEAD) need too.
DOWNLOAD_PARAMETERS = frozenset(
    {
        "ChecksumMode",
        "VersionId",
        "SSECustomerAlgorithm",
        "SSECustomerKey",
        "SSECustomerKeyMD5",
        "RequestPayer",
        "ExpectedBucketOwner",
    }
)
_SSE_CUSTOMER = ("SSECustomerAlgorithm", "SSECustomerKey", "SSECustomerKeyMD5")

DEFAULT_GZIP_CONTENT_TYPES = (
    "text/css",
    "text/javascript",
    "application/javascript",
    "application/x-javascript",
    "image/svg+xml",
)

S3_OPTIONS = OptionSet(
    Option(
        "access_key",
        setting=("AWS_S3_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID"),
        env=("AWS_S3_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID"),
        secret=True,
        doc="Access key id. Unset: boto3's default credential chain.",
    ),
    Option(
        "secret_key",
        setting=("AWS_S3_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY"),
        env=("AWS_S3_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY"),
        secret=True,
        doc="Secret access key.",
    ),
    Option(
        "security_token",
        setting=("AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"),
        env=("AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"),
        secret=True,
        doc="Session token of temporary credentials.",
    ),
    Option(
        "session_profile",
        setting="AWS_S3_SESSION_PROFILE",
        env="AWS_S3_SESSION_PROFILE",
        doc="Profile of the AWS config files to use instead of keys (not with access_key/secret_key).",
    ),
    Option(
        "file_overwrite",
        default=True,
        setting="AWS_S3_FILE_OVERWRITE",
        doc="Save over an existing object of the same name instead of choosing a new name.",
    ),
    Option(
        "object_parameters",
        default_factory=dict,
        setting="AWS_S3_OBJECT_PARAMETERS",
        doc="Extra PutObject parameters for every upload (CacheControl, Metadata, SSE ...); "
        "per object: override get_object_parameters(name).",
    ),
    Option(
        "bucket_name",
        setting="AWS_STORAGE_BUCKET_NAME",
        required=True,
        doc="Bucket holding the files.",
    ),
    Option(
        "querystring_auth",
        default=True,
        setting="AWS_QUERYSTRING_AUTH",
        doc="Sign URLs (S3 presigned, or CloudFront-signed with a custom domain and key).",
    ),
    Option(
        "querystring_expire",
        default=3600,
        setting="AWS_QUERYSTRING_EXPIRE",
        doc="Seconds a signed URL stays valid.",
    ),
    Option(
        "signature_version",
        setting="AWS_S3_SIGNATURE_VERSION",
        doc="botocore signature version (unset: s3v4). Ignored when client_config is set.",
    ),
    Option(
        "location",
        default="",
        setting="AWS_LOCATION",
        doc="Key prefix of every name; must not start with a slash.",
    ),
    Option(
        "custom_domain",
        setting="AWS_S3_CUSTOM_DOMAIN",
        doc="Domain (CloudFront or another CDN) used to build URLs, without scheme or trailing slash.",
    ),
    Option(
        "cloudfront_key_id",
        setting="AWS_CLOUDFRONT_KEY_ID",
        doc="CloudFront key id for signed URLs (with cloudfront_key).",
    ),
    Option(
        "cloudfront_key",
        setting="AWS_CLOUDFRONT_KEY",
        secret=True,
        doc="PEM RSA private key for CloudFront signed URLs (with cloudfront_key_id).",
    ),
    Option(
        "addressing_style",
        setting="AWS_S3_ADDRESSING_STYLE",
        choices=(None, "auto", "virtual", "path"),
        doc="'virtual' or 'path' addressing. Ignored by the client when client_config is set.",
    ),
    Option(
        "file_name_charset",
        default="utf-8",
        setting="AWS_S3_FILE_NAME_CHARSET",
        deprecated="it never had an effect (keys are UTF-8); remove AWS_S3_FILE_NAME_CHARSET.",
        doc="Unused; kept so that old settings still load.",
    ),
    Option(
        "gzip",
        default=False,
        setting="AWS_IS_GZIPPED",
        doc="Gzip uploads whose content type is in gzip_content_types; decode them on read.",
    ),
    Option(
        "gzip_content_types",
        default=DEFAULT_GZIP_CONTENT_TYPES,
        setting="GZIP_CONTENT_TYPES",
        doc="Content types compressed when gzip is on.",
    ),
    Option(
        "url_protocol",
        default="https:",
        setting="AWS_S3_URL_PROTOCOL",
        falsy_is_default=True,
        doc="Scheme of custom-domain URLs, with the colon.",
    ),
    Option(
        "endpoint_url",
        setting="AWS_S3_ENDPOINT_URL",
        doc="Endpoint of an S3-compatible service (MinIO, R2, B2, Spaces); set region_name too.",
    ),
    Option(
        "proxies",
        setting="AWS_S3_PROXIES",
        doc="botocore proxies dict. Ignored when client_config is set.",
    ),
    Option("region_name", setting="AWS_S3_REGION_NAME", doc="Region of the bucket."),
    Option("use_ssl", default=True, setting="AWS_S3_USE_SSL", doc="Use HTTPS for requests."),
    Option(
        "verify",
        setting="AWS_S3_VERIFY",
        doc="TLS verification: False, or a CA bundle path. Unset: verify with the default CAs.",
    ),
    Option(
        "max_memory_size",
        default=0,
        setting="AWS_S3_MAX_MEMORY_SIZE",
        deprecated="reads now stream from S3 and never buffer the object, so it has no effect; "
        "remove AWS_S3_MAX_MEMORY_SIZE.",
        doc="No effect: reads stream, so memory stays bounded whatever the object size.",
    ),
    Option(
        "default_acl",
        setting="AWS_DEFAULT_ACL",
        doc="Canned ACL for uploads unless object_parameters has ACL. Unset: no ACL header.",
    ),
    Option(
        "use_threads",
        default=True,
        setting="AWS_S3_USE_THREADS",
        doc="Deprecated: set to False it warns; use transfer_config.",
    ),
    Option(
        "transfer_config",
        setting="AWS_S3_TRANSFER_CONFIG",
        doc="boto3 TransferConfig; its max_concurrency (and use_threads) set how many "
        "multipart parts upload at once. Unset: 4.",
    ),
    Option(
        "list_objects_v1",
        default=False,
        setting="AWS_S3_LIST_OBJECTS_V1",
        doc="List with ListObjects (v1) for S3-compatible services without ListObjectsV2.",
    ),
    Option(
        "client_config",
        setting="AWS_S3_CLIENT_CONFIG",
        doc="botocore Config (retries, timeouts, pool size); replaces addressing_style, "
        "signature_version and proxies.",
    ),
)

# Names that belong to the aws partition (hosts under amazonaws.com); us-gov, cn, iso, fips
# and other partitions are left to botocore's endpoint rules.
_AWS_REGION = re.compile(r"^(?:us|eu|ap|sa|ca|me|af|il|mx)-[a-z]+-\d+$")
# botocore Config options that change neither the host nor the signature of a presigned URL.
_URL_NEUTRAL_CONFIG = frozenset(
    {
        "connect_timeout",
        "read_timeout",
        "retries",
        "max_pool_connections",
        "proxies",
        "proxies_config",
        "tcp_keepalive",
        "user_agent",
        "user_agent_extra",
        "user_agent_appid",
        "parameter_validation",
        "client_cert",
        "request_min_compression_size_bytes",
        "disable_request_compression",
        "request_checksum_calculation",
        "response_checksum_validation",
        "signature_version",
        "s3",
    }
)
_URL_NEUTRAL_S3 = frozenset({"addressing_style", "payload_signing_enabled"})

# -- one client per configuration -----------------------------------------------------------

_clients_lock = threading.Lock()
#: Shared clients, least recently used first. Bounded: a process that builds storages with
#: ever new configurations (a Config per request) keeps at most this many clients alive.
_clients: OrderedDict[tuple[Any, ...], tuple[Any, Any]] = OrderedDict()
MAX_SHARED_CLIENTS = 16


#: Parts of a multipart upload sent at once when no transfer_config says otherwise: enough
#: to fill the link, with 4 parts (32 MiB at save()'s 8 MiB parts) in memory; five measured
#: no faster on moto and went over half of upload_fileobj's peak memory once.
DEFAULT_UPLOAD_CONCURRENCY = 4


#: Write parameters about checksums that are not a checksum value themselves.
_CHECKSUM_OPTIONS = frozenset({"ChecksumAlgorithm", "ChecksumType"})
#: s3transfer's default, and botocore's (``botocore.httpchecksum.DEFAULT_CHECKSUM_ALGORITHM``).
DEFAULT_CHECKSUM_ALGORITHM = "CRC32"

#: What ``save()`` follows without a ``transfer_config``: s3transfer's defaults (8 MiB parts
#: above an 8 MiB threshold), as ``upload_fileobj`` in django-storages 1.x.
DEFAULT_TRANSFER_CONFIG = TransferConfig()


def _declared_size(content: Any) -> int | None:
    """The size of an upload when it is known without reading it, else ``None``."""
    try:
        size = content.size
    except Exception:  # noqa: BLE001 - File.size raises for unsized streams
        return None
    return size if isinstance(size, int) and size >= 0 else None


def _digest(value: str | None) -> str | None:
    return None if value is None else hashlib.sha256(value.encode()).hexdigest()


def _freeze(value: Any) -> Any:
    """A hashable, order-independent stand-in for a configuration value."""
    if isinstance(value, dict):
        return ("dict", tuple(sorted((str(k), _freeze(v)) for k, v in value.items())))
    if isinstance(value, (list, tuple)):
        return ("seq", tuple(_freeze(v) for v in value))
    if isinstance(value, (set, frozenset)):
        return ("set", tuple(sorted(repr(_freeze(v)) for v in value)))
    try:
        hash(value)
    except TypeError:
        return ("repr", type(value).__qualname__, repr(value))
    return value


def config_key(config: Any) -> Any:
    """What identifies a botocore ``Config``: the options it was given, not its ``id()``.

    Two ``Config(retries={"max_attempts": 3})`` built apart share one client; a ``Config`` built
    per storage instance no longer adds a client (and its connection pool) each time.
    """
    options = getattr(config, "_user_provided_options", None)
    if not isinstance(options, dict):
        return ("object", id(config))
    return ("config", _freeze(options))


def clear_clients() -> None:
    """Forget every shared client (tests, or after credentials changed at run time)."""
    with _clients_lock:
        _clients.clear()


@deconstructible
class S3Storage(CompressStorageMixin, BaseStorage):
    """Amazon S3 storage.

    Every request goes through one botocore client shared by all storages with the same
    configuration (botocore clients are thread-safe). It is created on the first request;
    constructing the storage and building unsigned or custom-domain URLs never creates it.
    """

    options = S3_OPTIONS
    overwrite_option = "file_overwrite"
    max_name_bytes = 1024
    file_class = S3File
    transient_attributes: ClassVar[tuple[str, ...]] = (
        "_client",
        "_session",
        "_client_lock",
        "_presigner",
        "_endpoint",
        "_url_reason",
        "_local",
    )
    distribution = "django-storages-s3"

    default_content_type: ClassVar[str] = "application/octet-stream"
    #: Deprecated: set ``client_config`` instead.
    config: ClassVar[Any] = None

    ClientError = ClientError
    #: CloudFront signer (``None``: no signed CloudFront URLs). A subclass may set it.
    cloudfront_signer: Any

    # Option values (set by BaseStorage from the OptionSet).
    access_key: str | None
    secret_key: str | None
    security_token: str | None
    session_profile: str | None
    file_overwrite: bool
    object_parameters: dict[str, Any]
    bucket_name: str
    querystring_auth: bool
    querystring_expire: int
    signature_version: str | None
    location: str
    custom_domain: str | None
    cloudfront_key_id: str | None
    cloudfront_key: str | bytes | None
    addressing_style: str | None
    gzip: bool
    gzip_content_types: Any
    url_protocol: str
    endpoint_url: str | None
    proxies: dict[str, str] | None
    region_name: str | None
    use_ssl: bool
    verify: bool | str | None
    max_memory_size: int
    default_acl: str | None
    use_threads: bool
    transfer_config: Any
    list_objects_v1: bool
    client_config: Any

    def __init__(self, *, cloudfront_signer: Any = _omitted, **kwargs: Any) -> None:
        signer = cloudfront_signer
        super().__init__(**kwargs)
        # A signer holds a private key: never write it into migrations.
        self._constructor_args[1].pop("cloudfront_signer", None)
        #: Whether the signer was built from cloudfront_key_id/cloudfront_key (then a pickled or
        #: copied storage builds it again instead of carrying it).
        self._signer_from_keys = False
        if signer is not _omitted:
            self.cloudfront_signer = signer
        elif getattr(type(self), "cloudfront_signer", _omitted) is _omitted:
            if self.cloudfront_key_id and self.cloudfront_key:
                self.cloudfront_signer = self.get_cloudfront_signer(
                    self.cloudfront_key_id, self.cloudfront_key
                )
                self._signer_from_keys = True
            else:
                self.cloudfront_signer = None

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        if state.get("_signer_from_keys"):
            state.pop("cloudfront_signer", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        if state.get("_signer_from_keys") and self.cloudfront_key_id and self.cloudfront_key:
            self.cloudfront_signer = self.get_cloudfront_signer(self.cloudfront_key_id, self.cloudfront_key)

    # -- configuration --------------------------------------------------------------------

    def validate_options(self) -> None:
        check_location(self)
        if (self.access_key or self.secret_key) and self.session_profile:
            raise StorageConfigurationError(
                "AWS_S3_SESSION_PROFILE/session_profile should not be provided with "
                "AWS_S3_ACCESS_KEY_ID/access_key and AWS_S3_SECRET_ACCESS_KEY/secret_key: "
                "use either a profile or keys."
            )
        if bool(self.cloudfront_key_id) != bool(self.cloudfront_key):
            raise StorageConfigurationError(
                "Both AWS_CLOUDFRONT_KEY_ID/cloudfront_key_id and AWS_CLOUDFRONT_KEY/"
                "cloudfront_key must be provided together."
            )
        if type(self).config is not None:
            warnings.warn(
                f"{type(self).__name__}.config is deprecated: set the client_config option "
                "(or AWS_S3_CLIENT_CONFIG) to a botocore.config.Config instead.",
                DeprecationWarning,
                stacklevel=4,
            )
            if self.client_config is None:
                self.client_config = type(self).config
        if self.use_threads is False:
            warnings.warn(
                "AWS_S3_USE_THREADS/use_threads is deprecated: set transfer_config to "
                "boto3.s3.transfer.TransferConfig(use_threads=False) instead.",
                DeprecationWarning,
                stacklevel=4,
            )
        if self.url_protocol and not str(self.url_protocol).endswith(":"):
            raise StorageConfigurationError(
                f"AWS_S3_URL_PROTOCOL/url_protocol is {self.url_protocol!r}; it must end with "
                f"a colon, e.g. {str(self.url_protocol).rstrip(':/') + ':'!r}."
            )

    def check_configuration(self, where: str) -> list[Any]:
        from django.core.checks import Error

        problem = buffer_size_problem()
        if problem is None:
            return []
        return [
            Error(
                f"{where} uses {type(self).__name__}: {problem}",
                hint="AWS_S3_FILE_BUFFER_SIZE is the part size of writes through open(); "
                "S3 accepts parts of 5 MiB (5242880 bytes) or more.",
                id="storages.s3.E001",
            )
        ]

    def _upload_concurrency(self) -> int:
        """How many multipart parts upload at once (1: one after another)."""
        config = self.transfer_config
        if config is None:
            return 1 if self.use_threads is False else DEFAULT_UPLOAD_CONCURRENCY
        if not getattr(config, "use_threads", True):
            return 1
        return max(1, int(getattr(config, "max_request_concurrency", DEFAULT_UPLOAD_CONCURRENCY)))

    def get_cloudfront_signer(self, key_id: str, key: str | bytes) -> Any:
        """The signer for CloudFront URLs (cached per key id and key digest). Override hook."""
        return get_cloudfront_signer(key_id, key)

    def _init_transient(self) -> None:
        self._client: Any = None
        self._session: Any = None
        self._client_lock = threading.Lock()
        self._presigner: SigV4Presigner | None = None
        self._endpoint: BucketEndpoint | None = None
        self._url_reason: Any = _omitted
        self._local = threading.local()

    # -- the client -----------------------------------------------------------------------

    def _client_key(self) -> tuple[Any, ...]:
        config = self.client_config
        identity: Any = ("default", self.signature_version, self.addressing_style, repr(self.proxies))
        if config is not None:
            identity = ("given", config_key(config))
        return (
            self.session_profile,
            self.access_key,
            _digest(self.secret_key),
            _digest(self.security_token),
            self.region_name,
            self.endpoint_url,
            self.use_ssl,
            repr(self.verify),
            identity,
        )

    def _build_config(self) -> Any:
        if self.client_config is not None:
            return self.client_config
        s3_options: Any = {"addressing_style": self.addressing_style}
        return Config(
            s3=s3_options,
            # Unset means SigV4, also for presigned URLs that botocore builds (its own default
            # presigns custom endpoints with the deprecated SigV2).
            signature_version=self.signature_version or "s3v4",
            proxies=self.proxies,
            # Threads share the client: a pool of 10 (botocore's default) drops connections
            # as soon as more threads than that work at once.
            max_pool_connections=32,
        )

    def _create_session(self) -> Any:
        if self.session_profile:
            return boto3.session.Session(profile_name=self.session_profile)
        return boto3.session.Session(
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            aws_session_token=self.security_token,
        )

    def _ensure_client(self) -> tuple[Any, Any]:
        if self._client is not None:
            return self._session, self._client
        with self._client_lock:
            if self._client is None:
                self._session, self._client = self._shared_client(self._client_key(), self._build_config())
        return self._session, self._client

    def _shared_client(self, key: tuple[Any, ...], config: Any) -> tuple[Any, Any]:
        with _clients_lock:
            entry = _clients.get(key)
            if entry is not None:
                _clients.move_to_end(key)
                return entry
            session = self._create_session()
            client = session.client(
                "s3",
                region_name=self.region_name,
                use_ssl=self.use_ssl,
                endpoint_url=self.endpoint_url,
                config=config,
                verify=self.verify,
            )
            entry = (session, client)
            _clients[key] = entry
            while len(_clients) > MAX_SHARED_CLIENTS:
                # Storages that hold an evicted client keep using it.
                _clients.popitem(last=False)
            return entry

    def _unsigned_client(self) -> Any:
        """A shared client that signs nothing: botocore's unsigned URLs, where it builds them."""
        config = self._build_config().merge(Config(signature_version=UNSIGNED))
        return self._shared_client((*self._client_key(), "unsigned"), config)[1]

    @property
    def client(self) -> Any:
        """The shared, thread-safe botocore S3 client of this configuration."""
        return self._ensure_client()[1]

    @property
    def connection(self) -> Any:
        """A boto3 S3 *resource*, per thread, for code written against the original library.

        The storage itself never uses it: resources are not thread-safe, clients are.
        """
        resource = getattr(self._local, "resource", None)
        if resource is None:
            session, client = self._ensure_client()
            resource = session.resource(
                "s3",
                region_name=self.region_name,
                use_ssl=self.use_ssl,
                endpoint_url=self.endpoint_url,
                config=client.meta.config,
                verify=self.verify,
            )
            self._local.resource = resource
        return resource

    @property
    def unsigned_connection(self) -> Any:
        """A per-thread boto3 resource that signs nothing (the original's, for old code)."""
        resource = getattr(self._local, "unsigned_resource", None)
        if resource is None:
            session, client = self._ensure_client()
            resource = session.resource(
                "s3",
                region_name=self.region_name,
                use_ssl=self.use_ssl,
                endpoint_url=self.endpoint_url,
                config=client.meta.config.merge(Config(signature_version=UNSIGNED)),
                verify=self.verify,
            )
            self._local.unsigned_resource = resource
        return resource

    @property
    def bucket(self) -> Any:
        """The boto3 ``Bucket`` resource (per thread; compatibility only)."""
        return self.connection.Bucket(self.bucket_name)

    def _call(self, operation: str, **kwargs: Any) -> Any:
        self.check_required()
        return getattr(self.client, operation)(Bucket=self.bucket_name, **kwargs)

    @staticmethod
    def _error_code(error: Any) -> str:
        return str(error.response.get("Error", {}).get("Code", ""))

    def _is_missing(self, error: Any) -> bool:
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return status == 404 or self._error_code(error) in ("404", "NoSuchKey", "NotFound")

    # -- parameters -----------------------------------------------------------------------

    def get_object_parameters(self, name: str) -> dict[str, Any]:
        """Parameters for the object ``name`` (its full key). Override for per-object ones.

        Reads (GET, HEAD) get the subset that S3 needs to read (SSE-C keys, VersionId ...).
        """
        return dict(self.object_parameters)

    def _download_parameters(self, key: str) -> dict[str, Any]:
        params = self.get_object_parameters(key)
        return {k: v for k, v in params.items() if k in DOWNLOAD_PARAMETERS}

    @staticmethod
    def _sse_customer_parameters(params: dict[str, Any]) -> dict[str, Any]:
        return {k: params[k] for k in _SSE_CUSTOMER if k in params}

    def _get_write_parameters(self, key: str, content: Any = None) -> dict[str, Any]:
        """PutObject parameters for ``key``: object parameters, content type, ACL.

        The content type comes from ``object_parameters`` or the name, never from the
        upload's ``content_type`` (which the browser chose). A compressed web file
        (``.svgz``, ``.js.gz``, ``.css.br``) keeps its type and ``Content-Encoding``, as in
        1.x. Archives (``.tar.gz``, ``.gz``, ``.bz2``, ``.xz``) get their archive type and no
        ``Content-Encoding``: their bytes are stored and downloaded as they are.
        """
        params = self.get_object_parameters(key)
        if "ContentType" not in params:
            params["ContentType"], encoding = guess_content_type(key, self.default_content_type)
            if encoding:
                params.setdefault("ContentEncoding", encoding)
        if "ACL" not in params and self.default_acl:
            params["ACL"] = self.default_acl
        self._set_default_checksum(params)
        return params

    def _set_default_checksum(self, params: dict[str, Any]) -> None:
        """``ChecksumAlgorithm=CRC32`` unless a checksum is given, as s3transfer (and so
        ``upload_fileobj`` in 1.x) does with botocore's default ``request_checksum_calculation``
        ("when_supported"): a multipart object then gets S3's composite CRC32 of its parts
        instead of the full-object CRC that S3 would otherwise compute over every byte again."""
        if any(k.startswith("Checksum") and k not in _CHECKSUM_OPTIONS for k in params):
            return  # a full-object checksum given by the caller
        config = self.client.meta.config
        if getattr(config, "request_checksum_calculation", None) == "when_supported":
            params.setdefault("ChecksumAlgorithm", DEFAULT_CHECKSUM_ALGORITHM)

    # -- Storage API ----------------------------------------------------------------------

    def _save(self, name: str, content: File[Any] | IO[Any]) -> str:
        relative = normalize_name(name)
        key = self._normalize_name(relative)
        params = self._get_write_parameters(key, content)
        compress = bool(self.gzip) and should_gzip(
            key, params["ContentType"], self.gzip_content_types, params
        )
        if compress:
            params["ContentEncoding"] = "gzip"

        source = read_from_start(content)
        body = self._compress_content(source) if compress else source
        config = self.transfer_config or DEFAULT_TRANSFER_CONFIG
        target = S3File(
            relative,
            "wb",
            self,
            max(MIN_PART_SIZE, int(config.multipart_chunksize)),
            key=key,
            write_parameters=params,
            # A compressed body has no known size: its parts grow as it is read.
            expected_size=None if compress else _declared_size(content),
            multipart_threshold=int(config.multipart_threshold),
        )
        with target:
            # Whole parts read straight from the source: no re-buffering, one copy per part.
            while True:
                target.wait_for_part_slot()
                chunk = body.read(target.part_size)
                if not chunk:
                    break
                target.write_part(chunk.encode("utf-8") if isinstance(chunk, str) else chunk)
            if not target.size:
                target.write(b"")
        # Never close the caller's file: it may still use it (django-storages#1303).
        return relative

    def delete(self, name: str) -> None:
        self._delete_key(self._normalize_name(name))

    def _delete_key(self, key: str) -> None:
        try:
            self._call("delete_object", Key=key)
        except ClientError as exc:
            if not self._is_missing(exc):
                raise

    def _head(self, name: str) -> dict[str, Any]:
        key = self._normalize_name(name)
        try:
            return dict(self._call("head_object", Key=key, **self._download_parameters(key)))
        except ClientError as exc:
            if self._is_missing(exc):
                raise FileNotFoundError(f"File does not exist: {name}") from exc
            raise

    def exists(self, name: str) -> bool:
        try:
            self._head(name)
        except FileNotFoundError:
            return False
        return True

    def size(self, name: str) -> int:
        return int(self._head(name)["ContentLength"])

    def get_modified_time(self, name: str) -> datetime.datetime:
        return self._as_setting_time(self._head(name)["LastModified"])

    @staticmethod
    def _as_setting_time(value: datetime.datetime) -> datetime.datetime:
        return setting_time(value)

    def _iter_listing(self, prefix: str, delimiter: str | None = "/") -> Iterator[dict[str, Any]]:
        self.check_required()
        paginator = self.client.get_paginator("list_objects" if self.list_objects_v1 else "list_objects_v2")
        arguments: dict[str, Any] = {"Bucket": self.bucket_name, "Prefix": prefix}
        if delimiter:
            arguments["Delimiter"] = delimiter
        yield from paginator.paginate(**arguments)

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        prefix = self._normalize_name(path)
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        # A dict keeps the order: some ListObjects (v1) servers repeat prefixes on every page.
        directories: dict[str, None] = {}
        files: list[str] = []
        for page in self._iter_listing(prefix):
            directories.update(
                dict.fromkeys(e["Prefix"][len(prefix) :].rstrip("/") for e in page.get("CommonPrefixes", ()))
            )
            # A key equal to the prefix is the empty "folder marker" object: not a file.
            files.extend(n for e in page.get("Contents", ()) if (n := e["Key"][len(prefix) :]))
        return list(directories), files

    # -- URLs -----------------------------------------------------------------------------

    def _bucket_endpoint(self) -> BucketEndpoint:
        if self._endpoint is None:
            self.check_required()
            self._endpoint = BucketEndpoint.build(
                self.bucket_name,
                endpoint_url=self.endpoint_url,
                region=self.region_name,
                addressing_style=self._effective_addressing_style(),
                use_ssl=self.use_ssl,
            )
        return self._endpoint

    def _effective_addressing_style(self) -> str | None:
        if self.client_config is not None:
            s3_config = getattr(self.client_config, "s3", None) or {}
            return s3_config.get("addressing_style")
        return self.addressing_style

    def _signs_locally(self) -> bool:
        version = self.signature_version
        if self.client_config is not None:
            version = getattr(self.client_config, "signature_version", None)
        return version in (None, "s3v4", "v4")

    def _botocore_url_reason(self) -> str | None:
        """Why botocore must build this storage's S3 URLs; ``None`` when the local builder is
        proven equal to it (the URL table in tests/test_urls.py). Decided once per storage."""
        if self._url_reason is _omitted:
            self._url_reason = self._find_botocore_url_reason()
        return self._url_reason  # type: ignore[no-any-return]

    def _find_botocore_url_reason(self) -> str | None:
        # The local builder knows the aws partition's hosts (s3[.region].amazonaws.com),
        # path/virtual addressing and explicit endpoints. Everything that makes botocore's
        # endpoint rules point elsewhere is left to botocore.
        self.check_required()
        bucket = self.bucket_name
        if bucket.startswith("arn:") or bucket.endswith(("--x-s3", "--op-s3")):
            return "access point, Outposts or directory bucket"
        if self.client_config is not None:
            given = getattr(self.client_config, "_user_provided_options", None)
            if not isinstance(given, dict):
                return "client_config is not a botocore Config"
            if set(given) - _URL_NEUTRAL_CONFIG:
                return f"client_config sets {sorted(set(given) - _URL_NEUTRAL_CONFIG)}"
            s3_options = {k for k, v in (given.get("s3") or {}).items() if v is not None}
            if s3_options - _URL_NEUTRAL_S3:
                return f"client_config's s3 sets {sorted(s3_options - _URL_NEUTRAL_S3)}"
        session = (self._session or self._create_session())._session
        for name in ("use_dualstack_endpoint", "use_fips_endpoint"):
            if session.get_config_variable(name):
                return f"{name} is set in the environment or the AWS config file"
        if session.get_config_variable("s3"):
            return "s3 options are set in the environment or the AWS config file"
        if not self.endpoint_url and not session.get_config_variable("ignore_configured_endpoint_urls"):
            configured = ConfiguredEndpointProvider(
                full_config=session.full_config, scoped_config=session.get_scoped_config(), client_name="s3"
            ).provide()
            if configured:
                return "an endpoint is configured (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL or the config file)"
        region = self.region_name or session.get_config_variable("region")
        if not self.endpoint_url and region not in (None, "", "us-east-1") and not _AWS_REGION.match(region):
            return f"region {region!r} is not in the aws partition"
        if not self.region_name and region not in (None, "", "us-east-1"):
            return f"region {region!r} comes from the environment or the AWS config file"
        return None

    def url(  # type: ignore[override]
        self,
        name: str,
        parameters: dict[str, Any] | None = None,
        expire: int | None = None,
        http_method: str | None = None,
    ) -> str:
        key = self._normalize_name(name)
        params = dict(parameters) if parameters else {}
        if expire is None:
            expire = self.querystring_expire
        if self.custom_domain:
            url = f"{self.url_protocol}//{self.custom_domain}/{filepath_to_uri(key)}"
            if params:
                url += "?" + urlencode(params)
            if self.querystring_auth and self.cloudfront_signer is not None:
                expires_at = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=expire)
                return str(self.cloudfront_signer.generate_presigned_url(url, date_less_than=expires_at))
            return url
        if not self.querystring_auth:
            if self._botocore_url_reason() is not None:
                return self._botocore_presigned_url(key, params, expire, http_method, unsigned=True)
            url = self._bucket_endpoint().object_url(key)
            if params:
                url += "?" + urlencode({query_parameter_name(k): v for k, v in params.items()})
            return url
        if not self._signs_locally() or self._botocore_url_reason() is not None:
            return self._botocore_presigned_url(key, params, expire, http_method)
        credentials = self._credentials()
        return self._sigv4().presign(
            self._bucket_endpoint(),
            key,
            access_key=credentials.access_key,
            secret_key=credentials.secret_key,
            token=credentials.token,
            expires=expire,
            method=http_method or "GET",
            parameters=params,
        )

    def _sigv4(self) -> SigV4Presigner:
        if self._presigner is None:
            region = self.region_name
            if not region:
                # Without a configured region, sign for the region the client resolved
                # (environment, config file, or us-east-1).
                region = self.client.meta.region_name or "us-east-1"
            self._presigner = SigV4Presigner(region)
        return self._presigner

    def _credentials(self) -> Any:
        session, _ = self._ensure_client()
        credentials = session.get_credentials()
        if credentials is None:
            raise NoCredentialsError()
        # Frozen: access key, secret and token read together (refreshable credentials).
        return credentials.get_frozen_credentials()

    def _botocore_presigned_url(
        self, key: str, params: dict[str, Any], expire: int, http_method: str | None, unsigned: bool = False
    ) -> str:
        client = self._unsigned_client() if unsigned else self.client
        return str(
            client.generate_presigned_url(
                "get_object",
                Params={"Bucket": self.bucket_name, "Key": key, **params},
                ExpiresIn=expire,
                HttpMethod=http_method,
            )
        )
