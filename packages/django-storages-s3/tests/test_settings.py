"""Options: names, settings, environment variables, precedence, deprecations and errors."""

from __future__ import annotations

import pickle
import warnings
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.test import override_settings

from storages.backends.s3 import S3File, S3ManifestStaticStorage, S3StaticStorage, S3Storage
from storages.exceptions import MissingOptionError
from storages.testing import run_threads

ORIGINAL_OPTIONS = {
    "access_key",
    "secret_key",
    "security_token",
    "session_profile",
    "file_overwrite",
    "object_parameters",
    "bucket_name",
    "querystring_auth",
    "querystring_expire",
    "signature_version",
    "location",
    "custom_domain",
    "cloudfront_key_id",
    "cloudfront_key",
    "addressing_style",
    "file_name_charset",
    "gzip",
    "gzip_content_types",
    "url_protocol",
    "endpoint_url",
    "proxies",
    "region_name",
    "use_ssl",
    "verify",
    "max_memory_size",
    "default_acl",
    "use_threads",
    "transfer_config",
    "client_config",
}


def test_all_29_original_options_are_declared() -> None:
    # ... and one of ours: list_objects_v1 for S3-compatible services without ListObjectsV2.
    assert set(S3Storage.options.names) == ORIGINAL_OPTIONS | {"list_objects_v1"}
    assert len(ORIGINAL_OPTIONS) == 29


def test_defaults_match_the_original() -> None:
    storage = S3Storage(bucket_name="b")
    assert storage.file_overwrite is True
    assert storage.querystring_auth is True
    assert storage.querystring_expire == 3600
    assert storage.location == ""
    assert storage.url_protocol == "https:"
    assert storage.use_ssl is True
    assert storage.default_acl is None
    assert storage.object_parameters == {}
    assert storage.max_memory_size == 0
    assert storage.gzip is False
    assert "text/css" in storage.gzip_content_types


def test_secrets_are_marked() -> None:
    secrets = {o.name for o in S3Storage.options if o.secret}
    assert secrets == {"access_key", "secret_key", "security_token", "cloudfront_key"}


@override_settings(
    AWS_STORAGE_BUCKET_NAME="from-settings", AWS_S3_REGION_NAME="eu-west-1", AWS_LOCATION="loc"
)
def test_settings_are_read_at_construction() -> None:
    storage = S3Storage()
    assert (storage.bucket_name, storage.region_name, storage.location) == (
        "from-settings",
        "eu-west-1",
        "loc",
    )


@override_settings(AWS_STORAGE_BUCKET_NAME="from-settings")
def test_precedence_kwarg_over_class_attribute_over_setting() -> None:
    class Media(S3Storage):
        bucket_name = "from-class"

    assert Media().bucket_name == "from-class"
    assert Media(bucket_name="from-kwarg").bucket_name == "from-kwarg"
    assert S3Storage().bucket_name == "from-settings"


def test_legacy_and_s3_specific_credential_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    with override_settings(AWS_ACCESS_KEY_ID="legacy", AWS_SECRET_ACCESS_KEY="legacy-secret"):
        assert S3Storage(bucket_name="b").access_key == "legacy"
    with override_settings(AWS_ACCESS_KEY_ID="legacy", AWS_S3_ACCESS_KEY_ID="specific"):
        assert S3Storage(bucket_name="b").access_key == "specific"
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "env-legacy")
    assert S3Storage(bucket_name="b").access_key == "env-legacy"
    monkeypatch.setenv("AWS_S3_ACCESS_KEY_ID", "env-specific")
    assert S3Storage(bucket_name="b").access_key == "env-specific"
    with override_settings(AWS_ACCESS_KEY_ID="setting-wins"):
        assert S3Storage(bucket_name="b").access_key == "setting-wins"


def test_session_token_from_settings_and_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_SECURITY_TOKEN", "old-name")
    assert S3Storage(bucket_name="b").security_token == "old-name"
    monkeypatch.setenv("AWS_SESSION_TOKEN", "new-name")
    assert S3Storage(bucket_name="b").security_token == "new-name"
    with override_settings(AWS_SECURITY_TOKEN="setting"):
        assert S3Storage(bucket_name="b").security_token == "setting"


def test_unknown_option_names_the_closest() -> None:
    with pytest.raises(ImproperlyConfigured, match="bucket_name"):
        S3Storage(bucket="x")


def test_profile_with_keys_is_refused() -> None:
    with pytest.raises(ImproperlyConfigured, match="session_profile should not be provided"):
        S3Storage(bucket_name="b", session_profile="p", access_key="a", secret_key="s")


def test_one_cloudfront_setting_without_the_other_is_refused() -> None:
    with pytest.raises(ImproperlyConfigured, match="must be provided together"):
        S3Storage(bucket_name="b", cloudfront_key_id="K")
    with pytest.raises(ImproperlyConfigured, match="must be provided together"):
        S3Storage(bucket_name="b", cloudfront_key="PEM")


def test_location_with_leading_slash_is_refused() -> None:
    with pytest.raises(ImproperlyConfigured, match="Use 'media' instead"):
        S3Storage(bucket_name="b", location="/media")


def test_missing_bucket_is_reported_before_any_request() -> None:
    storage = S3Storage(access_key="a", secret_key="s")
    with pytest.raises(MissingOptionError, match="AWS_STORAGE_BUCKET_NAME"):
        storage.exists("x")
    assert storage._client is None


def test_bad_addressing_style_is_refused() -> None:
    with pytest.raises(ImproperlyConfigured, match="addressing_style"):
        S3Storage(bucket_name="b", addressing_style="sideways")


def test_url_protocol_none_means_https() -> None:
    with override_settings(AWS_S3_URL_PROTOCOL=None):
        assert S3Storage(bucket_name="b").url_protocol == "https:"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"file_name_charset": "latin-1"}, "never had an effect"),
        ({"use_threads": False}, "transfer_config"),
        ({"max_memory_size": 1024}, "reads now stream"),
    ],
)
def test_dead_settings_warn(options: dict[str, Any], message: str) -> None:
    with pytest.warns(DeprecationWarning, match=message):
        S3Storage(bucket_name="b", **options)


def test_defaults_do_not_warn() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        S3Storage(bucket_name="b", use_threads=True)


def test_config_class_attribute_warns_and_becomes_client_config() -> None:
    from botocore.config import Config

    config = Config(retries={"max_attempts": 1})

    class Legacy(S3Storage):
        pass

    Legacy.config = config
    with pytest.warns(DeprecationWarning, match="client_config"):
        storage = Legacy(bucket_name="b")
    assert storage.client_config is config


def test_file_buffer_size_below_five_mib_is_a_system_check_error_not_a_failed_save(
    make_storage: Any, bucket_name: str, endpoint_url: str
) -> None:
    from shared.testservers.moto import MOTO_CREDENTIALS
    from storages import checks

    options = {"bucket_name": bucket_name, "endpoint_url": endpoint_url, **MOTO_CREDENTIALS}
    entry = {"default": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}}
    with override_settings(AWS_S3_FILE_BUFFER_SIZE=1024, STORAGES=entry):
        messages = checks.check_storages(None)
        assert [m.id for m in messages] == ["storages.s3.E001"]
        assert "5 MiB" in messages[0].msg and "STORAGES['default']" in messages[0].msg
        storage = make_storage()
        storage.save("x.bin", ContentFile(b"saved"))
        with storage.open("y.bin", "wb") as f:
            assert f.part_size == 5 * 1024 * 1024
            f.write(b"written")
        assert storage.size("x.bin") == 5 and storage.size("y.bin") == 7
    with override_settings(STORAGES=entry):
        assert checks.check_storages(None) == []


def test_s3boto3_import_paths() -> None:
    from storages.backends import s3boto3

    assert s3boto3.S3Boto3Storage is S3Storage
    assert s3boto3.S3Boto3StorageFile is S3File
    assert s3boto3.S3StaticStorage is S3StaticStorage
    assert s3boto3.S3ManifestStaticStorage is S3ManifestStaticStorage


def test_entry_point_aliases() -> None:
    from storages import registry

    registry.clear_cache()
    assert registry.resolve("s3") == "storages.backends.s3.S3Storage"
    assert registry.resolve("s3_static") == "storages.backends.s3.S3StaticStorage"
    assert registry.resolve("s3_manifest") == "storages.backends.s3.S3ManifestStaticStorage"


def test_repr_and_deconstruct_hide_secrets() -> None:
    storage = S3Storage(
        bucket_name="b",
        access_key="AKIDSECRET",
        secret_key="VERYSECRET",
        security_token="TOK",
        cloudfront_signer=None,
    )
    assert "VERYSECRET" not in repr(storage) and "AKIDSECRET" not in repr(storage)
    _, _, kwargs = storage.deconstruct()
    assert kwargs == {"bucket_name": "b"}


def test_pickle_drops_the_client(make_storage: Any) -> None:
    storage = make_storage()
    storage.save("p.txt", ContentFile(b"pickle"))
    assert storage._client is not None
    clone = pickle.loads(pickle.dumps(storage))
    assert clone._client is None
    with clone.open("p.txt") as f:
        assert f.read() == b"pickle"


def test_one_client_per_configuration(make_storage: Any) -> None:
    one, two = make_storage(), make_storage(location="elsewhere")
    assert one.client is two.client
    other = make_storage(secret_key="different")
    assert other.client is not one.client


def test_sixteen_threads_share_one_client(make_storage: Any) -> None:
    storage = make_storage()
    clients: list[Any] = []

    def work(index: int) -> None:
        clients.append(storage.client)
        name = storage.save(f"t/{index}.txt", ContentFile(str(index).encode()))
        with storage.open(name) as f:
            assert f.read() == str(index).encode()

    run_threads(work)
    assert len({id(c) for c in clients}) == 1
    assert len(storage.listdir("t")[1]) == 16


def test_compatibility_resource_and_bucket(make_storage: Any) -> None:
    storage = make_storage()
    storage.save("r.txt", ContentFile(b"r"))
    assert storage.bucket.name == storage.bucket_name
    assert [o.key for o in storage.bucket.objects.all()] == ["r.txt"]


# -- the original's subclassing contracts and STORAGES entries -------------------------------------


def test_1x_subclass_setting_attributes_before_super_init(make_storage: Any) -> None:
    class MediaStorage(S3Storage):
        def __init__(self, **kwargs: Any) -> None:
            self.location = "media"
            self.file_overwrite = False
            super().__init__(**kwargs)

    storage = make_storage(MediaStorage)
    assert (storage.location, storage.file_overwrite) == ("media", False)
    name = storage.save("a.txt", ContentFile(b"1"))
    assert storage.save("a.txt", ContentFile(b"2")) != name
    assert storage.client.head_object(Bucket=storage.bucket_name, Key="media/a.txt")["ContentLength"] == 1


def test_storages_with_cloudfront_signer_and_manifest_storage_pass_the_checks_and_work(
    endpoint_url: str, bucket_name: str
) -> None:
    from django.core.checks import run_checks
    from django.core.files.storage import storages

    from shared.testservers.moto import MOTO_CREDENTIALS

    signer = object()
    manifest = S3Storage(**MOTO_CREDENTIALS, endpoint_url=endpoint_url, bucket_name=bucket_name, location="m")
    common = {**MOTO_CREDENTIALS, "endpoint_url": endpoint_url, "bucket_name": bucket_name}
    entries = {
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {**common, "cloudfront_signer": signer},
        },
        "staticfiles": {
            "BACKEND": "storages.backends.s3.S3ManifestStaticStorage",
            "OPTIONS": {**common, "manifest_storage": manifest},
        },
    }
    with override_settings(STORAGES=entries):
        problems = [m for m in run_checks(tags=["storages"]) if m.level >= 40]
        assert problems == []
        assert storages["default"].cloudfront_signer is signer
        assert storages["staticfiles"].manifest_storage is manifest
