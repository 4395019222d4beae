"""url(): SAS URLs that Azurite accepts (and refuses when tampered or expired), write SAS,
public and custom-domain URLs, all built without a request."""

from __future__ import annotations

import datetime
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.base import ContentFile

from shared.testservers.azurite import AzuriteServer
from storages.backends.azure_storage import AzureStorage
from storages.backends.azure_storage.signing import SAS_VERSION, BlobSasSigner
from storages.exceptions import StorageConfigurationError


def fetch(
    url: str, method: str = "GET", data: bytes | None = None, headers: dict[str, str] | None = None
) -> Any:
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})  # noqa: S310
    return urllib.request.urlopen(request, timeout=30)  # noqa: S310 - the local Azurite


def status_of(url: str, **kwargs: Any) -> int:
    try:
        with fetch(url, **kwargs) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def test_sas_url_is_served_byte_for_byte(make_storage: Callable[..., Any]) -> None:
    storage = make_storage(expiration_secs=300)
    payload = bytes(range(256)) * 4096  # 1 MiB, every byte value
    storage.save("folder/data ü+&.bin", ContentFile(payload))
    url = storage.url("folder/data ü+&.bin")
    assert "/folder/data%20%C3%BC%2B%26.bin?" in url
    with fetch(url) as response:
        assert response.read() == payload


def test_tampered_sas_is_refused(make_storage: Callable[..., Any]) -> None:
    storage = make_storage(expiration_secs=300)
    storage.save("secret.txt", ContentFile(b"private"))
    url = storage.url("secret.txt")
    assert status_of(url) == 200
    # Another permission, a later expiry, or another blob under the same signature.
    assert status_of(url.replace("sp=r", "sp=rw")) == 403
    later = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=30)).strftime(
        "%Y-%m-%dT%H%%3A%M%%3A%SZ"
    )
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    original_se = urllib.parse.quote(query["se"][0])
    assert status_of(url.replace(f"se={original_se}", f"se={later}")) == 403
    storage.save("other.txt", ContentFile(b"other"))
    assert status_of(url.replace("/secret.txt?", "/other.txt?")) == 403
    signature = query["sig"][0]
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    assert status_of(url.replace(urllib.parse.quote(signature), urllib.parse.quote(flipped))) == 403


def test_expired_sas_is_refused(make_storage: Callable[..., Any], azurite: AzuriteServer) -> None:
    storage = make_storage()
    storage.save("soon.txt", ContentFile(b"short-lived"))
    base = storage.url("soon.txt")
    signer = BlobSasSigner(azurite.account_name, azurite.account_key)
    now = datetime.datetime.now(datetime.UTC)
    valid = signer.token(storage.azure_container, "soon.txt", now + datetime.timedelta(minutes=5))
    expired = signer.token(storage.azure_container, "soon.txt", now - datetime.timedelta(seconds=5))
    assert status_of(f"{base}?{valid}") == 200
    assert status_of(f"{base}?{expired}") == 403
    # And url(expire=...) puts the expiry that far ahead, to the second.
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(storage.url("soon.txt", 120)).query)
    se = datetime.datetime.strptime(query["se"][0], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.UTC)
    assert abs((se - now).total_seconds() - 120) < 60


def test_unsigned_url_of_a_private_container_is_refused(make_storage: Callable[..., Any]) -> None:
    storage = make_storage()  # expiration_secs None: unsigned, as in django-storages
    storage.save("private.txt", ContentFile(b"x"))
    url = storage.url("private.txt")
    assert "?" not in url
    assert status_of(url) in (403, 404)


def test_unsigned_url_of_a_public_container(
    make_storage: Callable[..., Any], public_container_name: str
) -> None:
    storage = make_storage(azure_container=public_container_name)
    storage.save("pub lic.txt", ContentFile(b"for everyone"))
    with fetch(storage.url("pub lic.txt")) as response:
        assert response.read() == b"for everyone"


def test_write_sas_lets_a_browser_put_the_blob(make_storage: Callable[..., Any]) -> None:
    storage = make_storage()
    url = storage.url("uploads/from-browser.txt", 300, mode="w")
    assert "sp=w" in url
    assert (
        status_of(url, method="PUT", data=b"put by the browser", headers={"x-ms-blob-type": "BlockBlob"})
        == 201
    )
    with storage.open("uploads/from-browser.txt") as f:
        assert f.read() == b"put by the browser"
    # A read SAS cannot write, a write SAS cannot read.
    read_url = storage.url("uploads/other.txt", 300)
    assert status_of(read_url, method="PUT", data=b"x", headers={"x-ms-blob-type": "BlockBlob"}) == 403
    assert status_of(url) == 403


def test_sas_parameters_override_response_headers(make_storage: Callable[..., Any]) -> None:
    storage = make_storage()
    storage.save("report.csv", ContentFile(b"a,b\n"))
    url = storage.url(
        "report.csv", 300, parameters={"content_type": "text/plain", "content_disposition": "attachment"}
    )
    with fetch(url) as response:
        assert response.headers["Content-Type"] == "text/plain"
        assert response.headers["Content-Disposition"] == "attachment"
        assert response.read() == b"a,b\n"


def test_unknown_sas_parameter_is_refused(make_storage: Callable[..., Any]) -> None:
    with pytest.raises(ValueError, match="content_typo"):
        make_storage().url("x.txt", 60, parameters={"content_typo": "text/plain"})


def test_bad_mode_is_refused(make_storage: Callable[..., Any]) -> None:
    with pytest.raises(ValueError, match="mode"):
        make_storage().url("x.txt", 60, mode="q")


def test_token_equals_the_sdks_for_the_same_inputs(azurite: AzuriteServer) -> None:
    from azure.storage.blob._shared_access_signature import BlobSharedAccessSignature

    expiry = datetime.datetime(2031, 5, 6, 7, 8, 9, tzinfo=datetime.UTC)
    signer = BlobSasSigner(azurite.account_name, azurite.account_key)
    sdk = BlobSharedAccessSignature(azurite.account_name, azurite.account_key)
    sdk.x_ms_version = SAS_VERSION
    cases: list[tuple[str, str, dict[str, str]]] = [
        ("plain.txt", "r", {}),
        ("a b/ü名+&#.txt", "cw", {}),
        ("x.bin", "r", {"content_type": "text/html; charset=utf-8", "cache_control": "no-cache"}),
        (
            "y.bin",
            "r",
            {
                "content_disposition": 'attachment; filename="y.bin"',
                "content_language": "fr",
                "content_encoding": "identity",
            },
        ),
    ]
    for blob, permission, parameters in cases:
        ours = signer.token("box", blob, expiry, permission, parameters)
        theirs = sdk.generate_blob("box", blob, permission=permission, expiry=expiry, **parameters)  # type: ignore[arg-type]
        assert ours == theirs, blob


def test_url_makes_no_request(logged_storage: Callable[..., Any]) -> None:
    storage, log = logged_storage(expiration_secs=300)
    storage.save("x.txt", ContentFile(b"x"))
    log.clear()
    for _ in range(20):
        storage.url("x.txt")
        storage.url("x.txt", 0)
        storage.url("x.txt", 60, mode="w")
    assert len(log) == 0


def test_url_never_builds_a_client(azurite: AzuriteServer) -> None:
    storage = AzureStorage(
        connection_string=azurite.connection_string, azure_container="c", expiration_secs=60
    )
    storage.url("a.txt")
    storage.url("a.txt", 0)
    assert storage._service_client is None


def test_custom_domain_replaces_the_host() -> None:
    storage = AzureStorage(
        account_name="myaccount", account_key="a2V5", azure_container="media", custom_domain="cdn.example.com"
    )
    assert storage.url("a b.txt") == "https://cdn.example.com/media/a%20b.txt"
    signed = storage.url("a b.txt", 60)
    assert signed.startswith("https://cdn.example.com/media/a%20b.txt?se=")
    assert "sig=" in signed


def test_account_url_follows_ssl_and_endpoint_suffix() -> None:
    storage = AzureStorage(
        account_name="acct", azure_container="media", azure_ssl=False, endpoint_suffix="core.chinacloudapi.cn"
    )
    assert storage.url("f.txt") == "http://acct.blob.core.chinacloudapi.cn/media/f.txt"


def test_url_of_a_connection_string_with_endpoint_suffix() -> None:
    storage = AzureStorage(
        connection_string="DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=a2V5;"
        "EndpointSuffix=core.usgovcloudapi.net",
        azure_container="media",
    )
    assert storage.url("f.txt") == "https://acct.blob.core.usgovcloudapi.net/media/f.txt"


def test_signing_needs_a_key_or_token_credential() -> None:
    storage = AzureStorage(account_name="acct", sas_token="sv=2020&sig=abc", azure_container="media")
    with pytest.raises(StorageConfigurationError, match="cannot sign") as info:
        storage.url("f.txt", 60)
    assert "sig=abc" not in str(info.value)


class FakeDelegationService:
    """Stands in for BlobServiceClient.get_user_delegation_key (Azurite needs HTTPS OAuth for it)."""

    def __init__(self) -> None:
        self.calls: list[datetime.datetime] = []

    def get_user_delegation_key(self, key_start_time: Any, key_expiry_time: Any, timeout: Any = None) -> Any:
        from azure.storage.blob import UserDelegationKey

        self.calls.append(key_expiry_time)
        key = UserDelegationKey()  # type: ignore[no-untyped-call]
        key.signed_oid = "oid"
        key.signed_tid = "tid"
        key.signed_start = key_start_time.strftime("%Y-%m-%dT%H:%M:%SZ")
        key.signed_expiry = key_expiry_time.strftime("%Y-%m-%dT%H:%M:%SZ")
        key.signed_service = "b"
        key.signed_version = SAS_VERSION
        key.value = "a2V5"
        return key


def test_user_delegation_key_is_fetched_once_and_cached() -> None:
    storage = AzureStorage(account_name="acct", token_credential=object(), azure_container="media")
    fake = FakeDelegationService()
    storage._service_client = fake
    first = storage.url("a.txt", 3600)
    second = storage.url("b.txt", 7200)
    assert len(fake.calls) == 1
    assert "skoid=oid" in first and "skoid=oid" in second
    with pytest.raises(ValueError, match="7 days"):
        storage.url("c.txt", 8 * 24 * 3600)
