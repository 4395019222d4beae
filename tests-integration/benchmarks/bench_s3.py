"""S3 benchmark: this package against the original django-storages 1.14.6, on one moto server.

Run with ``hatch run bench:s3`` (or ``python tests-integration/benchmarks/bench_s3.py``). The
original is installed by this script with pip into its own virtual environment under
``.bench/original-1.14.6`` (created once). Both sides run the same workload script in separate
processes against the same moto server and report wall times, request counts (a botocore
``before-send`` hook) and peak RSS; this script prints a table of both and their ratios. ``save()`` and raw
``upload_fileobj`` run alternated five times in each process (medians shown), and the
per-round ratios of ours are printed with the load average: compare within one run.
``exists()`` and ``size()`` run three rounds and keep the one of least client CPU, and the two
sides run them (with ``listdir()``) twice more, alternated, each keeping its least disturbed
figure; ``url()`` is the fastest of three passes, as ``timeit`` reports.
Nothing is asserted: moto answers in ~1.6 ms per request, so request counts are the figure to
trust, and times show the CPU cost of the library itself.

``--quick`` runs smaller sizes (100 files, 16 MB file) for a smoke run.
"""

from __future__ import annotations

import os
import sys

import _common
from _common import BENCH, ORIGINAL

ORIGINAL_VENV = BENCH / "original-1.14.6"
ORIGINAL_REQUIREMENTS = [ORIGINAL, "boto3", "django>=5.2,<6", "cryptography"]

# The workload runs inside each environment; it prints one JSON object of measurements.
WORKLOAD = r"""
import io, os, sys, tempfile, time, uuid
from pathlib import Path
from _workload_common import (COUNT, RawSource, Sink, drain, measure, median, record_load, report, results,
                              time_calls, transfer, transfer_round)

SIDE, ENDPOINT, FILES, BIG_MB, URLS, OBJECTS, LISTED, SAVE_ROUNDS = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:9])
# "all", or "calls": only exists()/size()/listdir(), run again alternated with the other side.
PHASE = sys.argv[9]
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

def _count(**kwargs): COUNT[0] += 1
# Count every request of every client: register the hook on each new client.
_original_init = botocore.client.BaseClient.__init__
def _init(self, *args, **kwargs):
    _original_init(self, *args, **kwargs)
    if self.meta.service_model.service_name == "s3":
        self.meta.events.register("before-send.s3", _count)
botocore.client.BaseClient.__init__ = _init

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
    if PHASE != "all":
        break
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
    if PHASE == "all":
        time_calls(label, storage.url, names)

for i in range(OBJECTS):
    RAW.put_object(Bucket=bucket, Key=f"objs/o{i}", Body=b"x" * 10)
# Three rounds each, the one of least client CPU kept: the figure compared is the library's cost.
measure(f"exists() x{OBJECTS}", lambda: [signed.exists(f"objs/o{i}") for i in range(OBJECTS)], rounds=3)
measure(f"size() x{OBJECTS}", lambda: [signed.size(f"objs/o{i}") for i in range(OBJECTS)], rounds=3)
for i in range(LISTED):
    RAW.put_object(Bucket=bucket, Key=f"list/k{i:05d}", Body=b"")
measure(f"listdir {LISTED} keys", lambda: signed.listdir("list"))
if PHASE != "all":
    report(results)
    sys.exit(0)

# save() against raw upload_fileobj in the same process and on the same server, alternated so
# that a change in the machine's load hits both alike; the medians are reported.
saves, raws = [], []
for _ in range(SAVE_ROUNDS):
    saves.append(transfer_round("save", lambda: signed.save("big.bin", io.BufferedReader(RawSource(BIG_MB))), BIG_MB))
    raws.append(transfer_round("raw", lambda: RAW.upload_fileobj(io.BufferedReader(RawSource(BIG_MB)), bucket, "raw.bin"), BIG_MB))
results[f"save {BIG_MB} MB"] = median(saves)
results[f"raw boto3 upload_fileobj {BIG_MB} MB"] = median(raws)
results["save / upload_fileobj"] = {
    "seconds": 0, "requests": 0,
    "throughput_pct": [round(100 * r["seconds"] / s["seconds"]) for s, r in zip(saves, raws)],
    "rss_pct": [round(100 * s["peak_rss_mb"] / max(r["peak_rss_mb"], 1)) for s, r in zip(saves, raws)],
}
def read_big():
    with signed.open("big.bin", "rb") as f:
        drain(f)
transfer(f"read {BIG_MB} MB", read_big, BIG_MB)
transfer(f"raw boto3 download_fileobj {BIG_MB} MB", lambda: RAW.download_fileobj(bucket, "raw.bin", Sink()), BIG_MB)
record_load()
report(results)
"""


def main() -> int:
    args = _common.parser(__doc__).parse_args()
    # files for collectstatic, MB for the big file, url() calls, exists/size objects, listed keys
    # ... and how many times save() and upload_fileobj run, alternated
    sizes = [100, 16, 1000, 100, 500, 1] if args.quick else [1000, 256, 10000, 1000, 5000, 5]
    original_python = _common.original_python(ORIGINAL_VENV, ORIGINAL_REQUIREMENTS)
    env = _common.workload_env(AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    from shared.testservers.moto import moto_server

    with moto_server() as endpoint:
        ours, original = _common.run_both(original_python, WORKLOAD, [endpoint, *sizes, "all"], env=env)
        # The per-call client CPU of exists()/size()/listdir() again, the two sides alternated
        # twice more: each side keeps its least disturbed figure.
        for _ in range(2):
            for side, python, into in (
                ("ours", sys.executable, ours),
                ("original", original_python, original),
            ):
                calls = _common.run_side(python, WORKLOAD, [side, endpoint, *sizes, "calls"], env=env)
                for label, figures in calls.items():
                    if figures["cpu"] < into[label]["cpu"]:
                        into[label] = figures
    _common.print_table(ours, original, width=42, counted="with a botocore hook", cpu_per_call=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
