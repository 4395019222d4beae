"""Dropbox benchmark: django-storages-dropbox beside the original 1.14.6, on one fake Dropbox API.

Run it with ``hatch run bench:dropbox`` (or ``python tests-integration/benchmarks/bench_dropbox.py``).
It starts the repository's fake of the Dropbox API v2 (``python -m shared.testservers.dropbox``,
HTTPS on 127.0.0.1) in its own process, then runs the same workload with each implementation,
each step in a fresh Python process: a 256 MiB save and read (throughput, time to the first
byte of the read, peak RSS above the process's baseline), then ``url()`` and ``exists()`` per
call. It prints a table and the ratios, and never asserts. The fake is a Python server on the
same two cores, so absolute numbers are the fake's as much as the client's; the ratios and
the memory figures are the ones to read.

The original ``django-storages==1.14.6`` and the ``dropbox`` SDK are installed from PyPI into
their own virtualenv under ``.bench/`` (both distributions fill the ``storages`` namespace).
``--size`` changes the amount (MiB); ``--skip-original`` measures only this repository.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import venv
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
BENCH = REPO / ".bench"
ORIGINAL_VENV = BENCH / "dropbox-original"
ORIGINAL_REQUIREMENTS = ["django-storages==1.14.6", "dropbox>=12.0", "Django>=4.2"]

# Runs in a child process, for both implementations (the storage API is the same).
WORKER = r'''
import json, os, resource, sys, time

config = json.loads(sys.argv[1])
host = f"127.0.0.1:{config['port']}"
# The SDK reads its hosts when it is imported.
os.environ.update(DROPBOX_API_HOST=host, DROPBOX_API_CONTENT_HOST=host, DROPBOX_API_NOTIFY_HOST=host)
if not config["ours"]:
    # The original builds its own requests session: trust the fake through the environment.
    os.environ["REQUESTS_CA_BUNDLE"] = config["ca_path"]
import django
from django.conf import settings
settings.configure(USE_TZ=True, MEDIA_URL="/media/")
django.setup()
from django.core.files.base import File
from storages.backends.dropbox import DropboxStorage

MiB = 1024 * 1024
size = config["size"]
options = {"oauth2_access_token": config["token"], "root_path": config["root"], "write_mode": "overwrite"}
if config["ours"]:
    options["ca_certs"] = config["ca_path"]
storage = DropboxStorage(**options)
storage.exists("warm-up")  # connect before measuring the baseline
baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
block = os.urandom(MiB)

class Source:
    """size bytes made on the fly (never all in memory); what the original's _save needs."""
    closed = False
    def __init__(self):
        self.size, self.position = size, 0
    def read(self, n=-1):
        left = self.size - self.position
        n = left if n is None or n < 0 else min(n, left)
        self.position += n
        return (block * (n // MiB + 1))[:n]
    def tell(self):
        return self.position
    def seek(self, offset, whence=0):
        if offset or whence or self.position:
            raise OSError("not seekable")
        return 0
    def seekable(self):
        return False
    def close(self):
        pass

result = {}
started = time.perf_counter()
step = config["step"]
if step == "save":
    if config["ours"]:
        with storage.open("bench.bin", "wb") as f:
            source = Source()
            while chunk := source.read(MiB):
                f.write(chunk)
    else:
        storage._save("bench.bin", File(Source(), name="bench.bin"))
    result["bytes"] = storage.size("bench.bin")
elif step == "read":
    moved, first = 0, None
    f = storage.open("bench.bin", "rb")
    while chunk := f.read(MiB):
        if first is None:
            first = time.perf_counter() - started
        moved += len(chunk)
    f.close()
    result.update(bytes=moved, first_byte=first)
else:
    count = config["calls"]
    for _ in range(count):
        storage.url("bench.bin") if step == "url" else storage.exists("bench.bin")
    result["per_call_us"] = (time.perf_counter() - started) / count * 1e6
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
    parser.add_argument("--size", type=int, default=256, help="MiB saved and read (default 256)")
    parser.add_argument("--calls", type=int, default=200, help="url() and exists() calls (default 200)")
    parser.add_argument("--skip-original", action="store_true", help="do not measure django-storages 1.14.6")
    args = parser.parse_args()

    implementations = [("ours", sys.executable, True)]
    if not args.skip_original:
        implementations.append(("1.14.6", original_python(), False))

    server = subprocess.Popen(
        [sys.executable, "-m", "shared.testservers.dropbox"],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    results: dict[tuple[str, str], dict[str, Any]] = {}
    try:
        assert server.stdout is not None
        fake = json.loads(server.stdout.readline())
        # Step by step, both implementations in turn: a change of load hits both alike. The
        # per-call steps run in both orders (A B B A) and keep each side's best: whichever
        # side runs first against the fresh fake process measured up to 2x slower.
        for step in ("save", "read", "url", "exists"):
            order = implementations if step in ("save", "read") else implementations + implementations[::-1]
            for label, python, ours in order:
                config = {
                    "port": fake["port"],
                    "ca_path": fake["ca_path"],
                    "token": fake["access_token"],
                    "root": f"/bench-{label}",
                    "size": args.size * 1024 * 1024,
                    "calls": args.calls,
                    "step": step,
                    "ours": ours,
                }
                print(f"{label}: {step} ...", flush=True)
                result = run_worker(python, config)
                previous = results.get((label, step))
                if (
                    previous
                    and "per_call_us" in previous
                    and previous["per_call_us"] < result.get("per_call_us", 1e18)
                ):
                    continue
                results[(label, step)] = result
    finally:
        if server.stdin is not None:
            server.stdin.close()  # the fake serves until its standard input closes
        server.wait(timeout=30)

    rows = [
        ("save MB/s", "save", lambda r: r["bytes"] / r["seconds"] / 1e6),
        ("save peak RSS MiB", "save", lambda r: r["rss_above_baseline_kib"] / 1024),
        ("read MB/s", "read", lambda r: r["bytes"] / r["seconds"] / 1e6),
        ("read first byte ms", "read", lambda r: r["first_byte"] * 1000),
        ("read peak RSS MiB", "read", lambda r: r["rss_above_baseline_kib"] / 1024),
        ("url() µs/call", "url", lambda r: r["per_call_us"]),
        ("exists() µs/call", "exists", lambda r: r["per_call_us"]),
    ]
    print()
    print(f"{'measure':22} {'ours':>12} {'1.14.6':>12} {'ours / 1.14.6':>14}")
    for title, step, compute in rows:
        values = []
        for label, _, _ in implementations:
            result = results.get((label, step), {})
            if "error" in result:
                print(f"{title:22} {label}: error: {result['error']}")
                values.append(None)
                continue
            values.append(compute(result))
        while len(values) < 2:
            values.append(None)
        ours_value, original_value = values
        ratio = f"{ours_value / original_value:14.2f}" if ours_value and original_value else f"{'-':>14}"
        shown = [f"{v:12.1f}" if v is not None else f"{'-':>12}" for v in values]
        print(f"{title:22} {shown[0]} {shown[1]} {ratio}")


if __name__ == "__main__":
    main()
