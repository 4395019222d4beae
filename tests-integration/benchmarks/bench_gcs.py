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

import sys

import _common
from _common import BENCH

ORIGINAL_VENV = BENCH / "original-1.14.6-gcs"
ORIGINAL_REQUIREMENTS = ["django-storages[google]==1.14.6", "django>=5.2,<6", "cryptography"]

WORKLOAD = r"""
import os, sys, time
from _workload_common import COUNT, big_file, drain, measure, report, results, time_calls, transfer
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
    time_calls("url() signed, signature excluded", signed.url, names)
    signer.sign = real_sign

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

# A file on disk: the original's save() needs a seekable file with a size.
from django.core.files import File
source_file = big_file(BIG_MB)
def save_big():
    with open(source_file, "rb") as f:
        signed.save("big.bin", File(f))
transfer(f"save {BIG_MB} MB", save_big, BIG_MB)
os.unlink(source_file)
first_byte = []
def read_big():
    start = time.perf_counter()
    with signed.open("big.bin", "rb") as f:
        f.read(1)
        first_byte.append(time.perf_counter() - start)
        drain(f)
transfer(f"read {BIG_MB} MB", read_big, BIG_MB)
results[f"read {BIG_MB} MB"]["ttfb_ms"] = first_byte[0] * 1000
report(results)
"""


def main() -> int:
    args = _common.parser(__doc__).parse_args()
    # MB of the big file, url() calls, small objects
    sizes = [16, 500, 50] if args.quick else [256, 10000, 200]
    original_python = _common.original_python(ORIGINAL_VENV, ORIGINAL_REQUIREMENTS)
    env = _common.workload_env(drop=("GOOGLE_", "STORAGE_EMULATOR"))
    from shared.testservers.gcs import gcs_server

    with gcs_server() as server:
        bucket = server.create_bucket()
        ours, original = _common.run_both(
            original_python, WORKLOAD, [server.url, bucket, *sizes], env=env, timeout=1800
        )

    def over_floor(side: _common.Results) -> float:
        # Each process against its own floor: the machine's load differs between the runs.
        return float(side["url() signed"]["per_call_us"] / side["RSA floor (sign_bytes)"]["per_call_us"] - 1)

    floor = (
        f"signed url() over the RSA floor: ours {over_floor(ours):+.1%}, original {over_floor(original):+.1%}"
    )
    _common.print_table(ours, original, width=32, counted="at requests.Session.request", notes=[floor])
    return 0


if __name__ == "__main__":
    sys.exit(main())
