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

import argparse
import json
import os
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO))

from shared.testservers.azurite import azurite_server  # noqa: E402

ORIGINAL = "django-storages[azure]==1.14.6"
BENCH_VENV = REPO / ".bench" / "original-1.14.6-azure"

# The workload runs inside each environment; it prints one JSON object of measurements.
WORKLOAD = r"""
import hashlib, io, json, os, sys, tempfile, threading, time, uuid
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

COUNT = [0]
_send = RequestsTransport.send
def send(self, request, **kwargs):
    COUNT[0] += 1
    return _send(self, request, **kwargs)
RequestsTransport.send = send

RAW = BlobServiceClient.from_connection_string(CONNECTION_STRING)

def rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    return 0.0

class PeakRSS:
    def __enter__(self):
        self.base, self.peak, self.done = rss_mb(), rss_mb(), False
        def watch():
            while not self.done:
                self.peak = max(self.peak, rss_mb()); time.sleep(0.01)
        self.thread = threading.Thread(target=watch, daemon=True); self.thread.start(); return self
    def __exit__(self, *exc):
        self.done = True; self.thread.join(); self.peak = max(self.peak, rss_mb())

results = {}
def measure(label, fn):
    COUNT[0] = 0
    start = time.perf_counter()
    fn()
    results[label] = {"seconds": time.perf_counter() - start, "requests": COUNT[0]}

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
    start = time.perf_counter()
    for n in names:
        storage.url(n)
    elapsed = time.perf_counter() - start
    results[label] = {"seconds": elapsed, "per_call_us": elapsed / URLS * 1e6, "requests": 0}

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

size = BIG_MB * 1024 * 1024
chunk = hashlib.sha256(b"bench").digest() * (1024 * 1024 // 32)
with tempfile.NamedTemporaryFile(delete=False) as source:
    for _ in range(BIG_MB):
        source.write(chunk)
def transfer(label, fn):
    with PeakRSS() as rss:
        measure(label, fn)
    results[label]["mb_per_s"] = BIG_MB / results[label]["seconds"]
    results[label]["peak_rss_mb"] = rss.peak - rss.base
def save_big():
    with open(source.name, "rb") as f:
        signed.save("big.bin", File(f))
transfer(f"save {BIG_MB} MB", save_big)
ttfb = [0.0]
def read_big():
    start = time.perf_counter()
    with signed.open("big.bin", "rb") as f:
        first = f.read(1024 * 1024)
        ttfb[0] = time.perf_counter() - start
        digest = hashlib.sha256(first)
        while data := f.read(1024 * 1024):
            digest.update(data)
transfer(f"read {BIG_MB} MB", read_big)
results[f"read {BIG_MB} MB"]["ttfb_s"] = ttfb[0]
blob = container_client.get_blob_client("raw.bin")
def raw_upload():
    with open(source.name, "rb") as f:
        blob.upload_blob(f, overwrite=True, max_concurrency=2)
transfer(f"raw SDK upload_blob {BIG_MB} MB", raw_upload)
class Sink(io.RawIOBase):
    def writable(self): return True
    def write(self, b): return len(b)
transfer(f"raw SDK download_blob {BIG_MB} MB", lambda: blob.download_blob(max_concurrency=1).readinto(Sink()))
os.unlink(source.name)
print("RESULTS " + json.dumps(results))
"""


def ensure_original_venv() -> Path:
    python = BENCH_VENV / "bin" / "python"
    marker = BENCH_VENV / "installed"
    if not marker.exists():
        print(f"creating {BENCH_VENV} with {ORIGINAL} ...", flush=True)
        venv.create(BENCH_VENV, with_pip=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", ORIGINAL, "django>=5.2,<6"],
            check=True,
        )
        marker.write_text(ORIGINAL + "\n")
    return python


def run_side(python: str, side: str, connection_string: str, sizes: list[int]) -> dict[str, dict[str, float]]:
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as script:
        script.write(WORKLOAD)
    env = dict(os.environ, PYTHONPATH="")
    try:
        output = subprocess.run(
            [python, script.name, side, connection_string, *map(str, sizes)],
            check=True,
            capture_output=True,
            text=True,
            env=env,
            cwd=tempfile.gettempdir(),
        )
    except subprocess.CalledProcessError as exc:
        print(exc.stdout[-3000:], exc.stderr[-3000:])
        raise
    finally:
        os.unlink(script.name)
    line = next(x for x in output.stdout.splitlines() if x.startswith("RESULTS "))
    return dict(json.loads(line[len("RESULTS ") :]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    args = parser.parse_args()
    # MB for the big file, url() calls, exists/size/small objects, listed blobs
    sizes = [32, 1000, 50, 500] if args.quick else [256, 10000, 500, 6000]
    original_python = str(ensure_original_venv())
    with azurite_server() as server:
        ours = run_side(sys.executable, "ours", server.connection_string, sizes)
        original = run_side(original_python, "original", server.connection_string, sizes)
    print()
    header = (
        f"{'benchmark':36} {'original':>12} {'ours':>12} {'ratio':>8} {'req orig':>9} {'req ours':>9}  extra"
    )
    print(header)
    print("-" * len(header))
    for label, mine in ours.items():
        theirs = original.get(label, {})
        metric = "per_call_us" if "per_call_us" in mine else "seconds"
        unit = "us" if metric == "per_call_us" else "s"
        a, b = theirs.get(metric, float("nan")), mine[metric]
        ratio = a / b if b else float("inf")
        extra = ""
        if "mb_per_s" in mine:
            extra = (
                f"MB/s {theirs.get('mb_per_s', 0):.0f} -> {mine['mb_per_s']:.0f}; peak RSS +MB "
                f"{theirs.get('peak_rss_mb', 0):.0f} -> {mine['peak_rss_mb']:.0f}"
            )
        if "ttfb_s" in mine:
            extra += f"; first byte {theirs.get('ttfb_s', 0):.2f}s -> {mine['ttfb_s']:.2f}s"
        print(
            f"{label:36} {a:>10.3f}{unit:2} {b:>10.3f}{unit:2} {ratio:>7.1f}x "
            f"{int(theirs.get('requests', 0)):>9} {int(mine['requests']):>9}  {extra}"
        )
    print(
        "\nratio = original / ours (higher is better for ours); requests counted in RequestsTransport.send."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
