"""The original's surface: S3File's signature, unsigned_connection, the compress hooks, ListObjects
v1, compressed web files, never-written files, decoded gzip sizes, pickling with CloudFront, and
the paths that migrations record."""

from __future__ import annotations

import copy
import gzip
import io
import pickle
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.files.base import ContentFile
from django.db.migrations.writer import MigrationWriter
from django.utils.module_loading import import_string

from storages.backends.s3 import S3File, S3Storage
from storages.compress import GzipCompressionWrapper

# -- S3File and the connections ----------------------------------------------------------------


def test_s3file_takes_the_originals_arguments(make_storage: Any) -> None:
    storage = make_storage(location="media")
    storage.save("a.txt", ContentFile(b"original"))
    # 1.x: S3File(full key, mode, storage, buffer_size); .name is the name below the location.
    with S3File("media/a.txt", "rb", storage, 6 * 1024 * 1024) as f:
        assert (f.name, f.key, f.buffer_size) == ("a.txt", "media/a.txt", 6 * 1024 * 1024)
        assert f.obj.key == "media/a.txt" and f.obj.bucket_name == storage.bucket_name
        assert f.read() == b"original"


def test_unsigned_connection_signs_nothing(make_storage: Any) -> None:
    from botocore import UNSIGNED

    storage = make_storage()
    assert storage.unsigned_connection.meta.client.meta.config.signature_version is UNSIGNED
    assert storage.unsigned_connection is storage.unsigned_connection


def test_compress_content_is_an_overridable_hook(make_storage: Any, raw: Any, bucket_name: str) -> None:
    calls: list[Any] = []

    class Custom(S3Storage):
        def _compress_content(self, content: Any) -> Any:
            calls.append(content)
            return GzipCompressionWrapper(content, level=1)

    storage = make_storage(Custom, gzip=True)
    storage.save("a.css", ContentFile(b"a { b: c }" * 100))
    assert len(calls) == 1
    stored = raw.get_object(Bucket=bucket_name, Key="a.css")
    assert gzip.decompress(stored["Body"].read()) == b"a { b: c }" * 100


def test_list_objects_v1_for_services_without_v2(make_storage: Any, count_requests: Any) -> None:
    storage = make_storage(list_objects_v1=True)
    for name in ("d1/a", "d1/b", "d2/c", "top.txt"):
        storage.save(name, ContentFile(b"x"))
    log = count_requests(storage)
    assert storage.listdir("") == (["d1", "d2"], ["top.txt"])
    assert log.operations == ["ListObjects"]
    assert "list-type=2" not in log.requests[0].url


# -- content encodings -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content_type", "encoding"),
    [
        ("icon.svgz", "image/svg+xml", "gzip"),
        ("app.js.gz", "text/javascript", "gzip"),
        ("site.css.br", "text/css", "br"),
        ("backup.tar.gz", "application/gzip", None),
        ("archive.gz", "application/gzip", None),
        ("data.csv.bz2", "application/x-bzip2", None),
    ],
)
def test_compressed_web_files_keep_their_encoding_archives_do_not(
    make_storage: Any, raw: Any, bucket_name: str, name: str, content_type: str, encoding: str | None
) -> None:
    make_storage().save(name, ContentFile(b"bytes"))
    head = raw.head_object(Bucket=bucket_name, Key=name)
    assert head["ContentType"] == content_type
    assert head.get("ContentEncoding") == encoding


def test_a_file_opened_for_writing_and_never_written_leaves_the_object(
    make_storage: Any, count_requests: Any
) -> None:
    storage = make_storage()
    storage.save("kept.txt", ContentFile(b"keep me"))
    log = count_requests(storage)
    for mode in ("w", "wb"):
        storage.open("kept.txt", mode).close()
        with storage.open("kept.txt", mode):
            pass
    assert log.operations == []
    with storage.open("kept.txt") as f:
        assert f.read() == b"keep me"


def test_a_gzip_stored_file_reports_its_decoded_size(make_storage: Any, raw: Any, bucket_name: str) -> None:
    storage = make_storage(gzip=True)
    text = b"body { color: red; }\n" * 5000
    storage.save("big.css", ContentFile(text))
    assert raw.head_object(Bucket=bucket_name, Key="big.css")["ContentLength"] < len(text)
    with storage.open("big.css") as f:
        assert f.size == len(text)
        assert f.multiple_chunks(chunk_size=len(text) - 1)
        assert f.seek(0, io.SEEK_END) == len(text)
        f.seek(-21, io.SEEK_END)
        assert f.read() == b"body { color: red; }\n"


# -- pickling and copies with CloudFront -------------------------------------------------------------


@pytest.fixture(scope="module")
def cloudfront_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    encoding, private_format = serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL
    return key.private_bytes(encoding, private_format, serialization.NoEncryption()).decode()


@pytest.mark.parametrize("how", ["pickle", "deepcopy", "signer-given"])
def test_storage_with_a_cloudfront_signer_pickles_and_copies(cloudfront_pem: str, how: str) -> None:
    from storages.backends.s3.cloudfront import get_cloudfront_signer

    options: dict[str, Any] = {"bucket_name": "b", "custom_domain": "d.example.com"}
    if how == "signer-given":
        options["cloudfront_signer"] = get_cloudfront_signer("K", cloudfront_pem)
    else:
        options.update(cloudfront_key_id="K", cloudfront_key=cloudfront_pem)
    storage = S3Storage(**options)
    clone = copy.deepcopy(storage) if how == "deepcopy" else pickle.loads(pickle.dumps(storage))
    assert clone.cloudfront_signer is not None
    assert clone.cloudfront_signer.key_id == "K"
    assert "Signature=" in clone.url("a.jpg")
    # The RSA key object itself is never in the pickle (it cannot be), only what rebuilds it.
    assert b"RSAPrivateKey" not in pickle.dumps(storage)


# -- the paths migrations record -----------------------------------------------------------------------

# What django-storages 1.14.6 itself writes (checked with the original installed): the s3boto3
# names are aliases there too, so every class deconstructs to storages.backends.s3.
ORIGINAL_PATHS = {
    "storages.backends.s3.S3Storage": "storages.backends.s3.S3Storage",
    "storages.backends.s3.S3StaticStorage": "storages.backends.s3.S3StaticStorage",
    "storages.backends.s3.S3ManifestStaticStorage": "storages.backends.s3.S3ManifestStaticStorage",
    "storages.backends.s3boto3.S3Boto3Storage": "storages.backends.s3.S3Storage",
    "storages.backends.s3boto3.S3StaticStorage": "storages.backends.s3.S3StaticStorage",
    "storages.backends.s3boto3.S3ManifestStaticStorage": "storages.backends.s3.S3ManifestStaticStorage",
}


@pytest.mark.parametrize(("imported", "recorded"), ORIGINAL_PATHS.items())
def test_migrations_record_the_originals_paths_and_load_both_ways(imported: str, recorded: str) -> None:
    storage = import_string(imported)(bucket_name="media-bucket", location="m")
    path, args, kwargs = storage.deconstruct()
    assert (path, list(args), kwargs) == (recorded, [], {"bucket_name": "media-bucket", "location": "m"})
    source, _imports = MigrationWriter.serialize(storage)
    assert source.startswith(f"{recorded}(")
    # A migration written by either library, under either name, loads here.
    for written in {recorded, imported}:
        namespace: dict[str, Any] = {}
        module = written.rsplit(".", 1)[0]
        exec(f"import {module}\nvalue = {written}(bucket_name='media-bucket', location='m')", namespace)  # noqa: S102
        assert namespace["value"].deconstruct()[0] == recorded
