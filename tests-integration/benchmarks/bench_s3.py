"""S3 benchmark: this package against the original django-storages 1.14.6, on one moto server.

Run with ``hatch run bench:s3`` (or ``python tests-integration/benchmarks/bench_s3.py``). The
original is installed by this script with pip into its own virtual environment under
``.bench/original-1.14.6`` (created once). Both sides run the same workload script in separate
processes against the same moto server and report wall times, request counts (a botocore
``before-send`` hook) and peak RSS; this script prints a table of both and their ratios. ``save()`` and raw
``upload_fileobj`` run alternated three times in each process (medians shown), and the
per-round ratios of ours are printed with the load average: compare within one run.
Nothing is asserted: moto answers in ~1.6 ms per request, so request counts are the figure to
trust, and times show the CPU cost of the library itself.

``--quick`` runs smaller sizes (100 files, 16 MB file) for a smoke run.
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

from shared.testservers.moto import moto_server  # noqa: E402

ORIGINAL = "django-storages==1.14.6"
BENCH_VENV = REPO / ".bench" / "original-1.14.6"

# The workload runs inside each environment; it prints one JSON object of measurements.
WORKLOAD = r"""
import datetime, hashlib, io, json, os, sys, tempfile, threading, time, uuid
from pathlib import Path

SIDE, ENDPOINT, FILES, BIG_MB, URLS, OBJECTS, LISTED, SAVE_ROUNDS = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:9])
os.environ.update(AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
import boto3, django
from django.conf import settings
# "storages" first: its collectstatic (ours) opens the collect scope; the original has none.
settings.configure(
    INSTALLED_APPS=["storages", "django.contrib.staticfiles"], USE_TZ=True, STATIC_URL="/static/",
    SECRET_KEY="bench", STORAGES={"default": {"BACKEND": "django.core.files.storage.InMemoryStorage"}},
)
django.setup()
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.test import override_settings
import botocore.client

CREDS = dict(access_key="testing", secret_key="testing", region_name="us-east-1", endpoint_url=ENDPOINT)
RAW = boto3.client("s3", endpoint_url=ENDPOINT, aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")

COUNT = [0]
def _count(**kwargs): COUNT[0] += 1
# Count every request of every client: register the hook on each new client.
_original_init = botocore.client.BaseClient.__init__
def _init(self, *args, **kwargs):
    _original_init(self, *args, **kwargs)
    if self.meta.service_model.service_name == "s3":
        self.meta.events.register("before-send.s3", _count)
botocore.client.BaseClient.__init__ = _init

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
    cpu, start = time.thread_time(), time.perf_counter()
    fn()
    # Client CPU of the calling thread: what the library costs, whatever moto and the load do.
    results[label] = {"seconds": time.perf_counter() - start, "requests": COUNT[0], "cpu": time.thread_time() - cpu}

def new_bucket():
    name = f"bench-{SIDE}-{uuid.uuid4().hex[:10]}"
    RAW.create_bucket(Bucket=name)
    return name

if SIDE == "ours":
    from storages.backends.s3 import S3Storage, S3StaticStorage, S3ManifestStaticStorage
else:
    from storages.backends.s3 import S3Storage, S3StaticStorage, S3ManifestStaticStorage

def make_tree(root, count):
    paths = []
    for index in range(count):
        folder = root / f"app{index % 4}"
        folder.mkdir(parents=True, exist_ok=True)
        if index % 100 == 0:
            path = folder / f"style{index}.css"
            path.write_text(f'body {{ background: url("img{index + 4}.png"); }} /* {index} */\n')
        else:
            path = folder / f"img{index}.png"
            path.write_bytes(f"file number {index}".encode() * 3)
        paths.append(path)
    past = time.time() - 3600
    for p in paths:
        os.utime(p, (past, past))
    return paths

def collect(backend, root, bucket):
    storages = {"default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
                "staticfiles": {"BACKEND": backend, "OPTIONS": {**CREDS, "bucket_name": bucket, "location": "static"}}}
    with override_settings(STORAGES=storages, STATICFILES_DIRS=[str(root)]):
        call_command("collectstatic", interactive=False, verbosity=0)

for kind, backend in (("static", "storages.backends.s3.S3StaticStorage"), ("manifest", "storages.backends.s3.S3ManifestStaticStorage")):
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "static"
        paths = make_tree(root, FILES)
        bucket = new_bucket()
        measure(f"collectstatic {kind}: first run", lambda: collect(backend, root, bucket))
        measure(f"collectstatic {kind}: unchanged", lambda: collect(backend, root, bucket))
        changed = [p for p in paths if p.suffix == ".png"][:10]
        for p in changed:
            p.write_bytes(b"changed " + p.name.encode())
            future = time.time() + 3600
            os.utime(p, (future, future))
        measure(f"collectstatic {kind}: 10 changed", lambda: collect(backend, root, bucket))

bucket = new_bucket()
signed = S3Storage(**CREDS, bucket_name=bucket)
unsigned = S3Storage(**CREDS, bucket_name=bucket, querystring_auth=False)
names = [f"media/photo {i}.jpg" for i in range(URLS)]
signed.url("warm"); unsigned.url("warm")
for label, storage in (("url() signed", signed), ("url() unsigned", unsigned)):
    start = time.perf_counter()
    for n in names:
        storage.url(n)
    elapsed = time.perf_counter() - start
    results[label] = {"seconds": elapsed, "per_call_us": elapsed / URLS * 1e6, "requests": 0}

for i in range(OBJECTS):
    RAW.put_object(Bucket=bucket, Key=f"objs/o{i}", Body=b"x" * 10)
measure(f"exists() x{OBJECTS}", lambda: [signed.exists(f"objs/o{i}") for i in range(OBJECTS)])
measure(f"size() x{OBJECTS}", lambda: [signed.size(f"objs/o{i}") for i in range(OBJECTS)])
for i in range(LISTED):
    RAW.put_object(Bucket=bucket, Key=f"list/k{i:05d}", Body=b"")
measure(f"listdir {LISTED} keys", lambda: signed.listdir("list"))

size = BIG_MB * 1024 * 1024
chunk = hashlib.sha256(b"bench").digest() * (1024 * 1024 // 32)
class Source(io.RawIOBase):
    def __init__(self): self.left = size
    def readable(self): return True
    def readinto(self, buffer):
        n = min(len(buffer), self.left, len(chunk)); buffer[:n] = chunk[:n]; self.left -= n; return n

def transfer(label, fn):
    with PeakRSS() as rss:
        measure(label, fn)
    results[label]["mb_per_s"] = BIG_MB / results[label]["seconds"]
    results[label]["peak_rss_mb"] = rss.peak - rss.base

def drain(f):
    while f.read(1024 * 1024):
        pass

# save() against raw upload_fileobj in the same process and on the same server, alternated so
# that a change in the machine's load hits both alike; the medians are reported.
def median_run(label, fn):
    transfer(label, fn)
    return results.pop(label)

saves, raws = [], []
for _ in range(SAVE_ROUNDS):
    saves.append(median_run("save", lambda: signed.save("big.bin", io.BufferedReader(Source()))))
    raws.append(median_run("raw", lambda: RAW.upload_fileobj(io.BufferedReader(Source()), bucket, "raw.bin")))
by_time = lambda runs: sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]
results[f"save {BIG_MB} MB"] = by_time(saves)
results[f"raw boto3 upload_fileobj {BIG_MB} MB"] = by_time(raws)
results["save / upload_fileobj"] = {
    "seconds": 0, "requests": 0,
    "throughput_pct": [round(100 * r["seconds"] / s["seconds"]) for s, r in zip(saves, raws)],
    "rss_pct": [round(100 * s["peak_rss_mb"] / max(r["peak_rss_mb"], 1)) for s, r in zip(saves, raws)],
}
def read_big():
    with signed.open("big.bin", "rb") as f:
        drain(f)
transfer(f"read {BIG_MB} MB", read_big)
class Sink(io.RawIOBase):
    def writable(self): return True
    def write(self, b): return len(b)
transfer(f"raw boto3 download_fileobj {BIG_MB} MB", lambda: RAW.download_fileobj(bucket, "raw.bin", Sink()))
results["load average"] = {"seconds": 0, "requests": 0, "load": [round(x, 1) for x in os.getloadavg()]}
print("RESULTS " + json.dumps(results))
"""


def ensure_original_venv() -> Path:
    python = BENCH_VENV / "bin" / "python"
    if not python.exists():
        print(f"creating {BENCH_VENV} with {ORIGINAL} ...", flush=True)
        venv.create(BENCH_VENV, with_pip=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", ORIGINAL, "boto3", "django>=5.2,<6", "cryptography"],
            check=True,
        )
    return python


def run_side(python: str, side: str, endpoint: str, sizes: list[int]) -> dict[str, dict[str, float]]:
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as script:
        script.write(WORKLOAD)
    env = dict(os.environ, AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull, PYTHONPATH="")
    try:
        output = subprocess.run(
            [python, script.name, side, endpoint, *map(str, sizes)],
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
    # files for collectstatic, MB for the big file, url() calls, exists/size objects, listed keys
    # ... and how many times save() and upload_fileobj run, alternated
    sizes = [100, 16, 1000, 100, 500, 1] if args.quick else [1000, 256, 10000, 1000, 5000, 3]
    original_python = str(ensure_original_venv())
    with moto_server() as endpoint:
        ours = run_side(sys.executable, "ours", endpoint, sizes)
        original = run_side(original_python, "original", endpoint, sizes)
    print()
    header = (
        f"{'benchmark':42} {'original':>12} {'ours':>12} {'ratio':>8} {'req orig':>9} {'req ours':>9}  extra"
    )
    print(header)
    print("-" * len(header))
    for label, mine in ours.items():
        theirs = original.get(label, {})
        if "throughput_pct" in mine:
            print(
                f"{label:42} (ours, same process, alternated) throughput % of upload_fileobj "
                f"{mine['throughput_pct']}; peak RSS % {mine['rss_pct']}"
            )
            continue
        if "load" in mine:
            print(f"{label:42} ours {mine['load']}, original {theirs.get('load')} (1, 5, 15 min)")
            continue
        metric = "per_call_us" if "per_call_us" in mine else "seconds"
        unit = "us" if metric == "per_call_us" else "s"
        a, b = theirs.get(metric, float("nan")), mine[metric]
        ratio = a / b if b else float("inf")
        extra = ""
        if label.startswith(("exists", "size", "listdir")):
            calls = 1 if label.startswith("listdir") else int(label.split("x")[-1])
            extra = (
                f"client CPU per call {theirs.get('cpu', float('nan')) / calls * 1e6:,.0f} -> "
                f"{mine['cpu'] / calls * 1e6:,.0f} us"
            )
        if "mb_per_s" in mine:
            extra = (
                f"MB/s {theirs.get('mb_per_s', 0):.0f} -> {mine['mb_per_s']:.0f}; peak RSS +MB "
                f"{theirs.get('peak_rss_mb', 0):.0f} -> {mine['peak_rss_mb']:.0f}"
            )
        print(
            f"{label:42} {a:>10.3f}{unit:2} {b:>10.3f}{unit:2} {ratio:>7.1f}x "
            f"{int(theirs.get('requests', 0)):>9} {int(mine['requests']):>9}  {extra}"
        )
    print("\nratio = original / ours (higher is better for ours); requests counted with a botocore hook.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
