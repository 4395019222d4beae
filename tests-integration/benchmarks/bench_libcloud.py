"""Apache Libcloud benchmark: a 256 MiB round trip through django-storages-libcloud and the original.

Run it with ``hatch run bench:libcloud`` (or ``python tests-integration/benchmarks/bench_libcloud.py``).
For two libcloud drivers, LOCAL on a temporary folder and S3 against moto on 127.0.0.1, and for
each implementation, it uploads and downloads the same amount of data, each in a fresh Python
process, and prints throughput, peak RSS above that process's baseline (after Django setup and
the driver's creation), the time to the first byte of a read, and the cost of ``url()`` and
``exists()`` per call. It prints and never asserts.

The original ``django-storages==1.14.6`` runs in its own virtualenv under ``.bench/`` (both
distributions fill the ``storages`` namespace). It passes only ``region`` and ``project`` to the
driver, so it cannot be pointed at a local S3 server: its worker gives libcloud's S3 driver the
server's host and port as defaults instead (the same server, the same driver). It reads a whole
object into memory, and on the S3 driver only the first chunk of it: the bytes column shows
what it returned. Its uploads are given 1 MiB chunks (its best case: a Django ``File`` is
iterated line by line). ``--size`` changes the amount (MiB); ``--skip-original`` measures only ours.
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
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
BENCH = REPO / ".bench"
ORIGINAL_VENV = BENCH / "libcloud-original"
ORIGINAL_REQUIREMENTS = ["django-storages==1.14.6", "apache-libcloud>=3.8,<4", "fasteners", "Django>=4.2"]

sys.path.insert(0, str(REPO))

WORKER = r'''
import functools, json, os, resource, sys, time

config = json.loads(sys.argv[1])
entry = config["entry"]
if config["original"] and "host" in entry:
    # The original passes only region/project to the driver: default the S3 driver's endpoint.
    from libcloud.storage.drivers.s3 import S3StorageDriver
    S3StorageDriver.__init__ = functools.partialmethod(
        S3StorageDriver.__init__, host=entry["host"], port=entry["port"], secure=False)
import django
from django.conf import settings
settings.configure(USE_TZ=True, MEDIA_URL="/media/", LIBCLOUD_PROVIDERS={"default": entry})
django.setup()
from django.core.files.base import File
from storages.backends.apache_libcloud import LibCloudStorage

MiB = 1024 * 1024
size = config["size"]
storage = LibCloudStorage() if config["original"] else LibCloudStorage(base_url=config.get("base_url"))
storage.exists("warm-up")  # create the driver before measuring the baseline
baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
block = os.urandom(MiB)

class Source:
    """size bytes of data, produced on the fly (never all in memory)."""
    closed = False
    def __init__(self):
        self.left = size
    def read(self, n=-1):
        n = self.left if n is None or n < 0 else min(n, self.left)
        out = (block * (n // MiB + 1))[:n] if n > MiB else block[:n]
        self.left -= n
        return out
    def __iter__(self):
        while chunk := self.read(MiB):
            yield chunk
    def seekable(self):
        return False

result = {}
started = time.perf_counter()
if config["direction"] == "upload":
    if config["original"]:
        # Its _save() uploads iter(content): given a Django File that is one line at a time, and
        # libcloud's S3 driver joins them into 5 MiB parts by repeated concatenation (quadratic:
        # hours for 256 MiB). Source iterates in 1 MiB chunks, the original's best case.
        storage._save("bench.bin", Source())
    else:
        with storage.open("bench.bin", "wb") as f:
            for chunk in Source():
                f.write(chunk)
    result["bytes"] = storage.size("bench.bin")
elif config["direction"] == "download":
    moved = 0
    f = storage.open("bench.bin", "rb")
    first = f.read(MiB)
    result["first_byte_ms"] = (time.perf_counter() - started) * 1000
    moved = len(first)
    while chunk := f.read(MiB):
        moved += len(chunk)
    f.close()
    result["bytes"] = moved
else:
    calls = 200
    try:
        storage.url("bench.bin")
        t = time.perf_counter()
        for _ in range(calls):
            storage.url("bench.bin")
        result["url_us"] = (time.perf_counter() - t) / calls * 1e6
    except Exception as exc:
        result["url_us"] = f"{type(exc).__name__}"
    t = time.perf_counter()
    for _ in range(calls):
        storage.exists("bench.bin")
    result["exists_ms"] = (time.perf_counter() - t) / calls * 1000
    result["bytes"] = 0
result["seconds"] = time.perf_counter() - started
result["rss_above_baseline_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - baseline
print(json.dumps(result))
'''


def original_python() -> str:
    """The Python of a venv holding the original django-storages (created on first use)."""
    python = ORIGINAL_VENV / "bin" / "python"
    marker = ORIGINAL_VENV / ".installed"
    if not marker.exists():
        print(f"Installing {', '.join(ORIGINAL_REQUIREMENTS)} into {ORIGINAL_VENV} ...", flush=True)
        venv.create(ORIGINAL_VENV, with_pip=True, clear=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", *ORIGINAL_REQUIREMENTS], check=True)
        marker.write_text("\n".join(ORIGINAL_REQUIREMENTS))
    return str(python)


def run_worker(python: str, config: dict[str, Any]) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        [python, "-c", WORKER, json.dumps(config)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=1800,
    )
    if result.returncode != 0:
        return {"error": result.stderr.strip().splitlines()[-1] if result.stderr else "failed"}
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=256, help="MiB moved each way (default 256)")
    parser.add_argument("--skip-original", action="store_true", help="do not measure django-storages 1.14.6")
    args = parser.parse_args()

    from libcloud.storage.drivers.s3 import S3StorageDriver

    from shared.testservers.moto import moto_server

    implementations = [("django-storages-libcloud (this repo)", sys.executable, False)]
    if not args.skip_original:
        implementations.append(("django-storages 1.14.6 (original)", original_python(), True))

    rows: list[tuple[str, str, str, dict[str, Any]]] = []
    with tempfile.TemporaryDirectory(prefix="storages-bench-libcloud-") as root, moto_server() as endpoint:
        port = int(endpoint.rsplit(":", 1)[1])
        s3 = S3StorageDriver("bench", "bench-secret", host="127.0.0.1", port=port, secure=False)
        for label, python, original in implementations:
            tag = "original" if original else "ours"
            os.mkdir(os.path.join(root, tag))
            s3.create_container(f"bench-{tag}")
            drivers = {
                "LOCAL": {
                    "type": "libcloud.storage.types.Provider.LOCAL",
                    "user": root,
                    "key": "",
                    "bucket": tag,
                },
                "S3": {
                    "type": "libcloud.storage.types.Provider.S3",
                    "user": "bench",
                    "key": "bench-secret",
                    "bucket": f"bench-{tag}",
                    "region": "us-east-1",
                    "host": "127.0.0.1",
                    "port": port,
                    "secure": False,
                },
            }
            for driver, entry in drivers.items():
                if original:
                    entry = {k: v for k, v in entry.items() if k != "secure"}
                for direction in ("upload", "download", "calls"):
                    config = {
                        "entry": entry,
                        "original": original,
                        "size": args.size * 1024 * 1024,
                        "direction": direction,
                        "base_url": "http://127.0.0.1:8000/media" if driver == "LOCAL" else None,
                    }
                    print(f"{label}: {driver} {direction} ...", flush=True)
                    rows.append((label, driver, direction, run_worker(python, config)))

    print()
    print(
        f"{'implementation':38} {'driver':6} {'direction':9} {'MB/s':>8} {'MiB moved':>10} {'peak RSS':>12} {'first byte':>11}"
    )
    for label, driver, direction, result in rows:
        if "error" in result:
            print(f"{label:38} {driver:6} {direction:9} error: {result['error']}")
            continue
        if direction == "calls":
            url = result["url_us"]
            url_text = f"{url:.1f} µs" if isinstance(url, float) else url
            print(f"{label:38} {driver:6} url() {url_text}, exists() {result['exists_ms']:.2f} ms per call")
            continue
        rate = result["bytes"] / result["seconds"] / 1e6
        rss = result["rss_above_baseline_kib"] / 1024
        first = f"{result['first_byte_ms']:.1f} ms" if "first_byte_ms" in result else ""
        moved = result["bytes"] / 1024 / 1024
        print(f"{label:38} {driver:6} {direction:9} {rate:8.1f} {moved:10.1f} {rss:8.1f} MiB {first:>11}")

    by_key = {
        (original, driver, direction): result
        for (label, driver, direction, result) in rows
        for original in [label.endswith("(original)")]
    }
    print()
    print(
        "ratios, this repo / original (throughput: higher is better; RSS, url(), exists(): lower is better)"
    )
    for driver in ("LOCAL", "S3"):
        for direction in ("upload", "download"):
            ours, theirs = by_key.get((False, driver, direction)), by_key.get((True, driver, direction))
            if not ours or not theirs or "error" in ours or "error" in theirs:
                continue
            speed = (ours["bytes"] / ours["seconds"]) / (theirs["bytes"] / theirs["seconds"])
            rss = max(ours["rss_above_baseline_kib"], 1) / max(theirs["rss_above_baseline_kib"], 1)
            print(f"  {driver:6} {direction:9} throughput x{speed:.2f}, peak RSS x{rss:.2f}")
        ours, theirs = by_key.get((False, driver, "calls")), by_key.get((True, driver, "calls"))
        if ours and theirs and "error" not in ours and "error" not in theirs:
            if isinstance(ours["url_us"], float) and isinstance(theirs["url_us"], float):
                print(f"  {driver:6} url()     x{ours['url_us'] / theirs['url_us']:.3f}")
            print(f"  {driver:6} exists()  x{ours['exists_ms'] / theirs['exists_ms']:.2f}")


if __name__ == "__main__":
    main()
