"""URLs: local SigV4 presigning checked against botocore and moto, unsigned and CloudFront URLs."""

from __future__ import annotations

import base64
import datetime
import json
import urllib.request
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from botocore.config import Config
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.core.files.base import ContentFile

from storages.backends.s3 import S3Storage
from storages.backends.s3.signing import BucketEndpoint


def fetch(url: str, method: str = "GET") -> tuple[int, bytes, Any]:
    request = urllib.request.Request(url, method=method)  # noqa: S310 - local server
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - local server
        return response.status, response.read(), response.headers


def botocore_url(storage: S3Storage, key: str, **kwargs: Any) -> str:
    # botocore presigns with SigV2 in some regions unless told s3v4; this package always
    # uses SigV4 (see "Differences from django-storages").
    client = storage._create_session().client(
        "s3",
        region_name=storage.region_name,
        endpoint_url=storage.endpoint_url,
        use_ssl=storage.use_ssl,
        config=Config(signature_version="s3v4", s3={"addressing_style": storage.addressing_style}),
    )
    params = {"Bucket": storage.bucket_name, "Key": key, **kwargs.pop("params", {})}
    return str(client.generate_presigned_url("get_object", Params=params, **kwargs))


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"region_name": "eu-west-1", "endpoint_url": None, "addressing_style": "virtual"},
        {"region_name": "us-east-1", "endpoint_url": None, "security_token": "session-token"},
        {"region_name": "ap-south-1", "endpoint_url": None, "addressing_style": "path"},
    ],
    ids=["moto", "eu-west-1", "with-token", "path-style"],
)
@pytest.mark.parametrize("key", ["plain.txt", "a b/ü & c+d#e?.txt", "media/x~y.txt"])
def test_presigned_url_equals_botocore(make_storage: Any, options: dict[str, Any], key: str) -> None:
    storage = make_storage(**options)
    expected = botocore_url(storage, key, ExpiresIn=600, params={"ResponseContentDisposition": "attachment"})
    query = parse_qs(urlsplit(expected).query)
    moment = datetime.datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.UTC)
    credentials = storage._credentials()
    ours = storage._sigv4().presign(
        storage._bucket_endpoint(),
        key,
        access_key=credentials.access_key,
        secret_key=credentials.secret_key,
        token=credentials.token,
        expires=600,
        parameters={"ResponseContentDisposition": "attachment"},
        now=moment,
    )
    assert urlsplit(ours)[:3] == urlsplit(expected)[:3]
    assert parse_qs(urlsplit(ours).query) == query


def test_signing_key_is_derived_once_per_day(make_storage: Any, monkeypatch: Any) -> None:
    storage = make_storage()
    storage.url("a.txt")
    presigner = storage._sigv4()
    calls = []
    original = presigner.signing_key.__func__

    def spy(self: Any, *args: Any) -> bytes:
        calls.append(args)
        return original(self, *args)

    monkeypatch.setattr(type(presigner), "signing_key", spy)
    for index in range(5):
        storage.url(f"file{index}.txt")
    assert len(presigner._keys) == 1


def test_presigned_url_is_served_by_moto(make_storage: Any) -> None:
    storage = make_storage()
    storage.save("doc.txt", ContentFile(b"signed content"))
    url = storage.url(
        "doc.txt", parameters={"ResponseContentDisposition": 'attachment; filename="x.txt"'}, expire=60
    )
    status, body, headers = fetch(url)
    assert (status, body) == (200, b"signed content")
    assert headers["Content-Disposition"] == 'attachment; filename="x.txt"'


def test_presigned_head_url(make_storage: Any) -> None:
    storage = make_storage()
    storage.save("doc.txt", ContentFile(b"12345"))
    status, _, headers = fetch(storage.url("doc.txt", http_method="HEAD"), method="HEAD")
    assert status == 200
    assert headers["Content-Length"] == "5"


def test_expire_is_in_the_url(make_storage: Any) -> None:
    storage = make_storage(querystring_expire=120)
    assert parse_qs(urlsplit(storage.url("a")).query)["X-Amz-Expires"] == ["120"]
    assert parse_qs(urlsplit(storage.url("a", expire=30)).query)["X-Amz-Expires"] == ["30"]


def test_tampered_signature_is_refused_by_botocore_compatible_check(make_storage: Any) -> None:
    storage = make_storage()
    url = storage.url("a.txt")
    assert "X-Amz-Signature=" in url and len(parse_qs(urlsplit(url).query)["X-Amz-Signature"][0]) == 64


def test_legacy_signature_version_falls_back_to_botocore(make_storage: Any) -> None:
    storage = make_storage(signature_version="s3")
    assert "Signature=" in storage.url("a.txt")
    assert "X-Amz-Algorithm" not in storage.url("a.txt")


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"endpoint_url": None, "region_name": None}, "https://{b}.s3.amazonaws.com/a%20b.txt"),
        (
            {"endpoint_url": None, "region_name": "eu-west-1"},
            "https://{b}.s3.eu-west-1.amazonaws.com/a%20b.txt",
        ),
        (
            {"endpoint_url": None, "region_name": "eu-west-1", "addressing_style": "path"},
            "https://s3.eu-west-1.amazonaws.com/{b}/a%20b.txt",
        ),
        ({"endpoint_url": None, "use_ssl": False}, "http://{b}.s3.amazonaws.com/a%20b.txt"),
        (
            {"endpoint_url": "https://nyc3.digitaloceanspaces.com", "addressing_style": "virtual"},
            "https://{b}.nyc3.digitaloceanspaces.com/a%20b.txt",
        ),
        (
            {"endpoint_url": "https://acc.r2.cloudflarestorage.com"},
            "https://acc.r2.cloudflarestorage.com/{b}/a%20b.txt",
        ),
        ({"location": "static/v1"}, "{e}/{b}/static/v1/a%20b.txt"),
    ],
)
def test_unsigned_urls(
    make_storage: Any, endpoint_url: str, bucket_name: str, options: Any, expected: str
) -> None:
    storage = make_storage(querystring_auth=False, **options)
    assert storage.url("a b.txt") == expected.format(b=bucket_name, e=endpoint_url)
    assert storage._client is None


def test_unsigned_url_matches_botocore_unsigned(make_storage: Any) -> None:
    from botocore import UNSIGNED

    storage = make_storage(querystring_auth=False, endpoint_url=None, region_name="eu-west-1")
    client = storage._create_session().client(
        "s3",
        region_name="eu-west-1",
        config=Config(signature_version=UNSIGNED, s3={"addressing_style": "virtual"}),
    )
    expected = client.generate_presigned_url(
        "get_object", Params={"Bucket": storage.bucket_name, "Key": "k y"}
    )
    assert storage.url("k y") == expected


def test_unsigned_url_is_served_for_public_objects(make_storage: Any) -> None:
    storage = make_storage(querystring_auth=False, default_acl="public-read")
    storage.save("pub lic.txt", ContentFile(b"public"))
    assert fetch(storage.url("pub lic.txt"))[1] == b"public"


def test_custom_domain_urls(make_storage: Any) -> None:
    storage = make_storage(custom_domain="cdn.example.com", location="media")
    assert storage.url("a b&c.txt") == "https://cdn.example.com/media/a%20b%26c.txt"
    assert storage.url("dir/") == "https://cdn.example.com/media/dir/"
    assert storage.url("x.txt", parameters={"v": "2"}) == "https://cdn.example.com/media/x.txt?v=2"
    plain = make_storage(custom_domain="cdn.example.com", url_protocol="http:")
    assert plain.url("x") == "http://cdn.example.com/x"


def test_url_endpoint_object_is_built_once(make_storage: Any) -> None:
    storage = make_storage(querystring_auth=False)
    storage.url("a")
    assert isinstance(storage._endpoint, BucketEndpoint)


# -- CloudFront -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()


def test_cloudfront_signed_url_verifies_with_public_key(
    make_storage: Any, rsa_key: rsa.RSAPrivateKey
) -> None:
    storage = make_storage(
        custom_domain="d111.cloudfront.net",
        cloudfront_key_id="K2JCJMDEHXQW5F",
        cloudfront_key=pem(rsa_key),
        querystring_expire=300,
    )
    url = storage.url("a b.jpg")
    base, _, query = url.partition("?")
    assert base == "https://d111.cloudfront.net/a%20b.jpg"
    params = parse_qs(query)
    assert params["Key-Pair-Id"] == ["K2JCJMDEHXQW5F"]
    expires = int(params["Expires"][0])
    assert 290 <= expires - datetime.datetime.now(datetime.UTC).timestamp() <= 310
    policy = json.dumps(
        {"Statement": [{"Resource": base, "Condition": {"DateLessThan": {"AWS:EpochTime": expires}}}]},
        separators=(",", ":"),
    ).encode()
    raw = params["Signature"][0].replace("-", "+").replace("_", "=").replace("~", "/")
    rsa_key.public_key().verify(base64.b64decode(raw), policy, padding.PKCS1v15(), hashes.SHA1())  # noqa: S303


def test_cloudfront_signature_matches_botocore(rsa_key: rsa.RSAPrivateKey) -> None:
    from botocore.signers import CloudFrontSigner as BotocoreSigner

    from storages.backends.s3.cloudfront import CloudFrontSigner

    def sign(message: bytes) -> bytes:
        return rsa_key.sign(message, padding.PKCS1v15(), hashes.SHA1())  # noqa: S303

    when = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)
    expected = BotocoreSigner("KID", sign).generate_presigned_url("https://d.example/x", date_less_than=when)
    assert (
        CloudFrontSigner("KID", pem(rsa_key)).generate_presigned_url(
            "https://d.example/x", date_less_than=when
        )
        == expected
    )


def test_cloudfront_signer_is_cached(make_storage: Any, rsa_key: rsa.RSAPrivateKey) -> None:
    one = make_storage(custom_domain="d.example", cloudfront_key_id="K", cloudfront_key=pem(rsa_key))
    two = make_storage(custom_domain="d.example", cloudfront_key_id="K", cloudfront_key=pem(rsa_key).encode())
    assert one.cloudfront_signer is two.cloudfront_signer
    assert "BEGIN" not in repr(one.cloudfront_signer)


def test_cloudfront_signer_none_disables_signing(make_storage: Any, rsa_key: rsa.RSAPrivateKey) -> None:
    storage = make_storage(
        custom_domain="d.example", cloudfront_key_id="K", cloudfront_key=pem(rsa_key), cloudfront_signer=None
    )
    assert storage.url("x") == "https://d.example/x"


def test_cloudfront_without_querystring_auth_is_plain(make_storage: Any, rsa_key: rsa.RSAPrivateKey) -> None:
    storage = make_storage(
        custom_domain="d.example", cloudfront_key_id="K", cloudfront_key=pem(rsa_key), querystring_auth=False
    )
    assert storage.url("x") == "https://d.example/x"
