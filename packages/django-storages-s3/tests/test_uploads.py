"""Large uploads like s3transfer: part sizes for S3's 10,000 parts, transfer_config's threshold and
chunk size, checksums on every part and on the completion."""

from __future__ import annotations

import io
import math
from typing import Any

import pytest
from boto3.s3.transfer import TransferConfig
from django.core.files.base import ContentFile, File

from storages.backends.s3 import S3File
from storages.backends.s3 import files as files_module
from storages.backends.s3 import storage as storage_module

MiB = 1024 * 1024
GiB = 1024 * MiB
TiB = 1024 * GiB


class Unsized(io.RawIOBase):
    """A non-seekable stream of ``size`` bytes whose size nobody can ask."""

    def __init__(self, size: int) -> None:
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = min(len(buffer), self.left)
        buffer[:count] = b"u" * count
        self.left -= count
        return count


def part_sizes(log: Any) -> list[int]:
    """Sizes of the parts in part-number order (they are sent from several threads)."""
    parts = [r for r in log.requests if r.operation == "UploadPart"]
    parts.sort(key=lambda r: int(r.url.split("partNumber=")[1].split("&")[0]))
    return [int(r.headers["Content-Length"]) for r in parts]


def test_part_size_for_a_declared_60_gib_body_fits_in_10000_parts(make_storage: Any) -> None:
    # 60 GiB in 5 MiB parts would be 12,288 parts: S3 refuses the 10,001st (the old limit was
    # 48.8 GiB). s3transfer doubles the part size until the parts fit; so does the file.
    storage = make_storage()
    declared = 60 * GiB
    target = S3File("huge.bin", "wb", storage, 5 * MiB, key="huge.bin", expected_size=declared)
    try:
        assert target.part_size == 10 * MiB
        assert math.ceil(declared / target.part_size) <= 10_000
        assert {target.part_size_for(n) for n in (1, 1_000, 5_000, 10_000)} == {10 * MiB}
    finally:
        target.abort()


def test_save_declares_the_size_of_the_content(make_storage: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    chosen: list[int] = []

    class Recording(S3File):
        def _commit(self, tail: bytes) -> None:
            chosen.append(self.part_size)
            super()._commit(tail)

    monkeypatch.setattr(storage_module, "S3File", Recording)
    content = ContentFile(b"small body, declared huge")
    content.size = 60 * GiB  # what Django's File reports for a 60 GiB upload, not sent here
    make_storage(transfer_config=TransferConfig(multipart_chunksize=5 * MiB)).save("declared.bin", content)
    make_storage().save("declared.bin", content)
    # 5 MiB doubled until 60 GiB fits in 10,000 parts; s3transfer's default 8 MiB fits already.
    assert chosen == [10 * MiB, 8 * MiB]


def test_without_a_declared_size_parts_grow_to_reach_5_tib() -> None:
    target = S3File.__new__(S3File)
    target.expected_size = None
    target._base_part_size = 5 * MiB
    sizes = [target.part_size_for(n) for n in range(1, 10_001)]
    assert sizes[0] == sizes[899] == 5 * MiB and sizes[900] == 10 * MiB
    assert max(sizes) <= 5 * GiB
    assert sum(sizes) >= 5 * TiB  # a fixed 5 MiB part stops at 48.8 GiB


def test_parts_of_an_unsized_upload_grow_as_it_proceeds(
    make_storage: Any, count_requests: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(files_module, "PARTS_PER_SIZE_STEP", 1)
    config = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB, max_concurrency=2)
    storage = make_storage(transfer_config=config)
    log = count_requests(storage)
    storage.save("growing.bin", File(io.BufferedReader(Unsized(35 * MiB + 3))))
    assert part_sizes(log) == [5 * MiB, 10 * MiB, 20 * MiB, 3]
    assert storage.size("growing.bin") == 35 * MiB + 3


def test_save_follows_s3transfer_defaults(make_storage: Any, count_requests: Any) -> None:
    storage = make_storage()
    log = count_requests(storage)
    storage.save("below.bin", ContentFile(b"b" * (8 * MiB - 1)))
    assert log.operations == ["PutObject"]
    log.clear()
    storage.save("above.bin", ContentFile(b"a" * (12 * MiB)))
    assert log.operations[0] == "CreateMultipartUpload" and log.operations[-1] == "CompleteMultipartUpload"
    assert part_sizes(log) == [8 * MiB, 4 * MiB]


def test_save_honours_transfer_configs_threshold_and_chunk_size(
    make_storage: Any, count_requests: Any
) -> None:
    config = TransferConfig(multipart_threshold=20 * MiB, multipart_chunksize=6 * MiB)
    storage = make_storage(transfer_config=config)
    log = count_requests(storage)
    storage.save("held.bin", ContentFile(b"h" * (18 * MiB)))
    assert log.operations == ["PutObject"]
    assert storage.size("held.bin") == 18 * MiB
    log.clear()
    storage.save("parts.bin", File(io.BufferedReader(Unsized(25 * MiB))))
    assert part_sizes(log) == [6 * MiB] * 4 + [1 * MiB]
    with storage.open("parts.bin") as f:
        assert f.read() == b"u" * (25 * MiB)


def test_checksum_algorithm_reaches_every_part_and_the_completion(
    make_storage: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = make_storage(object_parameters={"ChecksumAlgorithm": "SHA256"})
    calls: list[tuple[str, dict[str, Any]]] = []
    real_call = storage._call

    def record(operation: str, **kwargs: Any) -> Any:
        calls.append((operation, kwargs))
        return real_call(operation, **kwargs)

    monkeypatch.setattr(storage, "_call", record)
    storage.save("summed.bin", ContentFile(b"s" * (17 * MiB)))
    parts = [kwargs for operation, kwargs in calls if operation == "upload_part"]
    assert len(parts) == 3
    assert all(p["ChecksumAlgorithm"] == "SHA256" for p in parts)
    create = next(kwargs for operation, kwargs in calls if operation == "create_multipart_upload")
    assert create["ChecksumAlgorithm"] == "SHA256"
    complete = next(kwargs for operation, kwargs in calls if operation == "complete_multipart_upload")
    listed = complete["MultipartUpload"]["Parts"]
    assert [p["PartNumber"] for p in listed] == [1, 2, 3]
    assert all(p.get("ChecksumSHA256") for p in listed)


def test_save_reads_a_part_only_when_it_can_be_sent(
    make_storage: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Memory of save() is the parts in flight: no part read from the source waits for a slot.
    import time

    config = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB, max_concurrency=2)
    storage = make_storage(transfer_config=config)
    waiting: list[int] = []
    real_send, real_upload = S3File._send_part, S3File._upload_part

    def send(self: S3File, data: bytes) -> None:
        waiting.append(len(self._pending))
        real_send(self, data)

    def slow_upload(self: S3File, *args: Any) -> Any:
        time.sleep(0.1)
        return real_upload(self, *args)

    monkeypatch.setattr(S3File, "_send_part", send)
    monkeypatch.setattr(S3File, "_upload_part", slow_upload)
    storage.save("slots.bin", File(io.BufferedReader(Unsized(30 * MiB))))
    assert len(waiting) == 6
    assert max(waiting) < 2
    assert storage.size("slots.bin") == 30 * MiB


def test_save_stores_a_multipart_object_as_upload_fileobj_does(
    make_storage: Any, raw: Any, bucket_name: str, count_requests: Any
) -> None:
    # s3transfer asks for CRC32 checksums (botocore's request_checksum_calculation defaults to
    # "when_supported"): S3 then keeps the composite CRC32 of the parts. Without it, S3 (and
    # moto) compute a full-object checksum over every byte once more at the completion.
    data = bytes(range(256)) * (17 * MiB // 256)
    raw.upload_fileobj(io.BytesIO(data), bucket_name, "by-s3transfer.bin")
    storage = make_storage()
    log = count_requests(storage)
    storage.save("by-save.bin", ContentFile(data))
    create = next(r for r in log.requests if r.operation == "CreateMultipartUpload")
    assert create.headers["x-amz-checksum-algorithm"] == "CRC32"
    theirs = raw.head_object(Bucket=bucket_name, Key="by-s3transfer.bin", ChecksumMode="ENABLED")
    ours = raw.head_object(Bucket=bucket_name, Key="by-save.bin", ChecksumMode="ENABLED")
    checksums = {k: v for k, v in ours.items() if k.startswith("Checksum")}
    assert checksums == {k: v for k, v in theirs.items() if k.startswith("Checksum")}
    assert set(checksums) >= {"ChecksumCRC32"}
    assert (ours["ETag"], ours["ContentLength"]) == (theirs["ETag"], theirs["ContentLength"])


def test_no_default_checksum_when_the_client_asks_for_checksums_only_when_required(
    make_storage: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.config import Config

    storage = make_storage(client_config=Config(request_checksum_calculation="when_required"))
    calls: list[tuple[str, dict[str, Any]]] = []
    real_call = storage._call
    monkeypatch.setattr(storage, "_call", lambda op, **kw: calls.append((op, kw)) or real_call(op, **kw))
    storage.save("plain.bin", ContentFile(b"p" * (9 * MiB)))
    storage.save("small.bin", ContentFile(b"small"))
    assert [op for op, _ in calls] == [
        "create_multipart_upload",
        "upload_part",
        "upload_part",
        "complete_multipart_upload",
        "put_object",
    ]
    assert not any("ChecksumAlgorithm" in kw for _, kw in calls)


def test_a_given_full_object_checksum_is_not_overridden(
    make_storage: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import base64
    import hashlib

    body = b"checked"
    given = base64.b64encode(hashlib.sha256(body).digest()).decode()
    storage = make_storage(object_parameters={"ChecksumSHA256": given})
    calls: list[dict[str, Any]] = []
    real_call = storage._call
    monkeypatch.setattr(storage, "_call", lambda op, **kw: calls.append(kw) or real_call(op, **kw))
    storage.save("checked.bin", ContentFile(body))
    assert calls[0]["ChecksumSHA256"] == given
    assert "ChecksumAlgorithm" not in calls[0]
