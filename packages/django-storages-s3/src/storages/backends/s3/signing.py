"""URLs for S3 objects built as strings: the bucket's base URL and local SigV4 presigning.

botocore's ``generate_presigned_url`` resolves endpoints and builds a request object on every
call (about 2 ms, django-storages#1553). A URL only needs the bucket's base URL, computed once
per storage, and for a signed URL one HMAC over a short canonical request with a signing key
that changes once a day. This module does exactly that and nothing more.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import hmac
import ipaddress
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from storages.utils import url_quote

__all__ = ["BucketEndpoint", "SigV4Presigner", "query_parameter_name"]

_DNS_BUCKET = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
_DEFAULT_PORTS = {"http": 80, "https": 443}

# ``parameters`` given to ``url()`` use the botocore (GetObject) names; on the wire they are
# query-string names.
_QUERY_NAMES = {
    "ResponseCacheControl": "response-cache-control",
    "ResponseContentDisposition": "response-content-disposition",
    "ResponseContentEncoding": "response-content-encoding",
    "ResponseContentLanguage": "response-content-language",
    "ResponseContentType": "response-content-type",
    "ResponseExpires": "response-expires",
    "VersionId": "versionId",
    "PartNumber": "partNumber",
}


def query_parameter_name(name: str) -> str:
    """The query-string name of a GetObject parameter (``VersionId`` -> ``versionId``)."""
    return _QUERY_NAMES.get(name, name)


@functools.lru_cache(maxsize=1024)
def _encode(value: str) -> str:
    # Cached: most query values (algorithm, credential scope, expiry, token) repeat per URL.
    return quote(value, safe="-_.~")


def _is_ip_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class BucketEndpoint:
    """Scheme, host and path prefix under which a bucket's objects are addressed."""

    scheme: str
    host: str
    path_prefix: str

    @classmethod
    def build(
        cls,
        bucket: str,
        *,
        endpoint_url: str | None,
        region: str | None,
        addressing_style: str | None,
        use_ssl: bool,
    ) -> BucketEndpoint:
        """Follow botocore's choice of virtual-host or path-style addressing.

        Virtual-host style needs a DNS-compatible bucket name without dots (dots break the
        TLS wildcard certificate). With a custom ``endpoint_url`` botocore uses path style
        unless ``addressing_style`` is ``"virtual"``; on AWS it uses virtual-host style unless
        it is ``"path"``.
        """
        dns_ok = bool(_DNS_BUCKET.match(bucket)) and "." not in bucket
        if endpoint_url:
            parts = urlsplit(endpoint_url)
            scheme, host = parts.scheme or "https", parts.netloc
            base_path = parts.path.rstrip("/")
            virtual = addressing_style == "virtual" and dns_ok and not _is_ip_address(parts.hostname or "")
        else:
            scheme = "https" if use_ssl else "http"
            host = "s3.amazonaws.com" if region in (None, "", "us-east-1") else f"s3.{region}.amazonaws.com"
            base_path = ""
            virtual = addressing_style != "path" and dns_ok
        if virtual:
            return cls(scheme, f"{bucket}.{host}", base_path)
        return cls(scheme, host, f"{base_path}/{url_quote(bucket)}")

    @functools.cached_property
    def signed_host(self) -> str:
        """The ``Host`` header a client sends, which is what the signature covers.

        HTTP clients send the host in lower case and leave out the scheme's default port, and
        botocore signs it that way: ``https://minio.example.com:443`` signs ``minio.example.com``.
        """
        parts = urlsplit(f"{self.scheme}://{self.host}")
        host = parts.hostname or ""
        if ":" in host:  # IPv6
            host = f"[{host}]"
        if parts.port is not None and parts.port != _DEFAULT_PORTS.get(self.scheme):
            host = f"{host}:{parts.port}"
        return host

    def object_path(self, key: str) -> str:
        """The percent-encoded path of ``key`` (already normalised, without a leading slash)."""
        return f"{self.path_prefix}/{url_quote(key)}"

    def object_url(self, key: str) -> str:
        return f"{self.scheme}://{self.host}{self.object_path(key)}"


class SigV4Presigner:
    """Presigns S3 requests with AWS Signature Version 4 in the query string.

    The derived signing key depends on the secret, the date and the region only: it is
    computed once per (access key, date, region) and reused by every URL of that day.
    """

    algorithm = "AWS4-HMAC-SHA256"

    def __init__(self, region: str) -> None:
        self.region = region
        self._lock = threading.Lock()
        self._keys: dict[tuple[str, str], tuple[str, bytes]] = {}
        self._clock: tuple[int, str] = (-1, "")

    def _amz_date(self, now: datetime.datetime | None) -> str:
        if now is not None:
            return now.strftime("%Y%m%dT%H%M%SZ")
        second = int(time.time())
        cached_second, text = self._clock
        if cached_second != second:
            text = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(second))
            self._clock = (second, text)
        return text

    def signing_key(self, access_key: str, secret_key: str, date: str) -> bytes:
        cache_key = (access_key, date)
        cached = self._keys.get(cache_key)
        if cached is not None and hmac.compare_digest(cached[0], secret_key):
            return cached[1]
        key = hmac.new(f"AWS4{secret_key}".encode(), date.encode(), hashlib.sha256).digest()
        for part in (self.region, "s3", "aws4_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        with self._lock:
            if len(self._keys) > 16:  # old dates and rotated keys
                self._keys.clear()
            self._keys[cache_key] = (secret_key, key)
        return key

    def presign(
        self,
        endpoint: BucketEndpoint,
        key: str,
        *,
        access_key: str,
        secret_key: str,
        token: str | None = None,
        expires: int = 3600,
        method: str = "GET",
        parameters: Mapping[str, Any] | None = None,
        now: datetime.datetime | None = None,
    ) -> str:
        amz_date = self._amz_date(now)
        date = amz_date[:8]
        scope = f"{date}/{self.region}/s3/aws4_request"
        query: dict[str, str] = {
            query_parameter_name(name): str(value) for name, value in (parameters or {}).items()
        }
        query.update(
            {
                "X-Amz-Algorithm": self.algorithm,
                "X-Amz-Credential": f"{access_key}/{scope}",
                "X-Amz-Date": amz_date,
                "X-Amz-Expires": str(int(expires)),
                "X-Amz-SignedHeaders": "host",
            }
        )
        if token:
            query["X-Amz-Security-Token"] = token
        canonical_query = "&".join(
            f"{_encode(name)}={_encode(value)}" for name, value in sorted(query.items())
        )
        path = endpoint.object_path(key)
        host = endpoint.signed_host
        canonical_request = (
            f"{method.upper()}\n{path}\n{canonical_query}\nhost:{host}\n\nhost\nUNSIGNED-PAYLOAD"
        )
        string_to_sign = (
            f"{self.algorithm}\n{amz_date}\n{scope}\n"
            + hashlib.sha256(canonical_request.encode()).hexdigest()
        )
        signature = hmac.digest(
            self.signing_key(access_key, secret_key, date), string_to_sign.encode(), "sha256"
        ).hex()
        return f"{endpoint.scheme}://{endpoint.host}{path}?{canonical_query}&X-Amz-Signature={signature}"
