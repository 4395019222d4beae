"""GCS benchmark: this package against the original django-storages 1.14.6, on one emulator.

Run with ``hatch run bench:gcs`` (or ``python tests-integration/benchmarks/bench_gcs.py``). The
original is installed by this script with pip into its own virtual environment under
``.bench/original-1.14.6-gcs`` (created once). Both sides run the same workload script in
separate processes against the same fake-gcs-server and report wall times, HTTP requests
(counted at ``requests.Session.request``, so every request of every client counts, the SDK's
background ones too) and peak RSS above the process's baseline; this script prints both and
their ratios. Nothing is asserted. Requests use anonymous credentials; URLs are signed with a
throwaway RSA key made here, and the "RSA floor" row is that key's bare signature per call.

``--quick`` runs smaller sizes (16 MB file, 500 URLs) for a smoke run.
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

from shared.testservers.gcs import gcs_server  # noqa: E402

ORIGINAL = "django-storages[google]==1.14.6"
BENCH_VENV = REPO / ".bench" / "original-1.14.6-gcs"

WORKLOAD = r"""
import hashlib, io, json, os, sys, threading, time, uuid
SIDE, ENDPOINT, BUCKET, BIG_MB, URLS, OBJECTS = sys.argv[1], sys.argv[2], sys.argv[3], *map(int, sys.argv[4:7])
os.environ["STORAGE_EMULATOR_HOST"] = ENDPOINT  # the original reaches the emulator only this way
import django
from django.conf import settings
settings.configure(USE_TZ=True, SECRET_KEY="bench")
django.setup()
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.files.base import ContentFile
from google.auth.credentials import AnonymousCredentials, Signing
from google.oauth2 import service_account

COUNT = [0]
_request = requests.Session.request
def counted(self, *args, **kwargs):
    COUNT[0] += 1
    return _request(self, *args, **kwargs)
requests.Session.request = counted

key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
SA = service_account.Credentials.from_service_account_info(
    {"private_key": pem, "client_email": "bench@bench.iam.gserviceaccount.com", "token_uri": "http://127.0.0.1:9/t"})

class SigningAnonymous(AnonymousCredentials, Signing):
    def sign_bytes(self, message): return SA.sign_bytes(message)
    @property
    def signer_email(self): return SA.signer_email
    @property
    def signer(self): return SA.signer

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

from storages.backends.gcloud import GoogleCloudStorage
options = {"bucket_name": BUCKET, "project_id": "bench", "location": SIDE}
if SIDE == "ours":
    options.update(api_endpoint=ENDPOINT, retry=0)
signed = GoogleCloudStorage(credentials=SigningAnonymous(), **options)
unsigned = GoogleCloudStorage(credentials=AnonymousCredentials(), querystring_auth=False, **options)

names = [f"media/photo {i}.jpg" for i in range(URLS)]
signed.url("warm"); unsigned.url("warm")
message = b"GOOG4-RSA-SHA256\n20260101T000000Z\n20260101/auto/storage/goog4_request\n" + b"0" * 64
# Interleaved rounds, so that a change in the machine's load hits the URLs and the floor alike.
spent = {"url() signed": 0.0, "url() unsigned": 0.0, "RSA floor (sign_bytes)": 0.0}
COUNT[0] = 0
for start_index in range(0, URLS, 100):
    batch = names[start_index:start_index + 100]
    for label, fn in (("url() signed", signed.url), ("url() unsigned", unsigned.url),
                      ("RSA floor (sign_bytes)", lambda n: SA.sign_bytes(message))):
        start = time.perf_counter()
        for n in batch:
            fn(n)
        spent[label] += time.perf_counter() - start
for label, elapsed in spent.items():
    results[label] = {"seconds": elapsed, "per_call_us": elapsed / URLS * 1e6, "requests": COUNT[0] if label != "RSA floor (sign_bytes)" else 0}

if SIDE == "ours":
    # This package's own work per signed URL, the signature replaced by a constant: what the
    # storage adds on top of the RSA floor, measured without the floor's noise.
    signer = signed._signer()
    real_sign, fixed = signer.sign, SA.sign_bytes(b"x")
    signer.sign = lambda message: fixed
    start = time.perf_counter()
    for n in names:
        signed.url(n)
    elapsed = time.perf_counter() - start
    signer.sign = real_sign
    results["url() signed, signature excluded"] = {"seconds": elapsed, "per_call_us": elapsed / URLS * 1e6, "requests": 0}

measure("save 1 KB (x1)", lambda: signed.save("small/one.txt", ContentFile(b"x" * 1024)))
measure(f"save 1 KB x{OBJECTS}", lambda: [signed.save(f"small/o{i}.txt", ContentFile(b"x" * 1024)) for i in range(OBJECTS)])
measure(f"exists() x{OBJECTS}", lambda: [signed.exists(f"small/o{i}.txt") for i in range(OBJECTS)])
measure(f"size() x{OBJECTS}", lambda: [signed.size(f"small/o{i}.txt") for i in range(OBJECTS)])
def read_small():
    for i in range(OBJECTS):
        with signed.open(f"small/o{i}.txt", "rb") as f:
            f.read()
measure(f"open().read() 1 KB x{OBJECTS}", read_small)
measure("listdir", lambda: signed.listdir("small"))

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

# A file on disk: the original's save() needs a seekable file with a size.
import tempfile
from django.core.files import File
with tempfile.NamedTemporaryFile(delete=False) as source_file:
    source = Source()
    while data := source.read(1024 * 1024):
        source_file.write(data)
def save_big():
    with open(source_file.name, "rb") as f:
        signed.save("big.bin", File(f))
transfer(f"save {BIG_MB} MB", save_big)
os.unlink(source_file.name)
first_byte = []
def read_big():
    start = time.perf_counter()
    with signed.open("big.bin", "rb") as f:
        f.read(1)
        first_byte.append(time.perf_counter() - start)
        while f.read(1024 * 1024):
            pass
transfer(f"read {BIG_MB} MB", read_big)
results[f"read {BIG_MB} MB"]["ttfb_ms"] = first_byte[0] * 1000
print("RESULTS " + json.dumps(results))
"""


def ensure_original_venv() -> Path:
    python = BENCH_VENV / "bin" / "python"
    if not python.exists():
        print(f"creating {BENCH_VENV} with {ORIGINAL} ...", flush=True)
        venv.create(BENCH_VENV, with_pip=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", ORIGINAL, "django>=5.2,<6", "cryptography"],
            check=True,
        )
    return python


def run_side(
    python: str, side: str, endpoint: str, bucket: str, sizes: list[int]
) -> dict[str, dict[str, float]]:
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as script:
        script.write(WORKLOAD)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GOOGLE_", "STORAGE_EMULATOR"))}
    env["PYTHONPATH"] = ""
    try:
        output = subprocess.run(
            [python, script.name, side, endpoint, bucket, *map(str, sizes)],
            check=True,
            capture_output=True,
            text=True,
            env=env,
            cwd=tempfile.gettempdir(),
            timeout=1800,
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
    # MB of the big file, url() calls, small objects
    sizes = [16, 500, 50] if args.quick else [256, 10000, 200]
    original_python = str(ensure_original_venv())
    with gcs_server() as server:
        bucket = server.create_bucket()
        ours = run_side(sys.executable, "ours", server.url, bucket, sizes)
        original = run_side(original_python, "original", server.url, bucket, sizes)
    print()
    header = (
        f"{'benchmark':32} {'original':>12} {'ours':>12} {'ratio':>8} {'req orig':>9} {'req ours':>9}  extra"
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
        if "ttfb_ms" in mine:
            extra += f"; first byte ms {theirs.get('ttfb_ms', 0):.0f} -> {mine['ttfb_ms']:.0f}"
        print(
            f"{label:32} {a:>10.3f}{unit:2} {b:>10.3f}{unit:2} {ratio:>7.1f}x "
            f"{int(theirs.get('requests', 0)):>9} {int(mine['requests']):>9}  {extra}"
        )

    def over_floor(side: dict[str, dict[str, float]]) -> float:
        # Each process against its own floor: the machine's load differs between the runs.
        return side["url() signed"]["per_call_us"] / side["RSA floor (sign_bytes)"]["per_call_us"] - 1

    print(
        f"\nsigned url() over the RSA floor: ours {over_floor(ours):+.1%}, original {over_floor(original):+.1%}"
    )
    print(
        "ratio = original / ours (higher is better for ours); requests counted at requests.Session.request."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
