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
``--size`` changes the amount (MiB); ``--quick`` moves 16 MiB for a smoke run;
``--skip-original`` measures only this repository.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import _common
from _common import BENCH, ORIGINAL, REPO

ORIGINAL_VENV = BENCH / "dropbox-original"
ORIGINAL_REQUIREMENTS = [ORIGINAL, "dropbox>=12.0", "Django>=4.2"]

# Runs in a child process, for both implementations (the storage API is the same).
WORKLOAD = r"""
import os, time
from _workload_common import Source, block, config, max_rss_kib, read_through, report, setup_django, write_through

config = config()
host = f"127.0.0.1:{config['port']}"
# The SDK reads its hosts when it is imported.
os.environ.update(DROPBOX_API_HOST=host, DROPBOX_API_CONTENT_HOST=host, DROPBOX_API_NOTIFY_HOST=host)
if not config["ours"]:
    # The original builds its own requests session: trust the fake through the environment.
    os.environ["REQUESTS_CA_BUNDLE"] = config["ca_path"]
setup_django()
from django.core.files.base import File
from storages.backends.dropbox import DropboxStorage

size = config["size"]
options = {"oauth2_access_token": config["token"], "root_path": config["root"], "write_mode": "overwrite"}
if config["ours"]:
    options["ca_certs"] = config["ca_path"]
storage = DropboxStorage(**options)
storage.exists("warm-up")  # connect before measuring the baseline
baseline = max_rss_kib()
block()

result = {}
started = time.perf_counter()
step = config["step"]
if step == "save":
    if config["ours"]:
        write_through(storage, "bench.bin", size)
    else:
        storage._save("bench.bin", File(Source(size), name="bench.bin"))
    result["bytes"] = storage.size("bench.bin")
elif step == "read":
    f = storage.open("bench.bin", "rb")
    moved, first = read_through(f, started)
    f.close()
    result.update(bytes=moved, first_byte=first)
else:
    count = config["calls"]
    for _ in range(count):
        storage.url("bench.bin") if step == "url" else storage.exists("bench.bin")
    result["per_call_us"] = (time.perf_counter() - started) / count * 1e6
result["seconds"] = time.perf_counter() - started
result["rss_above_baseline_kib"] = max_rss_kib() - baseline
report(result)
"""


def main() -> None:
    parser = _common.sized_parser(__doc__, "saved and read")
    parser.add_argument("--calls", type=int, default=200, help="url() and exists() calls (default 200)")
    args = parser.parse_args()

    implementations = [("ours", sys.executable, True)]
    if not args.skip_original:
        implementations.append(
            ("1.14.6", _common.original_python(ORIGINAL_VENV, ORIGINAL_REQUIREMENTS), False)
        )

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
                    "size": _common.size_mib(args) * 1024 * 1024,
                    "calls": args.calls,
                    "step": step,
                    "ours": ours,
                }
                print(f"{label}: {step} ...", flush=True)
                result = _common.run_worker(python, WORKLOAD, config)
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
        ("save MB/s", "save", _common.mb_per_s),
        ("save peak RSS MiB", "save", _common.rss_mib),
        ("read MB/s", "read", _common.mb_per_s),
        ("read first byte ms", "read", lambda r: r["first_byte"] * 1000),
        ("read peak RSS MiB", "read", _common.rss_mib),
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
