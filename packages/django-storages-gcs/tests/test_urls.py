"""url(): public URLs are string work; V4 signed URLs equal google-cloud-storage's own.

The emulator does not check signatures (any X-Goog-Signature is served), so every signed URL
is compared with ``Blob.generate_signed_url`` for the same inputs under one frozen clock, and
its signature is verified with the throwaway key's public half; the fetch from the emulator
only proves the URL's path and query reach the object.
"""

from __future__ import annotations

import binascii
import datetime
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.base import ContentFile

from storages.backends.gcloud import signing
from storages.exceptions import StorageConfigurationError

from .conftest import SigningAnonymousCredentials

FROZEN = datetime.datetime(2026, 3, 4, 5, 6, 7, tzinfo=datetime.UTC)


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> datetime.datetime:
    """One instant for our signer and google-cloud-storage's."""
    from google.cloud.storage import _signing

    monkeypatch.setattr(_signing, "_NOW", lambda tz=None: FROZEN)
    monkeypatch.setattr(signing, "_now", FROZEN.timestamp)
    return FROZEN


PUBLIC_KEYS: dict[str, Any] = {}


@pytest.fixture(autouse=True)
def public_key(service_account_info: dict[str, str]) -> Any:
    """The public half of the throwaway key, to verify signatures with."""
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    key = load_pem_private_key(service_account_info["private_key"].encode(), password=None).public_key()
    PUBLIC_KEYS[service_account_info["client_email"]] = key
    return key


@pytest.fixture
def signed_storage(make_storage: Callable[..., Any], service_account_credentials: Any) -> Any:
    return make_storage(credentials=SigningAnonymousCredentials(service_account_credentials))


def google_url(storage: Any, name: str, credentials: Any, **parameters: Any) -> str:
    """What google-cloud-storage signs for the same inputs (the original's call)."""
    params: dict[str, Any] = {"expiration": storage.expiration, "version": "v4", "credentials": credentials}
    if storage.custom_endpoint:
        params["bucket_bound_hostname"] = storage.custom_endpoint
    else:
        params["api_access_endpoint"] = storage.api_base
    params.update(parameters)
    return str(storage.bucket.blob(storage._normalize_name(name)).generate_signed_url(**params))


def verify_signature(url: str, storage: Any, credentials: Any, method: str = "GET") -> None:
    """Recompute the string to sign from the URL and check the RSA signature against it."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qs(parts.query, keep_blank_values=True)
    signature = binascii.unhexlify(query.pop("X-Goog-Signature")[0])
    signer = signing.V4Signer(
        f"{parts.scheme}://{parts.netloc}", "", credentials.signer_email, credentials.sign_bytes
    )
    extra = {k: v[0] for k, v in query.items() if not k.startswith("X-Goog-")}
    date = datetime.datetime.strptime(query["X-Goog-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.UTC)
    _, _, to_sign = signer.string_to_sign(
        parts.path.lstrip("/"),
        expires=int(query["X-Goog-Expires"][0]),
        now=date.timestamp(),
        method=method,
        query=extra,
    )
    public = PUBLIC_KEYS[credentials.signer_email]
    public.verify(signature, to_sign.encode(), padding.PKCS1v15(), hashes.SHA256())


NAMES = ["file.txt", "folder/with space/ünïcode+&#?.txt", "tilde~/a%20b"]


@pytest.mark.parametrize("name", NAMES)
def test_signed_url_equals_google_generate_signed_url(
    signed_storage: Any, frozen_clock: Any, name: str
) -> None:
    ours = signed_storage.url(name)
    assert ours == google_url(signed_storage, name, signed_storage.credentials)
    verify_signature(ours, signed_storage, signed_storage.credentials)


@pytest.mark.parametrize(
    "parameters",
    [
        {"method": "PUT"},
        {"expiration": 60},
        {"expiration": datetime.timedelta(hours=2)},
        {"expiration": FROZEN + datetime.timedelta(minutes=5)},
        {"response_disposition": 'attachment; filename="r é.pdf"'},
        {"response_type": "text/plain", "generation": 123},
        {"query_parameters": {"userProject": "billing-project"}},
        {"content_type": "image/png", "method": "PUT"},
        {"headers": {"X-Goog-Meta-Owner": "  a   b "}},
        {"method": "RESUMABLE"},
    ],
    ids=lambda p: ",".join(p),
)
def test_signed_url_parameters_equal_google(
    signed_storage: Any, frozen_clock: Any, parameters: dict[str, Any]
) -> None:
    assert signed_storage.url("doc.pdf", parameters=dict(parameters)) == google_url(
        signed_storage, "doc.pdf", signed_storage.credentials, **parameters
    )


def test_signed_url_with_custom_endpoint_equals_google(
    make_storage: Callable[..., Any], service_account_credentials: Any, frozen_clock: Any
) -> None:
    storage = make_storage(
        credentials=SigningAnonymousCredentials(service_account_credentials),
        custom_endpoint="https://cdn.example.com",
        location="media",
    )
    url = storage.url("a b.txt")
    assert url.startswith("https://cdn.example.com/media/a%20b.txt?X-Goog-Algorithm=GOOG4-RSA-SHA256&")
    assert url == google_url(storage, "a b.txt", storage.credentials)


def test_signed_url_with_a_real_service_account_credential_equals_google(
    make_storage: Callable[..., Any], service_account_credentials: Any, frozen_clock: Any, count_requests: Any
) -> None:
    # A service-account credential as users configure it; url() must not refresh its token.
    storage = make_storage(credentials=service_account_credentials)
    url = storage.url("x.bin")
    assert url == google_url(storage, "x.bin", service_account_credentials)
    assert (
        "storages-test%40test-project.iam.gserviceaccount.com%2F20260304%2Fauto%2Fstorage%2Fgoog4_request"
        in url
    )


def test_changed_character_breaks_the_signature(signed_storage: Any, frozen_clock: Any) -> None:
    from cryptography.exceptions import InvalidSignature

    url = signed_storage.url("file.txt")
    verify_signature(url, signed_storage, signed_storage.credentials)
    with pytest.raises(InvalidSignature):
        verify_signature(url.replace("file.txt", "file.txu"), signed_storage, signed_storage.credentials)


def test_version_v2_is_signed_by_google(signed_storage: Any, frozen_clock: Any) -> None:
    url = signed_storage.url("f.txt", parameters={"version": "v2", "expiration": 3600})
    assert "GoogleAccessId=" in url and "Signature=" in url


@pytest.mark.parametrize("name", ["plain.txt", "dir/sp ace+&.txt"])
def test_signed_url_is_fetchable_from_the_emulator(signed_storage: Any, name: str) -> None:
    signed_storage.save(name, ContentFile(b"signed content"))
    with urllib.request.urlopen(signed_storage.url(name), timeout=30) as response:  # noqa: S310
        assert response.read() == b"signed content"


def test_url_makes_no_request(signed_storage: Any, count_requests: Any) -> None:
    log = count_requests(signed_storage)
    signed_storage.url("a.txt")
    assert len(log) == 0


def test_unsigned_url_is_string_work_without_a_client(make_storage: Callable[..., Any]) -> None:
    storage = make_storage(querystring_auth=False, location="m")
    assert storage.url("a b/ü.txt") == f"{storage.api_base}/{storage.bucket_name}/m/a%20b/%C3%BC.txt"
    assert storage._client is None


def test_public_read_acl_gives_unsigned_urls(make_storage: Callable[..., Any]) -> None:
    storage = make_storage(default_acl="publicRead", custom_endpoint="https://cdn.example.com/")
    assert storage.url("x y.css") == "https://cdn.example.com/x%20y.css"
    storage = make_storage(object_parameters={"acl": "publicRead"})
    assert "X-Goog-Signature" not in storage.url("x.css")


def test_default_public_url_host(make_storage: Callable[..., Any]) -> None:
    storage = make_storage(querystring_auth=False, api_endpoint=None)
    assert storage.url("a.txt") == f"https://storage.googleapis.com/{storage.bucket_name}/a.txt"


def test_signing_without_a_key_says_what_to_do(make_storage: Callable[..., Any]) -> None:
    storage = make_storage()  # anonymous credentials: nothing to sign with
    with pytest.raises(StorageConfigurationError, match="GS_IAM_SIGN_BLOB") as info:
        storage.url("a.txt")
    assert "private_key" not in str(info.value)


def test_expiration_over_seven_days_is_refused(signed_storage: Any) -> None:
    with pytest.raises(ValueError, match="seven days"):
        signed_storage.url("a.txt", parameters={"expiration": 8 * 86400})


class TestIAMSigning:
    """signBlob is a request to IAM per signature: cached per name and expiry window.

    The IAM API itself cannot run locally; its call (google-cloud-storage's ``_sign_message``)
    is replaced by the throwaway key, which counts the signatures asked for.
    """

    @pytest.fixture
    def iam_storage(
        self,
        make_storage: Callable[..., Any],
        service_account_credentials: Any,
        monkeypatch: pytest.MonkeyPatch,
    ) -> tuple[Any, list[bytes]]:
        storage = make_storage(iam_sign_blob=True, sa_email="signer@test-project.iam.gserviceaccount.com")
        calls: list[bytes] = []

        def sign(message: bytes) -> bytes:
            calls.append(message)
            return bytes(service_account_credentials.sign_bytes(message))

        monkeypatch.setattr(storage, "_iam_sign", sign)
        return storage, calls

    def test_one_signature_per_name_and_window(
        self, iam_storage: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        storage, calls = iam_storage
        now = [FROZEN.timestamp()]
        monkeypatch.setattr(signing, "_now", lambda: now[0])
        first = storage.url("a.txt")
        assert storage.url("a.txt") == first
        assert len(calls) == 1
        storage.url("b.txt")
        assert len(calls) == 2
        now[0] += 86400 // 10  # the next tenth of the lifetime: a fresh signature
        assert storage.url("a.txt") != first
        assert len(calls) == 3
        assert "signer%40test-project.iam.gserviceaccount.com" in first

    def test_cached_url_is_signed_from_its_window_start(
        self, iam_storage: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        storage, _ = iam_storage
        now = FROZEN.timestamp() + 1234
        monkeypatch.setattr(signing, "_now", lambda: now)
        url = storage.url("a.txt")
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
        signed_at = datetime.datetime.strptime(query["X-Goog-Date"][0], "%Y%m%dT%H%M%SZ").replace(
            tzinfo=datetime.UTC
        )
        assert 0 <= now - signed_at.timestamp() < 8640
        assert query["X-Goog-Expires"] == ["86400"]

    def test_absolute_expiration_is_never_cached(self, iam_storage: Any) -> None:
        storage, calls = iam_storage
        when = datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1)
        storage.url("a.txt", parameters={"expiration": when})
        storage.url("a.txt", parameters={"expiration": when})
        assert len(calls) == 2
