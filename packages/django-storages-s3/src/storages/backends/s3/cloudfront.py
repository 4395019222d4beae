"""CloudFront signed URLs (canned policy) with ``cryptography``.

Loading a PEM key costs tens of milliseconds (django-storages#1333), so signers are cached
per key id and a SHA-256 digest of the key: the key itself is never used as a cache key, logged
or shown in ``repr()``.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import threading
from typing import Any

from storages.exceptions import MissingDependencyError

__all__ = ["CloudFrontSigner", "get_cloudfront_signer"]

_lock = threading.Lock()
_signers: dict[tuple[str, str], CloudFrontSigner] = {}


def _cloudfront_b64(data: bytes) -> str:
    # CloudFront's URL-safe variant of base64 (not the RFC 4648 one).
    return base64.b64encode(data).decode().replace("+", "-").replace("=", "_").replace("/", "~")


class CloudFrontSigner:
    """Signs CloudFront URLs with a canned policy (``Expires``, ``Signature``, ``Key-Pair-Id``).

    The interface matches ``botocore.signers.CloudFrontSigner.generate_presigned_url`` so
    that either can be given as ``cloudfront_signer``.
    """

    def __init__(self, key_id: str, private_key: str | bytes) -> None:
        try:
            from cryptography.hazmat.primitives import hashes, serialization
            from cryptography.hazmat.primitives.asymmetric import padding, rsa
        except ImportError as exc:
            raise MissingDependencyError(
                "cryptography (needed to sign CloudFront URLs)",
                '"django-storages-s3[cloudfront]"',
            ) from exc
        pem = private_key.encode("ascii") if isinstance(private_key, str) else private_key
        key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise TypeError("AWS_CLOUDFRONT_KEY must be an RSA private key in PEM format.")
        self.key_id = key_id
        self._pem = pem
        self._key = key
        self._padding = padding.PKCS1v15()
        self._hash = hashes.SHA1()  # noqa: S303 - CloudFront canned policies are signed with RSA-SHA1.

    def __repr__(self) -> str:
        return f"<CloudFrontSigner key_id={self.key_id!r}>"

    def __reduce__(self) -> tuple[Any, ...]:
        # A loaded RSA key cannot be pickled: a copy is the (cached) signer of the same key.
        return (get_cloudfront_signer, (self.key_id, self._pem))

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message, self._padding, self._hash)

    def generate_presigned_url(
        self, url: str, date_less_than: datetime.datetime | None = None, policy: Any = None
    ) -> str:
        if policy is not None or date_less_than is None:
            raise ValueError("Only canned policies (date_less_than) are supported.")
        if date_less_than.tzinfo is None:
            # botocore's signer takes naive UTC datetimes; accept them too.
            date_less_than = date_less_than.replace(tzinfo=datetime.UTC)
        expires = int(date_less_than.timestamp())
        canned = json.dumps(
            {"Statement": [{"Resource": url, "Condition": {"DateLessThan": {"AWS:EpochTime": expires}}}]},
            separators=(",", ":"),
        )
        signature = _cloudfront_b64(self.sign(canned.encode()))
        separator = "&" if "?" in url else "?"
        return f"{url}{separator}Expires={expires}&Signature={signature}&Key-Pair-Id={self.key_id}"


def get_cloudfront_signer(key_id: str, key: str | bytes) -> CloudFrontSigner:
    """A cached :class:`CloudFrontSigner` for this key id and key."""
    raw = key.encode("ascii") if isinstance(key, str) else bytes(key)
    cache_key = (key_id, hashlib.sha256(raw).hexdigest())
    signer = _signers.get(cache_key)
    if signer is None:
        signer = CloudFrontSigner(key_id, raw)
        with _lock:
            signer = _signers.setdefault(cache_key, signer)
    return signer
