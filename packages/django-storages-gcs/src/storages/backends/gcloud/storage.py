"""``GoogleCloudStorage``: Google Cloud Storage through one google-cloud-storage client per storage."""

from __future__ import annotations

import collections
import contextlib
import datetime
import os
import threading
from collections.abc import Iterator
from typing import IO, Any, ClassVar

from django.core.files.base import File
from django.utils.deconstruct import deconstructible

from storages.backends.gcloud import signing
from storages.backends.gcloud.files import RESUMABLE_CHUNK_MULTIPLE, GoogleCloudFile
from storages.backends.gcloud.signing import V4Signer, expiration_seconds
from storages.base import BaseStorage
from storages.compress import GzipCompressionWrapper, guess_content_type, should_gzip
from storages.exceptions import MissingDependencyError, StorageConfigurationError
from storages.files import copy_stream
from storages.options import Option, OptionSet
from storages.utils import check_location, normalize_name, read_from_start, setting_time, url_quote

try:
    import requests
    from google.auth.credentials import AnonymousCredentials
    from google.auth.transport.requests import AuthorizedSession
    from google.cloud import storage as gcs
    from google.cloud.exceptions import NotFound
    from google.cloud.storage.retry import DEFAULT_RETRY
    from google.cloud.storage.retry import _should_retry as _sdk_should_retry
except ImportError as exc:  # pragma: no cover - google-cloud-storage is a dependency
    raise MissingDependencyError("google-cloud-storage", "django-storages-gcs") from exc

__all__ = ["CONTENT_ENCODING", "CONTENT_TYPE", "GoogleCloudStorage"]

# Kept from the original module: the object-parameter keys it special-cases.
CONTENT_ENCODING = "content_encoding"
CONTENT_TYPE = "content_type"

PUBLIC_ENDPOINT = "https://storage.googleapis.com"

#: ``object_parameters`` keys: blob properties set on every upload (``acl`` is the predefined
#: ACL of the upload). The original passed any key to ``setattr(blob, ...)``; a misspelt one
#: silently did nothing, so unknown keys are refused here.
OBJECT_PARAMETERS = frozenset(
    {
        "acl",
        "cache_control",
        "content_disposition",
        "content_encoding",
        "content_language",
        "content_type",
        "metadata",
        "storage_class",
        "custom_time",
        "temporary_hold",
        "event_based_hold",
    }
)

DEFAULT_GZIP_CONTENT_TYPES = (
    "text/css",
    "text/javascript",
    "application/javascript",
    "application/x-javascript",
    "image/svg+xml",
)

#: Parameters of ``url(name, parameters)`` that the local V4 signer handles itself; any other
#: parameter (``version="v2"``, ``virtual_hosted_style``, ...) goes to google-cloud-storage.
_FAST_URL_PARAMETERS = frozenset(
    {
        "expiration",
        "method",
        "response_disposition",
        "response_type",
        "content_type",
        "generation",
        "query_parameters",
        "headers",
        "version",
    }
)

GCS_OPTIONS = OptionSet(
    Option(
        "project_id",
        setting="GS_PROJECT_ID",
        doc="Google Cloud project. Unset: inferred from the credentials or the environment.",
    ),
    Option(
        "credentials",
        setting="GS_CREDENTIALS",
        secret=True,
        default_doc="application default credentials",
        doc="A google-auth credentials object (e.g. service_account.Credentials."
        "from_service_account_file(...)). Unset: application default credentials "
        "(GOOGLE_APPLICATION_CREDENTIALS, the metadata server).",
    ),
    Option("bucket_name", setting="GS_BUCKET_NAME", required=True, doc="Bucket holding the files."),
    Option(
        "custom_endpoint",
        setting="GS_CUSTOM_ENDPOINT",
        doc="Base URL (with scheme) of a host bound to the bucket (a CDN or load balancer); "
        "URLs become <custom_endpoint>/<name>.",
    ),
    Option("location", default="", setting="GS_LOCATION", doc="Key prefix of every name; no leading slash."),
    Option(
        "default_acl",
        setting="GS_DEFAULT_ACL",
        doc="Predefined ACL of uploads (publicRead, projectPrivate ...) unless object_parameters "
        "has acl; publicRead also makes url() unsigned. Fine-grained buckets only.",
    ),
    Option(
        "querystring_auth",
        default=True,
        setting="GS_QUERYSTRING_AUTH",
        doc="Sign URLs; False gives plain public URLs (uniform buckets with public read).",
    ),
    Option(
        "expiration",
        default=datetime.timedelta(seconds=86400),
        setting="GS_EXPIRATION",
        doc="Lifetime of signed URLs: timedelta, datetime or int seconds; at most 7 days.",
    ),
    Option(
        "gzip",
        default=False,
        setting="GS_IS_GZIPPED",
        doc="Gzip uploads whose content type is in gzip_content_types (streamed).",
    ),
    Option(
        "gzip_content_types",
        default=DEFAULT_GZIP_CONTENT_TYPES,
        setting="GZIP_CONTENT_TYPES",
        doc="Content types compressed when gzip is on.",
    ),
    Option(
        "file_overwrite",
        default=True,
        setting="GS_FILE_OVERWRITE",
        doc="Save over an existing object of the same name instead of choosing a new name.",
    ),
    Option(
        "object_parameters",
        default_factory=dict,
        setting="GS_OBJECT_PARAMETERS",
        doc="Blob properties of every upload: acl, cache_control, content_disposition, "
        "content_encoding, content_language, content_type, metadata, storage_class; per "
        "object: override get_object_parameters(name).",
    ),
    Option(
        "max_memory_size",
        default=0,
        setting="GS_MAX_MEMORY_SIZE",
        deprecated="reads now stream from GCS and never buffer the object, so it has no effect; "
        "remove GS_MAX_MEMORY_SIZE.",
        doc="No effect: reads stream, so memory stays bounded whatever the object size.",
    ),
    Option(
        "blob_chunk_size",
        setting="GS_BLOB_CHUNK_SIZE",
        default_doc="8 MiB",
        doc="Bytes per resumable-upload chunk (a multiple of 256 KiB); also the most a write "
        "holds in memory. Smaller files are one request.",
    ),
    Option(
        "iam_sign_blob",
        default=False,
        setting="GS_IAM_SIGN_BLOB",
        doc="Sign URLs through the IAM signBlob API (no private key needed: Cloud Run, GKE).",
    ),
    Option(
        "sa_email",
        setting="GS_SA_EMAIL",
        doc="Service-account e-mail used for IAM signing (overrides the credentials' own).",
    ),
    Option(
        "api_endpoint",
        setting="GS_API_ENDPOINT",
        env="STORAGE_EMULATOR_HOST",
        doc="JSON API endpoint, e.g. an emulator's http://127.0.0.1:9023. Unset: "
        "https://storage.googleapis.com.",
    ),
    Option(
        "timeout",
        default=60,
        setting="GS_TIMEOUT",
        doc="Seconds any network wait (connect, or each read or send) may take; a number or a "
        "(connect, read) pair.",
    ),
    Option(
        "retry",
        default=10,
        setting="GS_RETRY",
        doc="Seconds during which transient errors (refused connections, 429, 5xx) are retried "
        "with backoff; 0 or None: never. Timeouts are never retried. A google.api_core Retry "
        "is used as given.",
    ),
)

_SIGNATURE_CACHE_SIZE = 1024


def _retryable(exc: BaseException) -> bool:
    """google-cloud-storage's retry predicate, without timeouts: a stalled server must make the
    call fail within ``timeout``, not ``timeout`` times the number of attempts."""
    if isinstance(exc, requests.exceptions.Timeout):
        return False
    if type(exc).__name__ in ("ReadTimeoutError", "ConnectTimeoutError", "TimeoutError"):
        return False
    return bool(_sdk_should_retry(exc))


@deconstructible
class GoogleCloudStorage(BaseStorage):
    """Google Cloud Storage.

    Requests go through one google-cloud-storage ``Client`` per storage, created on the first
    request (constructing the storage and building unsigned URLs never create it). Signed URLs
    are built locally (:mod:`storages.backends.gcloud.signing`) from the credentials' key, or
    with the IAM signBlob API when ``iam_sign_blob`` is on.
    """

    options = GCS_OPTIONS
    overwrite_option = "file_overwrite"
    max_name_bytes = 1024  # GCS object names: 1-1024 bytes of UTF-8
    file_class = GoogleCloudFile
    transient_attributes: ClassVar[tuple[str, ...]] = (
        "_client",
        "_bucket",
        "_client_lock",
        "_signers",
        "_signature_cache",
        "_signature_lock",
        "_pending_cancels",
    )
    distribution = "django-storages-gcs"

    project_id: str | None
    credentials: Any
    bucket_name: str
    custom_endpoint: str | None
    location: str
    default_acl: str | None
    querystring_auth: bool
    expiration: Any
    gzip: bool
    gzip_content_types: Any
    file_overwrite: bool
    object_parameters: dict[str, Any]
    max_memory_size: int
    blob_chunk_size: int | None
    iam_sign_blob: bool
    sa_email: str | None
    api_endpoint: str | None
    timeout: Any
    retry: Any

    # -- configuration --------------------------------------------------------------------

    def validate_options(self) -> None:
        check_location(self)
        resolved = self._option_sources.get("credentials")
        if resolved is not None and not resolved.source.startswith("class attribute"):
            # The credentials object itself, not core's copy: it caches its token and is meant
            # to be shared (and a storage rebuilt from its STORAGES entry gets the same one).
            self.credentials = resolved.value
        size = self.blob_chunk_size
        if size is not None and (not isinstance(size, int) or size <= 0 or size % RESUMABLE_CHUNK_MULTIPLE):
            raise StorageConfigurationError(
                f"GS_BLOB_CHUNK_SIZE/blob_chunk_size is {size!r}; it must be a positive multiple of "
                f"256 KiB ({RESUMABLE_CHUNK_MULTIPLE} bytes), e.g. {8 * 1024 * 1024} (8 MiB)."
            )
        unknown = sorted(set(self.object_parameters or {}) - OBJECT_PARAMETERS)
        if unknown:
            raise StorageConfigurationError(
                f"GS_OBJECT_PARAMETERS/object_parameters has unknown keys {unknown}; valid keys are "
                f"{sorted(OBJECT_PARAMETERS)} ('name' is set from the file name)."
            )
        if self.custom_endpoint and "://" not in str(self.custom_endpoint):
            raise StorageConfigurationError(
                f"GS_CUSTOM_ENDPOINT/custom_endpoint is {self.custom_endpoint!r}; give a base URL "
                f"with its scheme, e.g. 'https://{self.custom_endpoint}'."
            )
        if self.api_endpoint and "://" not in str(self.api_endpoint):
            # STORAGE_EMULATOR_HOST is often given as host:port.
            self.api_endpoint = f"http://{self.api_endpoint}"
        if not isinstance(self.expiration, int | datetime.timedelta | datetime.datetime) or isinstance(
            self.expiration, bool
        ):
            raise StorageConfigurationError(
                f"GS_EXPIRATION/expiration is {self.expiration!r}; give a timedelta, a datetime or "
                "an int of seconds."
            )

    def _init_transient(self) -> None:
        self._client: Any = None
        self._bucket: Any = None
        self._client_lock = threading.Lock()
        self._signers: dict[Any, V4Signer] = {}
        self._signature_cache: collections.OrderedDict[Any, tuple[float, str]] = collections.OrderedDict()
        self._signature_lock = threading.Lock()
        self._pending_cancels: list[str] = []

    # -- the client -----------------------------------------------------------------------

    def _request_timeout(self) -> Any:
        timeout = self.timeout
        return tuple(timeout) if isinstance(timeout, list | tuple) else timeout

    def _retry(self) -> Any:
        """The retry policy of idempotent calls (``None``: no retry)."""
        value = self.retry
        if value is None or value is False or value == 0:
            return None
        if isinstance(value, int | float):
            return DEFAULT_RETRY.with_predicate(_retryable).with_timeout(float(value))
        return value

    def _retry_deadline(self) -> float:
        """Seconds that upload chunks are retried for (the same budget as other calls)."""
        value = self.retry
        if value is None or value is False:
            return 0.0
        if isinstance(value, int | float):
            return float(value)
        return float(getattr(value, "timeout", None) or getattr(value, "deadline", None) or 0)

    def _resolve_credentials(self) -> tuple[Any, str | None]:
        credentials, project = self.credentials, self.project_id
        if credentials is None:
            emulator = os.environ.get("STORAGE_EMULATOR_HOST")
            if (
                emulator
                and self.api_endpoint
                and self.api_endpoint.rstrip("/").endswith(emulator.rstrip("/"))
            ):
                # As google-cloud-storage does for its emulator: no credentials to refresh.
                return AnonymousCredentials(), project or "<none>"  # type: ignore[no-untyped-call]
            import google.auth

            credentials, default_project = google.auth.default(
                scopes=["https://www.googleapis.com/auth/cloud-platform"]
            )
            project = project or default_project
        if project is None and isinstance(credentials, AnonymousCredentials):
            project = "<none>"
        return credentials, project

    def _create_client(self) -> Any:
        credentials, project = self._resolve_credentials()
        session = AuthorizedSession(credentials)  # type: ignore[no-untyped-call]
        # Threads share the client: requests' pool of 10 would drop connections beyond that.
        # Retries are ours (the retry option), never urllib3's hidden ones.
        adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=32, max_retries=0)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        options = {"api_endpoint": self.api_endpoint} if self.api_endpoint else None
        client = gcs.Client(project=project, credentials=credentials, _http=session, client_options=options)
        # google-cloud-storage 3.17 fetches the bucket's metadata on a background thread at the
        # first call of a client, for tracing attributes: an extra request nobody asked for
        # (and one that outlives the call). Storage calls are counted, so it is turned off.
        if getattr(client, "_bucket_metadata_cache", None) is not None:
            client._bucket_metadata_cache = None
        return client

    @property
    def client(self) -> Any:
        """The google-cloud-storage ``Client`` of this storage (created on first use)."""
        if self._client is None:
            self.check_required()
            with self._client_lock:
                if self._client is None:
                    self._client = self._create_client()
        return self._client

    @property
    def bucket(self) -> Any:
        """The ``Bucket`` (no request)."""
        if self._bucket is None:
            self._bucket = self.client.bucket(self.bucket_name)
        return self._bucket

    @property
    def http(self) -> Any:
        """The authorised ``requests`` session of the client (reads and upload chunks)."""
        return self.client._http

    @property
    def api_base(self) -> str:
        """The JSON API base URL, without a trailing slash."""
        return str(self.api_endpoint or PUBLIC_ENDPOINT).rstrip("/")

    # -- resumable sessions ---------------------------------------------------------------

    #: Seconds a cancel may wait: it runs while an error is being raised (often a timeout), so
    #: it must not wait a whole ``timeout`` again. A cancel that fails is retried later.
    cancel_timeout: ClassVar[float] = 1.0

    def _cancel_session(self, session_url: str) -> int | None:
        """Cancel a resumable session (GCS answers 499); on failure, remember it for later."""
        timeout = self._request_timeout()
        limit = self.cancel_timeout
        short = (
            (min(timeout[0], limit), min(timeout[-1], limit))
            if isinstance(timeout, tuple)
            else min(timeout, limit)
        )
        try:
            response = self.http.delete(session_url, timeout=short)
        except Exception:
            with self._client_lock:
                self._pending_cancels.append(session_url)
            raise
        response.close()
        return int(response.status_code)

    def _cancel_pending_sessions(self) -> None:
        """Cancel the sessions that could not be cancelled while the server was away."""
        if not self._pending_cancels:
            return
        with self._client_lock:
            pending, self._pending_cancels = self._pending_cancels, []
        for url in pending:
            try:
                self._cancel_session(url)
            except Exception:
                import logging

                logging.getLogger("storages").debug(
                    "Could not cancel a resumable session yet.", exc_info=True
                )

    # -- parameters -----------------------------------------------------------------------

    def get_object_parameters(self, name: str) -> dict[str, Any]:
        """Blob properties for the object ``name`` (its full key). Override for per-object ones."""
        return dict(self.object_parameters)

    def _get_write_parameters(self, key: str) -> dict[str, Any]:
        """Blob properties of an upload to ``key``, with its content type and ACL.

        The content type comes from ``object_parameters`` or the name, never from the
        browser's claim (``content.content_type``). A compressed web file (``.svgz``, ``.js.gz``)
        keeps its type and Content-Encoding as in 1.x; archive names (``.gz``, ``.tgz``) get their
        archive type and no Content-Encoding: their bytes are stored and served as they are.
        """
        params = self.get_object_parameters(key)
        if not params.get(CONTENT_TYPE):
            params[CONTENT_TYPE], encoding = guess_content_type(key)
            if encoding:
                params.setdefault(CONTENT_ENCODING, encoding)
        acl = params.get("acl") or self.default_acl
        params.pop("acl", None)
        if acl:
            params["acl"] = acl
        return params

    def _compresses(self, key: str, params: dict[str, Any]) -> bool:
        return bool(self.gzip) and should_gzip(key, params[CONTENT_TYPE], self.gzip_content_types, params)

    # -- Storage API ----------------------------------------------------------------------

    def _open(self, name: str, mode: str = "rb") -> GoogleCloudFile:
        relative = normalize_name(name)
        return GoogleCloudFile(relative, mode, self, key=self._normalize_name(relative))

    def _save(self, name: str, content: File[Any] | IO[Any]) -> str:
        relative = normalize_name(name)
        key = self._normalize_name(relative)
        params = self._get_write_parameters(key)
        compress = self._compresses(key, params)
        if compress:
            params[CONTENT_ENCODING] = "gzip"
        source: Any = read_from_start(content)
        if compress:
            source = GzipCompressionWrapper(source)
        target = GoogleCloudFile(relative, "wb", self, key=key, write_parameters=params, compressed=True)
        with target:
            copy_stream(source, target)
        # Never close the caller's file: it may still use it (django-storages#1303).
        return relative

    def delete(self, name: str) -> None:
        key = self._normalize_name(name)
        with contextlib.suppress(NotFound):
            self.bucket.delete_blob(key, timeout=self._request_timeout(), retry=self._retry())

    def _get_blob(self, name: str) -> Any:
        """The blob's metadata (one request); ``FileNotFoundError`` when it does not exist."""
        key = self._normalize_name(name)
        blob = self.bucket.get_blob(key, timeout=self._request_timeout(), retry=self._retry())
        if blob is None:
            raise FileNotFoundError(f"File does not exist: {name}")
        return blob

    def exists(self, name: str) -> bool:
        if not normalize_name(name) and not self.location:
            # The bucket itself (the original's exists("")).
            try:
                self.client.get_bucket(self.bucket_name, timeout=self._request_timeout(), retry=self._retry())
            except NotFound:
                return False
            return True
        try:
            self._get_blob(name)
        except FileNotFoundError:
            return False
        return True

    def size(self, name: str) -> int:
        return int(self._get_blob(name).size)

    def get_modified_time(self, name: str) -> datetime.datetime:
        return setting_time(self._get_blob(name).updated)

    def get_created_time(self, name: str) -> datetime.datetime:
        return setting_time(self._get_blob(name).time_created)

    def _iter_pages(
        self, prefix: str, delimiter: str | None = "/", page_size: int | None = None
    ) -> Iterator[Any]:
        iterator = self.client.list_blobs(
            self.bucket_name,
            prefix=prefix,
            delimiter=delimiter,
            page_size=page_size,
            timeout=self._request_timeout(),
            retry=self._retry(),
        )
        yield from iterator.pages

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        prefix = self._normalize_name(path)
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        directories: list[str] = []
        files: list[str] = []
        for page in self._iter_pages(prefix):
            directories.extend(p[len(prefix) :].rstrip("/") for p in page.prefixes)
            # A blob named like the prefix is a "folder marker" (the console makes them): not a file.
            files.extend(n for blob in page if (n := blob.name[len(prefix) :]))
        return sorted(set(directories)), files

    # -- URLs -----------------------------------------------------------------------------

    def _public(self) -> bool:
        acl = (
            self.object_parameters.get("acl", self.default_acl)
            if self.object_parameters
            else self.default_acl
        )
        return acl == "publicRead" or not self.querystring_auth

    def url(self, name: str, parameters: dict[str, Any] | None = None) -> str:  # type: ignore[override]
        key = self._normalize_name(name)
        quoted = url_quote(key)
        if self._public():
            if self.custom_endpoint:
                return f"{str(self.custom_endpoint).rstrip('/')}/{quoted}"
            return f"{self.api_base}/{self.bucket_name}/{quoted}"
        params = dict(parameters or {})
        if params.get("version", "v4") != "v4" or not params.keys() <= _FAST_URL_PARAMETERS:
            return self._sdk_signed_url(key, params)
        return self._signed_url(key, quoted, params)

    def _signed_url(self, key: str, quoted: str, params: dict[str, Any]) -> str:
        now = signing._now()
        expires = expiration_seconds(params.get("expiration", self.expiration), now)
        query = dict(params.get("query_parameters") or {})
        for option, query_name in (
            ("response_type", "response-content-type"),
            ("response_disposition", "response-content-disposition"),
            ("generation", "generation"),
        ):
            if params.get(option) is not None:
                query[query_name] = params[option]
        headers = dict(params.get("headers") or {})
        if params.get("content_type") is not None:
            headers["Content-Type"] = params["content_type"]
        method = str(params.get("method", "GET"))
        signer = self._signer()
        if not self.iam_sign_blob:
            return signer.url(quoted, expires=expires, now=now, method=method, query=query, headers=headers)
        return self._cached_iam_url(signer, key, quoted, params, expires, now, method, query, headers)

    def _cached_iam_url(
        self,
        signer: V4Signer,
        key: str,
        quoted: str,
        params: dict[str, Any],
        expires: int,
        now: float,
        method: str,
        query: dict[str, Any],
        headers: dict[str, Any],
    ) -> str:
        """IAM signing costs a request per URL: a URL is reused for a tenth of its lifetime.

        Only relative expirations are cached (an absolute datetime names one instant), and
        the URL is signed for its full lifetime from the start of its window, so a cached URL
        is always valid for at least nine tenths of the lifetime asked for.
        """
        if isinstance(params.get("expiration", self.expiration), datetime.datetime):
            return signer.url(quoted, expires=expires, now=now, method=method, query=query, headers=headers)
        window = max(1, expires // 10)
        start = now - (now % window)
        cache_key = (
            key,
            method,
            expires,
            repr(sorted(query.items())),
            repr(sorted(headers.items())),
            signer.email,
        )
        with self._signature_lock:
            hit = self._signature_cache.get(cache_key)
            if hit is not None and hit[0] == start:
                self._signature_cache.move_to_end(cache_key)
                return hit[1]
        url = signer.url(quoted, expires=expires, now=start, method=method, query=query, headers=headers)
        with self._signature_lock:
            self._signature_cache[cache_key] = (start, url)
            while len(self._signature_cache) > _SIGNATURE_CACHE_SIZE:
                self._signature_cache.popitem(last=False)
        return url

    def _url_endpoint(self) -> tuple[str, str]:
        """``(endpoint, path prefix)`` of signed URLs."""
        if self.custom_endpoint:
            return str(self.custom_endpoint).rstrip("/"), ""
        return self.api_base, f"/{self.bucket_name}"

    def _signer(self) -> V4Signer:
        endpoint, prefix = self._url_endpoint()
        cache_key = (endpoint, prefix, self.iam_sign_blob)
        signer = self._signers.get(cache_key)
        if signer is None:
            if self.iam_sign_blob:
                email = self._iam_email()
                signer = V4Signer(endpoint, prefix, email, self._iam_sign)
            else:
                credentials = self._signing_credentials()
                signer = V4Signer(endpoint, prefix, credentials.signer_email, credentials.sign_bytes)
            self._signers[cache_key] = signer
        return signer

    def _signing_credentials(self) -> Any:
        from google.auth.credentials import Signing

        credentials = self.credentials if self.credentials is not None else self.client._credentials
        if not isinstance(credentials, Signing) or not getattr(credentials, "signer_email", None):
            raise StorageConfigurationError(
                "GoogleCloudStorage cannot sign URLs: its credentials have no private key "
                f"({type(credentials).__name__}). Use a service-account key (GS_CREDENTIALS), set "
                "GS_IAM_SIGN_BLOB = True to sign through the IAM API, or GS_QUERYSTRING_AUTH = False "
                "for public URLs."
            )
        return credentials

    # -- IAM signBlob ---------------------------------------------------------------------

    def _iam_credentials(self) -> Any:
        if self.credentials is None:
            import google.auth

            credentials, project = google.auth.default(
                scopes=["https://www.googleapis.com/auth/cloud-platform"]
            )
            self.credentials = credentials
            self.project_id = self.project_id or project
        return self.credentials

    def _iam_email(self) -> str:
        if self.sa_email:
            return self.sa_email
        email = getattr(self._iam_credentials(), "service_account_email", None)
        if not email or email == "default":
            credentials = self._iam_credentials()
            self._refresh(credentials)
            email = getattr(credentials, "service_account_email", None)
        if not email:
            raise StorageConfigurationError(
                "GS_IAM_SIGN_BLOB needs a service-account e-mail: the credentials have none; set "
                "GS_SA_EMAIL/sa_email."
            )
        return str(email)

    @staticmethod
    def _refresh(credentials: Any) -> None:
        from google.auth.transport.requests import Request

        if not getattr(credentials, "valid", False):
            credentials.refresh(Request())

    def _iam_sign(self, message: bytes) -> bytes:
        """Sign ``message`` with the IAM signBlob API (one request)."""
        import base64

        from google.cloud.storage._signing import _sign_message

        credentials = self._iam_credentials()
        self._refresh(credentials)
        signature = _sign_message(message, credentials.token, self._iam_email(), self.client.universe_domain)
        return base64.b64decode(signature)

    def _sdk_signed_url(self, key: str, params: dict[str, Any]) -> str:
        """Parameters the local signer does not handle: google-cloud-storage signs."""
        defaults: dict[str, Any] = {"expiration": self.expiration, "version": "v4"}
        if (
            self.custom_endpoint
            and not params.get("api_access_endpoint")
            and not params.get("virtual_hosted_style")
        ):
            defaults["bucket_bound_hostname"] = self.custom_endpoint
        elif self.api_endpoint and not params.get("virtual_hosted_style"):
            defaults["api_access_endpoint"] = self.api_base
        if self.iam_sign_blob:
            credentials = self._iam_credentials()
            self._refresh(credentials)
            defaults["service_account_email"] = self._iam_email()
            defaults["access_token"] = credentials.token
        else:
            defaults["credentials"] = self._signing_credentials()
        for name, value in defaults.items():
            params.setdefault(name, value)
        blob = self.bucket.blob(key)
        return str(blob.generate_signed_url(**params))
