"""Azure benchmark: this package against the original django-storages 1.14.6, on one Azurite.

Run with ``hatch run bench:azure`` (or ``python tests-integration/benchmarks/bench_azure.py``).
The original is installed by this script with pip into its own virtual environment under
``.bench/original-1.14.6-azure`` (created once). Both sides run the same workload script in
separate processes against the same Azurite and report wall times, request counts (every
request through azure-core's ``RequestsTransport``), peak RSS above the baseline and the time
to the first byte of a read; this script prints both and their ratios. Nothing is asserted.

``--quick`` runs smaller sizes (32 MB file, 1000 url() calls) for a smoke run.
"""

from __future__ import annotations

import sys

import _common
from _common import BENCH

ORIGINAL_VENV = BENCH / "original-1.14.6-azure"
ORIGINAL_REQUIREMENTS = ["django-storages[azure]==1.14.6", "django>=5.2,<6"]

# The workload runs inside each environment; it prints one JSON object of measurements.
WORKLOAD = r"""
import hashlib, os, sys, tempfile, time, uuid
from _workload_common import COUNT, Sink, big_file, measure, report, results, time_calls, transfer
SIDE, CONNECTION_STRING, BIG_MB, URLS, OBJECTS, LISTED = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:7])
import django
from django.conf import settings
# "storages" first: its collectstatic (ours) opens the collect scope; the original has none.
settings.configure(USE_TZ=True, SECRET_KEY="bench", STATIC_URL="/static/",
                   INSTALLED_APPS=["storages", "django.contrib.staticfiles"],
                   STORAGES={"default": {"BACKEND": "django.core.files.storage.InMemoryStorage"}})
django.setup()
from pathlib import Path
from django.core.files.base import ContentFile, File
from django.core.management import call_command
from django.test import override_settings
from azure.core.pipeline.transport import RequestsTransport
from azure.storage.blob import BlobServiceClient
from storages.backends.azure_storage import AzureStorage

_send = RequestsTransport.send
def send(self, request, **kwargs):
    COUNT[0] += 1
    return _send(self, request, **kwargs)
RequestsTransport.send = send

RAW = BlobServiceClient.from_connection_string(CONNECTION_STRING)

container = f"bench-{SIDE}-{uuid.uuid4().hex[:10]}"
RAW.create_container(container)
common = dict(connection_string=CONNECTION_STRING, azure_container=container, overwrite_files=True)
signed = AzureStorage(**common, expiration_secs=3600)
unsigned = AzureStorage(**common)

# collectstatic: ours with AzureStaticStorage, the original with AzureStorage (it has no static class).
STATIC_BACKEND = ("storages.backends.azure_storage.AzureStaticStorage" if SIDE == "ours"
                  else "storages.backends.azure_storage.AzureStorage")
def collect(root, static_container):
    storages = {"default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
                "staticfiles": {"BACKEND": STATIC_BACKEND, "OPTIONS": {
                    "connection_string": CONNECTION_STRING, "azure_container": static_container,
                    "location": "static", "overwrite_files": True}}}
    with override_settings(STORAGES=storages, STATICFILES_DIRS=[str(root)]):
        call_command("collectstatic", interactive=False, verbosity=0)
with tempfile.TemporaryDirectory() as folder:
    root = Path(folder) / "static"
    paths = []
    for index in range(OBJECTS):
        path = root / f"app{index % 4}" / f"file{index}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(f"file number {index}".encode() * 3)
        paths.append(path)
    past = time.time() - 3600
    for p in paths:
        os.utime(p, (past, past))
    static_container = f"static-{SIDE}-{uuid.uuid4().hex[:10]}"
    RAW.create_container(static_container)
    measure(f"collectstatic {OBJECTS} files: first run", lambda: collect(root, static_container))
    measure(f"collectstatic {OBJECTS} files: unchanged", lambda: collect(root, static_container))

names = [f"media/photo {i}.jpg" for i in range(URLS)]
signed.url("warm"); unsigned.url("warm")
for label, storage in (("url() signed (SAS)", signed), ("url() unsigned", unsigned)):
    time_calls(label, storage.url, names)

container_client = RAW.get_container_client(container)
for i in range(OBJECTS):
    container_client.upload_blob(f"objs/o{i}", b"x" * 10)
signed.exists("objs/o0")
measure(f"exists() x{OBJECTS}", lambda: [signed.exists(f"objs/o{i}") for i in range(OBJECTS)])
measure(f"size() x{OBJECTS}", lambda: [signed.size(f"objs/o{i}") for i in range(OBJECTS)])
measure(f"small save x{OBJECTS}", lambda: [signed.save(f"small/s{i}.txt", ContentFile(b"small")) for i in range(OBJECTS)])
def small_reads():
    for i in range(OBJECTS):
        with signed.open(f"small/s{i}.txt") as f:
            f.read()
measure(f"small open().read() x{OBJECTS}", small_reads)
for i in range(LISTED):
    container_client.upload_blob(f"list/k{i:05d}", b"")
measure(f"listdir {LISTED} blobs", lambda: signed.listdir("list"))

source = big_file(BIG_MB)
def save_big():
    with open(source, "rb") as f:
        signed.save("big.bin", File(f))
transfer(f"save {BIG_MB} MB", save_big, BIG_MB)
ttfb = [0.0]
def read_big():
    start = time.perf_counter()
    with signed.open("big.bin", "rb") as f:
        first = f.read(1024 * 1024)
        ttfb[0] = time.perf_counter() - start
        digest = hashlib.sha256(first)
        while data := f.read(1024 * 1024):
            digest.update(data)
transfer(f"read {BIG_MB} MB", read_big, BIG_MB)
results[f"read {BIG_MB} MB"]["ttfb_s"] = ttfb[0]
blob = container_client.get_blob_client("raw.bin")
def raw_upload():
    with open(source, "rb") as f:
        blob.upload_blob(f, overwrite=True, max_concurrency=2)
transfer(f"raw SDK upload_blob {BIG_MB} MB", raw_upload, BIG_MB)
transfer(f"raw SDK download_blob {BIG_MB} MB", lambda: blob.download_blob(max_concurrency=1).readinto(Sink()), BIG_MB)
os.unlink(source)
report(results)
"""


def main() -> int:
    args = _common.parser(__doc__).parse_args()
    # MB for the big file, url() calls, exists/size/small objects, listed blobs
    sizes = [32, 1000, 50, 500] if args.quick else [256, 10000, 500, 6000]
    original_python = _common.original_python(ORIGINAL_VENV, ORIGINAL_REQUIREMENTS)
    from shared.testservers.azurite import azurite_server

    with azurite_server() as server:
        ours, original = _common.run_both(original_python, WORKLOAD, [server.connection_string, *sizes])
    _common.print_table(ours, original, width=36, counted="in RequestsTransport.send")
    return 0


if __name__ == "__main__":
    sys.exit(main())
