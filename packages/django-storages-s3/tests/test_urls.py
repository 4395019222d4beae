"""URLs: local SigV4 presigning proven equal to botocore's, signatures checked with botocore's signer,
unsigned, custom-domain and CloudFront URLs.

moto accepts any signature (its IAM mode does not check presigned URLs), so a URL that moto serves
proves only that it names the right object. Signatures are proven here by equality with
``generate_presigned_url`` under one frozen clock, and by recomputing them with
``botocore.auth.S3SigV4QueryAuth``.
"""

from __future__ import annotations

import base64
import datetime
import hmac
import json
import time
import types
import urllib.request
from dataclasses import dataclass
from typing import Any
from unittest import mock
from urllib.parse import parse_qs, parse_qsl, urlsplit, urlunsplit

import boto3
import botocore.auth
import pytest
from botocore import UNSIGNED
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.core.files.base import ContentFile

from storages.backends.s3 import S3Storage, signing
from storages.backends.s3.signing import BucketEndpoint, SigV4Presigner

ACCESS_KEY = "AKIDEXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
BUCKET = "my-bucket"
# Far from the real time, so that a clock that is not frozen shows in X-Amz-Date.
FROZEN_AT = datetime.datetime(2030, 2, 3, 4, 5, 6, tzinfo=datetime.UTC)
FROZEN_AMZ_DATE = "20300203T040506Z"


@dataclass
class Clock:
    """The time both signers read; tests move it by assigning ``now``."""

    now: datetime.datetime

    def time(self) -> float:
        return self.now.timestamp()

    def botocore_now(self, remove_tzinfo: bool = True) -> datetime.datetime:
        return self.now.replace(tzinfo=None) if remove_tzinfo else self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Freeze the local signer's and botocore's clocks at the same moment."""
    frozen = Clock(FROZEN_AT)
    # The local signer reads ``time.time()``; replace the module it sees, not the global one.
    monkeypatch.setattr(
        signing, "time", types.SimpleNamespace(time=frozen.time, gmtime=time.gmtime, strftime=time.strftime)
    )
    # botocore's SigV4 signers (``add_auth``) take the time from ``get_current_datetime``
    # (botocore.compat), imported by name into botocore.auth. ``raising=True`` (the default) makes
    # a botocore that reads the time elsewhere fail here instead of silently not freezing.
    monkeypatch.setattr(botocore.auth, "get_current_datetime", frozen.botocore_now)
    return frozen


def make(**options: Any) -> S3Storage:
    """A storage with known credentials; building URLs sends no request."""
    options = {
        "access_key": ACCESS_KEY,
        "secret_key": SECRET_KEY,
        "bucket_name": BUCKET,
        "region_name": "us-east-1",
        "endpoint_url": None,
        **options,
    }
    return S3Storage(**options)


def reference_client(options: dict[str, Any], signature_version: Any = "s3v4") -> Any:
    """A botocore client configured like ``make(**options)``, built without the storage."""
    addressing_style = options.get("addressing_style")
    if addressing_style is None and options.get("endpoint_url") is None:
        # Documented difference (docs/providers/s3.rst, "URLs"): on AWS the storage uses
        # virtual-host URLs on the regional host; botocore's default uses the global host.
        addressing_style = "virtual"
    session = boto3.session.Session(
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        aws_session_token=options.get("security_token"),
    )
    s3_options: Any = {"addressing_style": addressing_style}
    return session.client(
        "s3",
        region_name=options.get("region_name", "us-east-1"),
        endpoint_url=options.get("endpoint_url"),
        use_ssl=options.get("use_ssl", True),
        config=Config(signature_version=signature_version, s3=s3_options),
    )


def botocore_url(
    options: dict[str, Any],
    key: str,
    *,
    http_method: str | None = None,
    parameters: dict[str, str] | None = None,
    expire: int = 3600,
    signature_version: Any = "s3v4",
) -> str:
    """botocore's URL for ``key`` (the full key, with any location), as django-storages asks for it."""
    client = reference_client(options, signature_version)
    return str(
        client.generate_presigned_url(
            "get_object",
            Params={"Bucket": options.get("bucket_name", BUCKET), "Key": key, **(parameters or {})},
            ExpiresIn=expire,
            HttpMethod=http_method,
        )
    )


def url_parts(url: str) -> tuple[str, str, str, str, list[str]]:
    """Scheme, host, path, fragment and the sorted, still percent-encoded query pairs."""
    parts = urlsplit(url)
    return parts.scheme, parts.netloc, parts.path, parts.fragment, sorted(parts.query.split("&"))


def query(url: str) -> dict[str, str]:
    pairs = parse_qsl(urlsplit(url).query, keep_blank_values=True, strict_parsing=True)
    assert len(pairs) == len(dict(pairs)), f"repeated query parameter in {url}"
    return dict(pairs)


# -- locally signed URLs equal botocore's ----------------------------------------------------

RESPONSE_PARAMETERS = {
    "ResponseContentDisposition": 'attachment; filename="a b.txt"',
    "ResponseContentType": "text/plain; charset=utf-8",
    "ResponseCacheControl": "no-cache, max-age=0",
}

SIGNED_CASES = [
    # id, storage options, name given to url(), url() arguments, the full key botocore signs
    ("get", {}, "report.pdf", {}, "report.pdf"),
    ("put", {}, "report.pdf", {"http_method": "PUT"}, "report.pdf"),
    ("head", {}, "report.pdf", {"http_method": "HEAD"}, "report.pdf"),
    ("response-parameters", {}, "report.pdf", {"parameters": RESPONSE_PARAMETERS}, "report.pdf"),
    ("key-with-space", {}, "my report.pdf", {}, "my report.pdf"),
    ("key-with-plus", {}, "a+b.txt", {}, "a+b.txt"),
    ("key-with-ampersand", {}, "a&b.txt", {}, "a&b.txt"),
    ("key-with-hash", {}, "a#b.txt", {}, "a#b.txt"),
    ("key-with-question-mark", {}, "a?b=c.txt", {}, "a?b=c.txt"),
    ("key-unicode", {}, "ü/日本 ñ.txt", {}, "ü/日本 ñ.txt"),
    ("key-other-reserved", {}, "~*'()!,;:@=$.txt", {}, "~*'()!,;:@=$.txt"),
    ("location-prefix", {"location": "media/v1"}, "a b.txt", {}, "media/v1/a b.txt"),
    ("session-token", {"security_token": "FwoGZXIvYXdz/token+with=chars"}, "a.txt", {}, "a.txt"),
    ("us-east-1-virtual", {"addressing_style": "virtual"}, "a.txt", {}, "a.txt"),
    ("us-east-1-path", {"addressing_style": "path"}, "a.txt", {}, "a.txt"),
    ("eu-west-1-default", {"region_name": "eu-west-1"}, "a.txt", {}, "a.txt"),
    ("eu-west-1-virtual", {"region_name": "eu-west-1", "addressing_style": "virtual"}, "a.txt", {}, "a.txt"),
    ("eu-west-1-path", {"region_name": "eu-west-1", "addressing_style": "path"}, "a.txt", {}, "a.txt"),
    ("eu-west-1-http", {"region_name": "eu-west-1", "use_ssl": False}, "a.txt", {}, "a.txt"),
    ("dotted-bucket", {"bucket_name": "my.dotted.bucket"}, "a.txt", {}, "a.txt"),
    ("endpoint-port-path", {"endpoint_url": "https://minio.example.com:9000"}, "a b.txt", {}, "a b.txt"),
    (
        "endpoint-port-virtual",
        {"endpoint_url": "https://minio.example.com:9000", "addressing_style": "virtual"},
        "a b.txt",
        {},
        "a b.txt",
    ),
    ("endpoint-base-path", {"endpoint_url": "https://minio.example.com:9000/s3/"}, "a.txt", {}, "a.txt"),
    ("endpoint-default-https-port", {"endpoint_url": "https://minio.example.com:443"}, "a.txt", {}, "a.txt"),
    ("endpoint-default-http-port", {"endpoint_url": "http://minio.example.com:80"}, "a.txt", {}, "a.txt"),
    ("endpoint-upper-case-host", {"endpoint_url": "https://MinIO.Example.com:9000"}, "a.txt", {}, "a.txt"),
    (
        "endpoint-ip-virtual-falls-back-to-path",
        {"endpoint_url": "http://127.0.0.1:9000", "addressing_style": "virtual"},
        "a.txt",
        {},
        "a.txt",
    ),
    ("endpoint-ipv6", {"endpoint_url": "http://[::1]:9000"}, "a.txt", {}, "a.txt"),
    ("expire-argument", {}, "a.txt", {"expire": 60}, "a.txt"),
    ("expire-setting", {"querystring_expire": 120}, "a.txt", {}, "a.txt"),
    (
        "everything",
        {
            "region_name": "eu-west-1",
            "endpoint_url": "https://minio.example.com:9000",
            "security_token": "token",
            "location": "media",
        },
        "ü & b.txt",
        {"http_method": "PUT", "expire": 7, "parameters": RESPONSE_PARAMETERS},
        "media/ü & b.txt",
    ),
]


@pytest.mark.parametrize(
    ("options", "name", "arguments", "key"),
    [pytest.param(*case[1:], id=case[0]) for case in SIGNED_CASES],
)
def test_presigned_url_equals_botocore(
    clock: Clock, options: dict[str, Any], name: str, arguments: dict[str, Any], key: str
) -> None:
    expected = botocore_url(
        options,
        key,
        http_method=arguments.get("http_method"),
        parameters=arguments.get("parameters"),
        expire=arguments.get("expire", options.get("querystring_expire", 3600)),
    )
    url = make(**options).url(name, **arguments)
    assert url_parts(url) == url_parts(expected)
    assert query(url)["X-Amz-Date"] == query(expected)["X-Amz-Date"] == FROZEN_AMZ_DATE


def test_default_addressing_outside_us_east_1_uses_the_regional_host(clock: Clock) -> None:
    # The documented difference that ``reference_client`` applies for AWS endpoints.
    url = make(region_name="eu-west-1").url("a.txt")
    assert urlsplit(url).netloc == f"{BUCKET}.s3.eu-west-1.amazonaws.com"


# -- signatures recomputed with botocore's signer --------------------------------------------


def signature_is_valid(url: str, method: str = "GET", secret_key: str = SECRET_KEY) -> bool:
    """Recompute ``url``'s SigV4 signature with botocore's presigner, as S3 checks it."""
    parts = urlsplit(url)
    params = dict(parse_qsl(parts.query, keep_blank_values=True, strict_parsing=True))
    signature = params.pop("X-Amz-Signature")
    auth = {name: params.pop(name) for name in list(params) if name.startswith("X-Amz-")}
    access_key, _, region, service, _ = auth["X-Amz-Credential"].split("/")
    request = AWSRequest(
        method=method, url=urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")), params=params
    )
    signer = botocore.auth.S3SigV4QueryAuth(
        Credentials(access_key, secret_key, auth.get("X-Amz-Security-Token")),
        service,
        region,
        expires=int(auth["X-Amz-Expires"]),
    )
    signed_at = datetime.datetime.strptime(auth["X-Amz-Date"], "%Y%m%dT%H%M%SZ")
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=signed_at):
        signer.add_auth(request)
    recomputed = parse_qs(urlsplit(str(request.url)).query)["X-Amz-Signature"][0]
    return hmac.compare_digest(recomputed, signature)


@pytest.fixture
def signed_url(clock: Clock) -> str:
    return make(security_token="token").url("report.pdf", parameters=RESPONSE_PARAMETERS, expire=3600)


@pytest.mark.parametrize(
    ("options", "arguments"),
    [
        pytest.param({}, {}, id="get"),
        pytest.param({"security_token": "token"}, {"parameters": RESPONSE_PARAMETERS}, id="token-parameters"),
        pytest.param({}, {"http_method": "PUT"}, id="put"),
        pytest.param({"endpoint_url": "https://minio.example.com:443"}, {}, id="endpoint-default-port"),
        pytest.param({"region_name": "eu-west-1", "location": "ü"}, {}, id="eu-west-1-unicode"),
    ],
)
def test_presigned_url_signature_verifies(
    clock: Clock, options: dict[str, Any], arguments: dict[str, Any]
) -> None:
    url = make(**options).url("my report.pdf", **arguments)
    assert signature_is_valid(url, method=arguments.get("http_method", "GET"))


def test_untampered_url_verifies(signed_url: str) -> None:
    assert signature_is_valid(signed_url)


def tampered(url: str, part: str) -> str:
    """``url`` with one character changed in ``part``."""
    signature = query(url)["X-Amz-Signature"]
    old, new = {
        "signature": (signature, signature[:-1] + ("1" if signature.endswith("0") else "0")),
        "key": ("/report.pdf?", "/report.pdg?"),
        "expiry": ("X-Amz-Expires=3600", "X-Amz-Expires=3601"),
        "date": (f"X-Amz-Date={FROZEN_AMZ_DATE}", "X-Amz-Date=20300203T040507Z"),
        "response-parameter": ("response-content-type=text", "response-content-type=test"),
        "token": ("X-Amz-Security-Token=token", "X-Amz-Security-Token=tokeN"),
    }[part]
    assert len(old) == len(new) and sum(a != b for a, b in zip(old, new, strict=True)) == 1
    assert url.count(old) == 1
    return url.replace(old, new)


@pytest.mark.parametrize("part", ["signature", "key", "expiry", "date", "response-parameter", "token"])
def test_url_with_one_changed_character_is_refused(signed_url: str, part: str) -> None:
    assert not signature_is_valid(tampered(signed_url, part))


def test_url_is_refused_for_another_method_or_secret(signed_url: str) -> None:
    assert not signature_is_valid(signed_url, method="PUT")
    assert not signature_is_valid(signed_url, secret_key=SECRET_KEY[:-1] + "X")


def test_rotated_secret_signs_with_a_new_signing_key() -> None:
    # Refreshable credentials keep the access key and change the secret: the cached key of
    # the old secret must not be reused.
    presigner = SigV4Presigner("us-east-1")
    endpoint = BucketEndpoint.build(
        BUCKET, endpoint_url=None, region="us-east-1", addressing_style=None, use_ssl=True
    )
    old = presigner.presign(endpoint, "a", access_key=ACCESS_KEY, secret_key="old-secret", now=FROZEN_AT)
    new = presigner.presign(endpoint, "a", access_key=ACCESS_KEY, secret_key="new-secret", now=FROZEN_AT)
    assert signature_is_valid(old, secret_key="old-secret")
    assert signature_is_valid(new, secret_key="new-secret")
    assert not signature_is_valid(new, secret_key="old-secret")


# -- work done once ----------------------------------------------------------------------------


@pytest.fixture
def key_derivations(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """The dates for which the local signer derived a signing key from ``SECRET_KEY``.

    The derivation starts with ``HMAC("AWS4" + secret, date)``; every other HMAC (the ones
    that sign a URL) is keyed with the derived key.
    """
    dates: list[bytes] = []
    real_new = hmac.new

    def new(key: bytes, msg: bytes | None = None, digestmod: Any = None) -> Any:
        if key == f"AWS4{SECRET_KEY}".encode() and msg is not None:
            dates.append(msg)
        return real_new(key, msg, digestmod)

    spy = types.SimpleNamespace(new=new, digest=hmac.digest, compare_digest=hmac.compare_digest)
    monkeypatch.setattr(signing, "hmac", spy)
    return dates


def test_signing_key_is_derived_once_per_day(clock: Clock, key_derivations: list[bytes]) -> None:
    storage = make()
    for index in range(20):
        storage.url(f"file{index}.txt", http_method="PUT" if index % 2 else None)
    assert key_derivations == [b"20300203"]

    clock.now += datetime.timedelta(days=1)
    next_day = [storage.url(f"file{index}.txt") for index in range(20)]
    assert key_derivations == [b"20300203", b"20300204"]
    # ...and the new day's URLs are signed with the new day's key.
    assert url_parts(next_day[0]) == url_parts(botocore_url({}, "file0.txt"))


@pytest.mark.parametrize("querystring_auth", [True, False], ids=["signed", "unsigned"])
def test_bucket_endpoint_is_built_once_per_storage(
    clock: Clock, monkeypatch: pytest.MonkeyPatch, querystring_auth: bool
) -> None:
    calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    real_build = BucketEndpoint.build

    def build(*args: Any, **kwargs: Any) -> BucketEndpoint:
        calls.append((args, kwargs))
        return real_build(*args, **kwargs)

    monkeypatch.setattr(BucketEndpoint, "build", build)
    storage = make(region_name="eu-west-1", addressing_style="path", querystring_auth=querystring_auth)
    urls = {storage.url(f"file{index}.txt", parameters={"VersionId": str(index)}) for index in range(20)}
    assert len(urls) == 20
    assert calls == [
        (
            (BUCKET,),
            {"endpoint_url": None, "region": "eu-west-1", "addressing_style": "path", "use_ssl": True},
        )
    ]


# -- other signature versions ------------------------------------------------------------------


def test_legacy_signature_version_gives_botocores_sigv2_url(monkeypatch: pytest.MonkeyPatch) -> None:
    # SigV2 presigning (HmacV1QueryAuth) reads ``time.time()`` in botocore.auth for Expires.
    monkeypatch.setattr(botocore.auth, "time", types.SimpleNamespace(time=FROZEN_AT.timestamp))
    url = make(signature_version="s3").url("a b.txt", expire=60)
    assert sorted(query(url)) == ["AWSAccessKeyId", "Expires", "Signature"]
    assert query(url)["Expires"] == str(int(FROZEN_AT.timestamp()) + 60)
    assert url == botocore_url({}, "a b.txt", expire=60, signature_version="s3")


# -- served by moto (proves the URL names the object, not that its signature is valid) --------


def fetch(url: str, method: str = "GET") -> tuple[int, bytes, Any]:
    request = urllib.request.Request(url, method=method)  # noqa: S310 - local server
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - local server
        return response.status, response.read(), response.headers


def test_presigned_url_addresses_the_saved_object(make_storage: Any) -> None:
    storage = make_storage()
    storage.save("my doc+1.txt", ContentFile(b"signed content"))
    url = storage.url(
        "my doc+1.txt", parameters={"ResponseContentDisposition": 'attachment; filename="x.txt"'}, expire=60
    )
    status, body, headers = fetch(url)
    assert (status, body) == (200, b"signed content")
    assert headers["Content-Disposition"] == 'attachment; filename="x.txt"'


def test_unsigned_url_addresses_the_saved_object(make_storage: Any) -> None:
    storage = make_storage(querystring_auth=False, default_acl="public-read")
    storage.save("pub lic.txt", ContentFile(b"public"))
    assert fetch(storage.url("pub lic.txt"))[:2] == (200, b"public")


# -- unsigned and custom-domain URLs -------------------------------------------------------------

UNSIGNED_CASES = [
    ({"region_name": None}, f"https://{BUCKET}.s3.amazonaws.com/a%20b.txt"),
    ({"region_name": "eu-west-1"}, f"https://{BUCKET}.s3.eu-west-1.amazonaws.com/a%20b.txt"),
    (
        {"region_name": "eu-west-1", "addressing_style": "path"},
        f"https://s3.eu-west-1.amazonaws.com/{BUCKET}/a%20b.txt",
    ),
    ({"use_ssl": False}, f"http://{BUCKET}.s3.amazonaws.com/a%20b.txt"),
    (
        {"endpoint_url": "https://nyc3.digitaloceanspaces.com", "addressing_style": "virtual"},
        f"https://{BUCKET}.nyc3.digitaloceanspaces.com/a%20b.txt",
    ),
    (
        {"endpoint_url": "https://acc.r2.cloudflarestorage.com"},
        f"https://acc.r2.cloudflarestorage.com/{BUCKET}/a%20b.txt",
    ),
    (
        {"endpoint_url": "http://127.0.0.1:9000", "location": "static/v1"},
        f"http://127.0.0.1:9000/{BUCKET}/static/v1/a%20b.txt",
    ),
]


UNSIGNED_IDS = [
    "no-region",
    "eu-west-1",
    "eu-west-1-path",
    "http",
    "virtual-endpoint",
    "path-endpoint",
    "location",
]


@pytest.mark.parametrize(("options", "expected"), UNSIGNED_CASES, ids=UNSIGNED_IDS)
def test_unsigned_url_is_built_without_a_client(options: dict[str, Any], expected: str) -> None:
    storage = make(querystring_auth=False, **options)
    assert storage.url("a b.txt") == expected
    assert storage._client is None


@pytest.mark.parametrize(("options", "expected"), UNSIGNED_CASES, ids=UNSIGNED_IDS)
@pytest.mark.parametrize("name", ["a b.txt", "a+b&c#d?e=f.txt", "ü/日本.txt"])
def test_unsigned_url_equals_botocore_unsigned(options: dict[str, Any], expected: str, name: str) -> None:
    key = f"{options['location']}/{name}" if "location" in options else name
    assert make(querystring_auth=False, **options).url(name) == botocore_url(
        options, key, signature_version=UNSIGNED
    )


def test_unsigned_url_parameters_equal_botocores(clock: Clock) -> None:
    # Compared decoded: the storage encodes a space in the query as "+", botocore as "%20".
    parameters = {"VersionId": "v 1", **RESPONSE_PARAMETERS}
    url = make(querystring_auth=False).url("a.txt", parameters=parameters)
    expected = botocore_url({}, "a.txt", parameters=parameters, signature_version=UNSIGNED)
    assert url.partition("?")[0] == expected.partition("?")[0]
    assert query(url) == query(expected)


def test_custom_domain_urls() -> None:
    storage = make(custom_domain="cdn.example.com", location="media")
    assert storage.url("a b&c.txt") == "https://cdn.example.com/media/a%20b%26c.txt"
    assert storage.url("dir/") == "https://cdn.example.com/media/dir/"
    assert storage.url("x.txt", parameters={"v": "2"}) == "https://cdn.example.com/media/x.txt?v=2"
    assert make(custom_domain="cdn.example.com", url_protocol="http:").url("x") == "http://cdn.example.com/x"


# -- CloudFront ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()


def cloudfront_policy(resource: str, expires: int) -> bytes:
    statement = {"Resource": resource, "Condition": {"DateLessThan": {"AWS:EpochTime": expires}}}
    return json.dumps({"Statement": [statement]}, separators=(",", ":")).encode()


def test_cloudfront_signed_url_verifies_with_public_key(rsa_key: rsa.RSAPrivateKey) -> None:
    storage = make(
        custom_domain="d111.cloudfront.net",
        cloudfront_key_id="K2JCJMDEHXQW5F",
        cloudfront_key=pem(rsa_key),
        querystring_expire=300,
    )
    url = storage.url("a b.jpg")
    base, _, query_string = url.partition("?")
    assert base == "https://d111.cloudfront.net/a%20b.jpg"
    params = parse_qs(query_string)
    assert sorted(params) == ["Expires", "Key-Pair-Id", "Signature"]
    assert params["Key-Pair-Id"] == ["K2JCJMDEHXQW5F"]
    expires = int(params["Expires"][0])
    assert 290 <= expires - datetime.datetime.now(datetime.UTC).timestamp() <= 310
    signature = base64.b64decode(params["Signature"][0].replace("-", "+").replace("_", "=").replace("~", "/"))
    public_key = rsa_key.public_key()
    public_key.verify(signature, cloudfront_policy(base, expires), padding.PKCS1v15(), hashes.SHA1())  # noqa: S303
    # The same signature does not cover another object or a later expiry.
    for policy in (cloudfront_policy(base + "x", expires), cloudfront_policy(base, expires + 1)):
        with pytest.raises(InvalidSignature):
            public_key.verify(signature, policy, padding.PKCS1v15(), hashes.SHA1())  # noqa: S303


def test_cloudfront_signature_matches_botocore(rsa_key: rsa.RSAPrivateKey) -> None:
    from botocore.signers import CloudFrontSigner as BotocoreSigner

    from storages.backends.s3.cloudfront import CloudFrontSigner

    def sign(message: bytes) -> bytes:
        return rsa_key.sign(message, padding.PKCS1v15(), hashes.SHA1())  # noqa: S303

    when = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)
    expected = BotocoreSigner("KID", sign).generate_presigned_url("https://d.example/x", date_less_than=when)
    ours = CloudFrontSigner("KID", pem(rsa_key))
    assert ours.generate_presigned_url("https://d.example/x", date_less_than=when) == expected


def test_cloudfront_signer_is_shared_by_equal_keys(rsa_key: rsa.RSAPrivateKey) -> None:
    one = make(custom_domain="d.example", cloudfront_key_id="K", cloudfront_key=pem(rsa_key))
    two = make(custom_domain="d.example", cloudfront_key_id="K", cloudfront_key=pem(rsa_key).encode())
    assert one.cloudfront_signer is not None
    assert one.cloudfront_signer is two.cloudfront_signer
    assert "BEGIN" not in repr(one.cloudfront_signer)


def test_cloudfront_signer_none_disables_signing(rsa_key: rsa.RSAPrivateKey) -> None:
    storage = make(
        custom_domain="d.example", cloudfront_key_id="K", cloudfront_key=pem(rsa_key), cloudfront_signer=None
    )
    assert storage.url("x") == "https://d.example/x"


def test_cloudfront_without_querystring_auth_is_plain(rsa_key: rsa.RSAPrivateKey) -> None:
    storage = make(
        custom_domain="d.example", cloudfront_key_id="K", cloudfront_key=pem(rsa_key), querystring_auth=False
    )
    assert storage.url("x") == "https://d.example/x"


# -- the decision: local where proven equal to botocore, else botocore builds the URL ------------

DEFAULT_HOST = {"addressing_style": "virtual"}

URL_TABLE = [
    # id, storage options, environment, who builds the URL
    ("us-east-1", {}, {}, "local"),
    ("no-region", {"region_name": None}, {}, "local"),
    ("eu-west-1", {"region_name": "eu-west-1"}, {}, "local"),
    ("eu-west-1-path", {"region_name": "eu-west-1", "addressing_style": "path"}, {}, "local"),
    ("ap-southeast-2-virtual", {"region_name": "ap-southeast-2", "addressing_style": "virtual"}, {}, "local"),
    ("eu-west-1-http", {"region_name": "eu-west-1", "use_ssl": False}, {}, "local"),
    ("dotted-bucket-eu-west-1", {"region_name": "eu-west-1", "bucket_name": "my.dotted.bucket"}, {}, "local"),
    ("cn-north-1", {"region_name": "cn-north-1"}, {}, "botocore"),
    ("cn-northwest-1-path", {"region_name": "cn-northwest-1", "addressing_style": "path"}, {}, "botocore"),
    ("us-gov-west-1", {"region_name": "us-gov-west-1"}, {}, "botocore"),
    (
        "accelerate",
        {"client_config": Config(signature_version="s3v4", s3={"use_accelerate_endpoint": True})},
        {},
        "botocore",
    ),
    (
        "dual-stack",
        {
            "region_name": "eu-west-1",
            "client_config": Config(signature_version="s3v4", use_dualstack_endpoint=True),
        },
        {},
        "botocore",
    ),
    (
        "dual-stack-s3-option",
        {"client_config": Config(signature_version="s3v4", s3={"use_dualstack_endpoint": True})},
        {},
        "botocore",
    ),
    ("dual-stack-env", {"region_name": "eu-west-1"}, {"AWS_USE_DUALSTACK_ENDPOINT": "true"}, "botocore"),
    ("fips-env", {}, {"AWS_USE_FIPS_ENDPOINT": "true"}, "botocore"),
    (
        "neutral-client-config",
        {"region_name": "eu-west-1", "client_config": Config(retries={"max_attempts": 2}, connect_timeout=3)},
        {},
        "local",
    ),
    ("endpoint", {"endpoint_url": "https://minio.example.com"}, {}, "local"),
    ("endpoint-port", {"endpoint_url": "https://minio.example.com:9000"}, {}, "local"),
    ("endpoint-default-https-port", {"endpoint_url": "https://minio.example.com:443"}, {}, "local"),
    ("endpoint-default-http-port", {"endpoint_url": "http://minio.example.com:80"}, {}, "local"),
    (
        "endpoint-port-virtual",
        {"endpoint_url": "https://minio.example.com:9000", "addressing_style": "virtual"},
        {},
        "local",
    ),
    (
        "endpoint-default-port-virtual",
        {"endpoint_url": "https://minio.example.com:443", "addressing_style": "virtual"},
        {},
        "local",
    ),
    ("env-endpoint-s3", {}, {"AWS_ENDPOINT_URL_S3": "https://minio.example.com:9000"}, "botocore"),
    ("env-endpoint", {"region_name": "eu-west-1"}, {"AWS_ENDPOINT_URL": "http://127.0.0.1:9000"}, "botocore"),
    (
        "env-endpoint-default-port",
        {},
        {"AWS_ENDPOINT_URL_S3": "https://minio.example.com:443"},
        "botocore",
    ),
    (
        "explicit-endpoint-wins-over-env",
        {"endpoint_url": "https://minio.example.com:9000"},
        {"AWS_ENDPOINT_URL_S3": "https://other.example.com"},
        "local",
    ),
    (
        "env-endpoint-ignored",
        {},
        {"AWS_ENDPOINT_URL_S3": "https://minio.example.com", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"},
        "local",
    ),
    ("region-from-env", {"region_name": None}, {"AWS_DEFAULT_REGION": "eu-central-1"}, "botocore"),
    (
        "access-point-arn",
        {"bucket_name": "arn:aws:s3:us-east-1:123456789012:accesspoint/media"},
        {},
        "botocore",
    ),
]


def table_reference_url(
    options: dict[str, Any], local: bool, signed: bool, key: str, http_method: str | None
) -> str:
    """botocore's URL for a client built exactly as the storage builds its own.

    Rows the storage builds locally apply the one documented difference (virtual-host URLs on
    the regional host when ``addressing_style`` is unset on AWS).
    """
    config = options.get("client_config")
    if config is None:
        style = options.get("addressing_style")
        if local and style is None and options.get("endpoint_url") is None:
            style = "virtual"
        config = Config(signature_version="s3v4", s3={"addressing_style": style})
    elif local and not (config.s3 or {}).get("addressing_style") and options.get("endpoint_url") is None:
        config = config.merge(Config(s3={"addressing_style": "virtual"}))
    if local and config.signature_version is None:
        # Documented: unset means SigV4 (botocore alone presigns some of these with SigV2).
        config = config.merge(Config(signature_version="s3v4"))
    if not signed:
        config = config.merge(Config(signature_version=UNSIGNED))
    client = boto3.session.Session(aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY).client(
        "s3",
        region_name=options.get("region_name", "us-east-1"),
        endpoint_url=options.get("endpoint_url"),
        use_ssl=options.get("use_ssl", True),
        config=config,
    )
    return str(
        client.generate_presigned_url(
            "get_object",
            Params={"Bucket": options.get("bucket_name", BUCKET), "Key": key},
            ExpiresIn=3600,
            HttpMethod=http_method,
        )
    )


@pytest.mark.parametrize("signed", [True, False], ids=["signed", "unsigned"])
@pytest.mark.parametrize(
    ("options", "environment", "builder"), [pytest.param(*row[1:], id=row[0]) for row in URL_TABLE]
)
def test_url_table_equals_botocore(
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
    options: dict[str, Any],
    environment: dict[str, str],
    builder: str,
    signed: bool,
) -> None:
    from storages.backends.s3.storage import clear_clients

    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    clear_clients()  # clients are built once per configuration: not across environments
    storage = make(querystring_auth=signed, **options)
    assert storage._botocore_url_reason() is None if builder == "local" else storage._botocore_url_reason()
    for method in ("GET", "PUT", "HEAD") if signed else (None,):
        url = storage.url("a b/ü+c.txt", http_method=method)
        expected = table_reference_url(options, builder == "local", signed, "a b/ü+c.txt", method)
        assert url_parts(url) == url_parts(expected), method
    clear_clients()


def test_custom_domain_is_quoted_like_the_original() -> None:
    # filepath_to_uri, as django-storages 1.14 did: CDN cache keys stay the same on upgrade.
    from django.utils.encoding import filepath_to_uri

    storage = make(custom_domain="cdn.example.com")
    for name in ("a b.txt", "it's (1)!*~.txt", "ü/日本.txt", "a+b&c=d.txt"):
        assert storage.url(name) == f"https://cdn.example.com/{filepath_to_uri(name)}"
    assert storage.url("it's (1)!.txt") == "https://cdn.example.com/it's%20(1)!.txt"
