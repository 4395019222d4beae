"""Reads, writes, interrupted uploads, content types, gzip and SSE-C parameters."""

from __future__ import annotations

import gzip
import io
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile

MiB = 1024 * 1024


def test_large_write_is_multipart_and_completed(make_storage: Any, count_requests: Any) -> None:
    storage = make_storage()
    log = count_requests(storage)
    data = bytes(range(256)) * (12 * MiB // 256) + b"tail"
    with storage.open("big.bin", "wb") as f:
        f.write(data)
    assert log.operations == [
        "CreateMultipartUpload",
        "UploadPart",
        "UploadPart",
        "UploadPart",
        "CompleteMultipartUpload",
    ]
    with storage.open("big.bin") as f:
        assert f.read() == data


def test_parts_upload_on_worker_threads_unless_threads_are_off(
    make_storage: Any, count_requests: Any
) -> None:
    from boto3.s3.transfer import TransferConfig

    data = b"p" * (16 * MiB)
    for options, expected in (
        ({}, "s3-upload-part"),
        ({"transfer_config": TransferConfig(use_threads=False)}, "MainThread"),
    ):
        storage = make_storage(**options)
        log = count_requests(storage)
        with storage.open("parallel.bin", "wb") as f:
            f.write(data)
        threads = {r.thread for r in log.requests if r.operation == "UploadPart"}
        assert threads
        assert all(name.startswith(expected) for name in threads), threads
        with storage.open("parallel.bin") as f:
            assert f.read() == data


def test_interrupted_multipart_write_leaves_no_object_and_no_upload(
    make_storage: Any, raw: Any, bucket_name: str, count_requests: Any
) -> None:
    storage = make_storage()
    log = count_requests(storage)
    with pytest.raises(RuntimeError), storage.open("broken.bin", "wb") as f:
        f.write(b"x" * (11 * MiB))
        raise RuntimeError("interrupted")
    assert "AbortMultipartUpload" in log.operations
    assert "CompleteMultipartUpload" not in log.operations
    assert not storage.exists("broken.bin")
    assert raw.list_multipart_uploads(Bucket=bucket_name).get("Uploads", []) == []


def test_failed_part_on_an_upload_thread_is_final_and_close_publishes_nothing(
    make_storage: Any, raw: Any, bucket_name: str, count_requests: Any
) -> None:
    from urllib.parse import parse_qs, urlsplit

    from storages.exceptions import StorageWriteError

    storage = make_storage()
    log = count_requests(storage)

    def fail_part_two(request: Any, **kwargs: Any) -> None:
        if parse_qs(urlsplit(request.url).query).get("partNumber") == ["2"]:
            raise ConnectionError("injected: the link dropped during part 2")

    storage.client.meta.events.register("before-send.s3.UploadPart", fail_part_two)
    try:
        f = storage.open("partial.bin", "wb")
        try:
            with pytest.raises(ConnectionError):
                for _ in range(40):  # 8 parts of 5 MiB: part 2's error surfaces on a later write
                    f.write(b"x" * MiB)
            with pytest.raises(StorageWriteError):
                f.write(b"more")
        finally:
            with pytest.raises(StorageWriteError):
                f.close()  # outside a with block, as in a ``finally:``
    finally:
        storage.client.meta.events.unregister("before-send.s3.UploadPart", fail_part_two)
    numbers = [
        parse_qs(urlsplit(r.url).query)["partNumber"][0] for r in log.requests if r.operation == "UploadPart"
    ]
    assert len(numbers) == len(set(numbers)), f"a part number was reused: {numbers}"
    assert "CompleteMultipartUpload" not in log.operations
    assert log.operations[-1] == "AbortMultipartUpload"
    assert not storage.exists("partial.bin")
    assert raw.list_multipart_uploads(Bucket=bucket_name).get("Uploads", []) == []


def test_interrupted_small_write_sends_nothing(make_storage: Any, count_requests: Any) -> None:
    storage = make_storage()
    log = count_requests(storage)
    with pytest.raises(RuntimeError), storage.open("small.bin", "wb") as f:
        f.write(b"abc")
        raise RuntimeError
    assert len(log) == 0


def test_part_size_follows_the_setting(make_storage: Any) -> None:
    from django.test import override_settings

    storage = make_storage()
    with override_settings(AWS_S3_FILE_BUFFER_SIZE=6 * MiB), storage.open("p.bin", "wb") as f:
        assert f.part_size == 6 * MiB


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("a.css", "text/css"),
        ("a.json", "application/json"),
        ("noext", "application/octet-stream"),
        ("backup.tar.gz", "application/gzip"),
        ("data.csv.bz2", "application/x-bzip2"),
    ],
)
def test_content_type_from_the_name(
    make_storage: Any, raw: Any, bucket_name: str, name: str, content_type: str
) -> None:
    storage = make_storage()
    storage.save(name, ContentFile(b"bytes"))
    head = raw.head_object(Bucket=bucket_name, Key=name)
    assert head["ContentType"] == content_type
    assert "ContentEncoding" not in head


def test_browser_content_type_is_ignored(make_storage: Any, raw: Any, bucket_name: str) -> None:
    storage = make_storage()
    upload = SimpleUploadedFile("avatar.png", b"<script>", content_type="text/html")
    storage.save("avatar.png", upload)
    assert raw.head_object(Bucket=bucket_name, Key="avatar.png")["ContentType"] == "image/png"


def test_object_parameters_content_type_wins(make_storage: Any, raw: Any, bucket_name: str) -> None:
    storage = make_storage(object_parameters={"ContentType": "text/plain", "CacheControl": "max-age=60"})
    storage.save("a.css", ContentFile(b"x"))
    head = raw.head_object(Bucket=bucket_name, Key="a.css")
    assert (head["ContentType"], head["CacheControl"]) == ("text/plain", "max-age=60")


def test_default_acl_unless_object_parameters_has_acl(make_storage: Any, count_requests: Any) -> None:
    storage = make_storage(default_acl="public-read")
    log = count_requests(storage)
    storage.save("a.txt", ContentFile(b"x"))
    assert log.requests[-1].headers["x-amz-acl"] == "public-read"
    private = make_storage(default_acl="public-read", object_parameters={"ACL": "private"})
    private.save("b.txt", ContentFile(b"x"))
    assert log.requests[-1].headers["x-amz-acl"] == "private"


def test_save_keeps_the_callers_file_open(make_storage: Any) -> None:
    storage = make_storage()
    content = ContentFile(b"still open")
    storage.save("open.txt", content)
    assert not content.closed
    content.seek(0)
    assert content.read() == b"still open"


def test_gzip_upload_is_compressed_once_and_decoded_once(
    make_storage: Any, raw: Any, bucket_name: str
) -> None:
    storage = make_storage(gzip=True)
    text = b"body { color: red; }\n" * 200
    storage.save("site.css", ContentFile(text))
    stored = raw.get_object(Bucket=bucket_name, Key="site.css")
    assert stored["ContentEncoding"] == "gzip"
    body = stored["Body"].read()
    assert gzip.decompress(body) == text
    with storage.open("site.css") as f:
        assert f.read() == text
    with storage.open("site.css", "r") as f:
        assert f.read() == text.decode()
    with storage.open("site.css") as f:
        f.seek(21)
        assert f.read(4) == b"body"


def test_gzip_output_is_deterministic(make_storage: Any, raw: Any, bucket_name: str) -> None:
    storage = make_storage(gzip=True)
    storage.save("one.css", ContentFile(b"a{}" * 100))
    storage.save("two.css", ContentFile(b"a{}" * 100))
    etags = {raw.head_object(Bucket=bucket_name, Key=k)["ETag"] for k in ("one.css", "two.css")}
    assert len(etags) == 1


def test_precompressed_files_are_never_gzipped_again(make_storage: Any, raw: Any, bucket_name: str) -> None:
    storage = make_storage(gzip=True, gzip_content_types=("application/gzip", "text/css"))
    compressed = gzip.compress(b"inner")
    for name, encoding in (("pack.css.gz", "gzip"), ("pack.tar.gz", None)):
        storage.save(name, ContentFile(compressed))
        stored = raw.get_object(Bucket=bucket_name, Key=name)
        # A compressed web file is served decoded (1.x); an archive is downloaded as it is.
        assert stored.get("ContentEncoding") == encoding
        assert stored["Body"].read() == compressed


def test_other_types_are_not_gzipped(make_storage: Any, raw: Any, bucket_name: str) -> None:
    storage = make_storage(gzip=True)
    storage.save("a.png", ContentFile(b"png"))
    assert "ContentEncoding" not in raw.head_object(Bucket=bucket_name, Key="a.png")


SSE_C = {
    "SSECustomerAlgorithm": "AES256",
    "SSECustomerKey": "k" * 32,
}


def test_sse_c_parameters_are_sent_on_every_read(make_storage: Any, count_requests: Any) -> None:
    storage = make_storage(object_parameters=dict(SSE_C))
    log = count_requests(storage)
    storage.save("secret.bin", ContentFile(b"sse-c"))
    storage.exists("secret.bin")
    storage.size("secret.bin")
    storage.get_modified_time("secret.bin")
    with storage.open("secret.bin") as f:
        f.read()
    assert log.operations == ["PutObject", "HeadObject", "HeadObject", "HeadObject", "GetObject"]
    for request in log.requests:
        assert request.headers["x-amz-server-side-encryption-customer-algorithm"] == "AES256"
        assert "x-amz-server-side-encryption-customer-key" in request.headers


def test_sse_c_parameters_on_multipart_parts(make_storage: Any, count_requests: Any) -> None:
    storage = make_storage(object_parameters=dict(SSE_C))
    log = count_requests(storage)
    with storage.open("big.bin", "wb") as f:
        f.write(b"z" * (6 * MiB))
    part = next(r for r in log.requests if r.operation == "UploadPart")
    assert part.headers["x-amz-server-side-encryption-customer-algorithm"] == "AES256"


def test_get_object_parameters_receives_the_full_key(make_storage: Any) -> None:
    from storages.backends.s3 import S3Storage

    seen: list[str] = []

    class PerObject(S3Storage):
        def get_object_parameters(self, name: str) -> dict[str, Any]:
            seen.append(name)
            return super().get_object_parameters(name)

    storage = make_storage(PerObject, location="media")
    storage.save("a.txt", ContentFile(b"x"))
    storage.exists("a.txt")
    with storage.open("a.txt") as f:
        f.read()
    assert set(seen) == {"media/a.txt"}


def test_text_mode_write_and_read(make_storage: Any) -> None:
    storage = make_storage()
    with storage.open("t.txt", "w") as f:
        f.write("línea\n")
    with storage.open("t.txt", "r") as f:
        assert f.read() == "línea\n"


def test_reading_past_the_end_after_seek(make_storage: Any) -> None:
    storage = make_storage()
    storage.save("s.bin", ContentFile(b"abc"))
    with storage.open("s.bin") as f:
        f.seek(10)
        assert f.read() == b""


def test_non_seekable_upload(make_storage: Any) -> None:
    storage = make_storage()

    class Stream(io.RawIOBase):
        def __init__(self) -> None:
            self.source = io.BytesIO(b"n" * (7 * MiB))

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: Any) -> int:
            data = self.source.read(len(buffer))
            buffer[: len(data)] = data
            return len(data)

    storage.save("stream.bin", Stream())  # type: ignore[arg-type]
    assert storage.size("stream.bin") == 7 * MiB
