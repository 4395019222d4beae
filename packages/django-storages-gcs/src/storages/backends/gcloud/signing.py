"""V4 signed URLs for Cloud Storage, signed locally with as little work as possible per URL.

google-cloud-storage's ``Blob.generate_signed_url`` rebuilds everything on each call (the
credential scope, the canonical headers, datetime arithmetic). :class:`V4Signer` keeps what
does not change between calls (the host, the signer's e-mail, the scope of the current day) so
that a URL costs one SHA-256 of a short canonical request plus the RSA signature. The output
is byte for byte what ``generate_signed_url(version="v4")`` gives for the same inputs (the
tests compare both under one frozen clock).
"""

from __future__ import annotations

import binascii
import datetime
import hashlib
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote, urlsplit

__all__ = ["SEVEN_DAYS", "V4Signer", "expiration_seconds"]

SEVEN_DAYS = 7 * 24 * 3600


def _now() -> float:
    """Seconds since the epoch (a seam for the tests' frozen clock)."""
    return time.time()


def expiration_seconds(expiration: Any, now: float) -> int:
    """Seconds a URL stays valid: ``expiration`` is a timedelta, a datetime (naive: UTC) or an
    int of seconds, as google-cloud-storage reads it for V4 URLs."""
    if isinstance(expiration, bool) or not isinstance(
        expiration, int | datetime.timedelta | datetime.datetime
    ):
        raise TypeError(f"Expected an int of seconds, a datetime or a timedelta; got {type(expiration)}.")
    if isinstance(expiration, datetime.datetime):
        if expiration.tzinfo is None:
            expiration = expiration.replace(tzinfo=datetime.UTC)
        expiration = expiration - datetime.datetime.fromtimestamp(now, datetime.UTC)
    seconds = int(expiration.total_seconds()) if isinstance(expiration, datetime.timedelta) else expiration
    if seconds > SEVEN_DAYS:
        raise ValueError(f"Max allowed expiration interval is seven days {SEVEN_DAYS}")
    return seconds


def _quote_param(value: Any) -> str:
    if not isinstance(value, bytes):
        value = str(value)
    return quote(value, safe="~")


class V4Signer:
    """Signs V4 URLs of one endpoint for one signer identity.

    ``endpoint`` is the scheme and host the URLs point at (``https://storage.googleapis.com``,
    a bucket-bound host, or an emulator); ``prefix`` is the path before the quoted object key
    (``/bucket`` for the JSON API host, empty for a bucket-bound host); ``sign`` returns the
    RSA-SHA256 signature of its bytes (a service-account key, or the IAM signBlob API).
    """

    def __init__(self, endpoint: str, prefix: str, email: str, sign: Callable[[bytes], bytes]) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.prefix = prefix
        self.email = email
        self.sign = sign
        self.host = urlsplit(self.endpoint).netloc
        self._day = ""
        self._scope = ""
        self._credential = ""

    def _scope_for(self, datestamp: str) -> tuple[str, str]:
        if datestamp != self._day:
            scope = f"{datestamp}/auto/storage/goog4_request"
            # Assigned together: another thread sees either day's pair, both correct for it.
            self._scope, self._credential, self._day = scope, _quote_param(f"{self.email}/{scope}"), datestamp
        return self._scope, self._credential

    def string_to_sign(
        self,
        quoted_key: str,
        *,
        expires: int,
        now: float,
        method: str = "GET",
        query: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[str, str, str]:
        """``(resource, canonical query, string to sign)`` of one URL."""
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
        scope, credential = self._scope_for(stamp[:8])
        method = method.upper()
        if headers or method == "RESUMABLE":
            canonical_headers, signed_headers = self._canonical_headers(headers or {}, method)
            if method == "RESUMABLE":
                method = "POST"
        else:
            canonical_headers, signed_headers = f"host:{self.host}\n", "host"
        params = [
            "X-Goog-Algorithm=GOOG4-RSA-SHA256",
            f"X-Goog-Credential={credential}",
            f"X-Goog-Date={stamp}",
            f"X-Goog-Expires={expires}",
            f"X-Goog-SignedHeaders={_quote_param(signed_headers)}",
        ]
        if query:
            params += [f"{_quote_param(k)}={_quote_param(v or '')}" for k, v in query.items()]
        params.sort()
        canonical_query = "&".join(params)
        resource = f"{self.prefix}/{quoted_key}"
        canonical_request = "\n".join(
            (method, resource, canonical_query, canonical_headers, signed_headers, "UNSIGNED-PAYLOAD")
        )
        digest = hashlib.sha256(canonical_request.encode("ascii")).hexdigest()
        return resource, canonical_query, f"GOOG4-RSA-SHA256\n{stamp}\n{scope}\n{digest}"

    def _canonical_headers(self, headers: Mapping[str, str], method: str) -> tuple[str, str]:
        merged = {k.lower().strip(): " ".join(str(v).split()) for k, v in headers.items()}
        merged.setdefault("host", self.host)
        if method == "RESUMABLE":
            merged["x-goog-resumable"] = "start"
        ordered = sorted(merged.items())
        return "".join(f"{k}:{v}\n" for k, v in ordered), ";".join(k for k, _ in ordered)

    def url(
        self,
        quoted_key: str,
        *,
        expires: int,
        now: float | None = None,
        method: str = "GET",
        query: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> str:
        when = _now() if now is None else now
        resource, canonical_query, to_sign = self.string_to_sign(
            quoted_key, expires=expires, now=when, method=method, query=query, headers=headers
        )
        signature = binascii.hexlify(self.sign(to_sign.encode("ascii"))).decode("ascii")
        return f"{self.endpoint}{resource}?{canonical_query}&X-Goog-Signature={signature}"
