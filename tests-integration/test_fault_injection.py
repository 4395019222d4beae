"""A connection that dies in the middle of an upload leaves no file under the name.

S3 runs through a proxy in front of moto whose connections are cut mid-transfer; the object is
then looked for directly on moto. (SFTP's version of this test, with sshd restarted in the
middle of a write, is in the SFTP package.)
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from botocore.config import Config
from django.core.files.base import ContentFile

from shared.testservers import serve
from shared.testservers.moto import MOTO_CREDENTIALS, moto_server
from shared.testservers.proxy import cuttable_proxy
from storages.testing import configure_django

configure_django()

MiB = 1024 * 1024


@pytest.fixture(scope="module")
def endpoint_url() -> Iterator[str]:
    yield from serve(moto_server())


def make_storage(endpoint_url: str, bucket: str) -> object:
    from storages.backends.s3 import S3Storage

    return S3Storage(
        **MOTO_CREDENTIALS,
        endpoint_url=endpoint_url,
        bucket_name=bucket,
        # Fail fast: no retries, short timeouts, once the proxy is cut.
        client_config=Config(
            retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=2, read_timeout=5
        ),
    )


class LargeContent(ContentFile):
    """60 MiB of upload, produced as it is read (not seekable)."""

    def __init__(self) -> None:
        super().__init__(b"")
        self.remaining = 60 * MiB

    def read(self, size: int = -1) -> bytes:
        size = self.remaining if size is None or size < 0 else min(size, self.remaining)
        self.remaining -= size
        return b"z" * size

    def seekable(self) -> bool:
        return False


def test_s3_upload_cut_midway_publishes_nothing(endpoint_url: str) -> None:
    bucket = f"faults-{uuid.uuid4().hex[:12]}"
    direct = make_storage(endpoint_url, bucket)
    direct.client.create_bucket(Bucket=bucket)  # type: ignore[attr-defined]
    port = int(urlsplit(endpoint_url).port or 0)
    with cuttable_proxy(port) as proxy:
        through_proxy = make_storage(f"http://127.0.0.1:{proxy.port}", bucket)

        def cut_after_12_mib() -> None:
            deadline = time.monotonic() + 60
            while proxy.bytes_forwarded < 12 * MiB and time.monotonic() < deadline:
                time.sleep(0.001)
            proxy.cut()

        threading.Thread(target=cut_after_12_mib, daemon=True).start()
        with pytest.raises(Exception):  # noqa: B017 - whatever botocore raises for a dead link
            through_proxy.save("big/file.bin", LargeContent())  # type: ignore[attr-defined]
        assert 12 * MiB <= proxy.bytes_forwarded < 60 * MiB
    assert not direct.exists("big/file.bin")  # type: ignore[attr-defined]
    # The cut came mid-transfer: the multipart upload had started, and its abort could not
    # reach the server either (S3 lifecycle rules clean such uploads up).
    uploads = direct.client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])  # type: ignore[attr-defined]
    assert [u["Key"] for u in uploads] == ["big/file.bin"]
