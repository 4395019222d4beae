"""FTP benchmark: a 256 MiB round trip through django-storages-ftp, the original 1.14.6, and ftplib.

Run it with ``hatch run bench:ftp`` (or ``python tests-integration/benchmarks/bench_ftp.py``).
It starts pyftpdlib on 127.0.0.1, then for each implementation uploads and downloads the same
amount of data, each direction in a fresh Python process, and prints throughput, peak RSS above
that process's baseline (after Django setup and the first connection), time to first byte of a
read, ``url()`` in µs per call and ``exists()`` in ms per call, with ratios against plain ftplib
(``storbinary``/``retrbinary``, the ceiling) and against the original. It prints and never
asserts.

The original ``django-storages==1.14.6`` is installed from PyPI into its own virtualenv under
``.bench/`` (both distributions fill the ``storages`` namespace, so the original runs in a
subprocess with that venv's Python). ``--size`` changes the amount (in MiB); ``--skip-original``
measures only this repository's provider and ftplib.
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
ORIGINAL_VENV = BENCH / "ftp-original"
ORIGINAL_REQUIREMENTS = ["django-storages==1.14.6", "Django>=4.2"]
#: The original cannot parse "@", ":" or "/" in a password: the benchmark server's is plain.
PASSWORD = "bench-password"

sys.path.insert(0, str(REPO))

# The measurement runs in a child process: this is its source, for all three implementations.
WORKER = r'''
import ftplib, json, os, resource, sys, time

config = json.loads(sys.argv[1])
kind = config["kind"]
MiB = 1024 * 1024
size = config["size"]
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
    def seek(self, position, whence=0):  # the original's _save calls content.open(): seek(0)
        if position == 0 and whence == 0:
            self.left = size
        return size - self.left
    def seekable(self):
        return False
    def close(self):  # the original's _save closes the content
        pass


result = {}
if kind == "ftplib":
    ftp = ftplib.FTP(timeout=30)
    ftp.connect(config["host"], config["port"])
    ftp.login(config["user"], config["password"])
    ftp.cwd(config["folder"])
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    if config["direction"] == "upload":
        ftp.storbinary("STOR bench.bin", Source(), blocksize=256 * 1024)
        moved = ftp.size("bench.bin")
    else:
        moved = 0
        first = []
        def sink(data):
            global moved
            if not first:
                first.append(time.perf_counter() - started)
            moved += len(data)
        ftp.retrbinary("RETR bench.bin", sink, blocksize=256 * 1024)
        result["ttfb_ms"] = first[0] * 1000
    elapsed = time.perf_counter() - started
    ftp.quit()
else:
    import django
    from django.conf import settings
    settings.configure(USE_TZ=True, MEDIA_URL="/media/")
    django.setup()
    from django.core.files.base import File
    from storages.backends.ftp import FTPStorage

    storage = FTPStorage(location=config["location"])
    storage.exists("warm-up")  # connect before measuring the baseline
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    if config["direction"] == "upload":
        if kind == "ours":
            with storage.open("bench.bin", "wb") as f:
                src = Source()
                while chunk := src.read(MiB):
                    f.write(chunk)
            moved = storage.size("bench.bin")
        else:
            storage._save("bench.bin", File(Source(), name="bench.bin"))
            moved = size  # the original's size() parses LIST; not part of the measurement
    else:
        moved = 0
        f = storage.open("bench.bin", "rb")
        chunk = f.read(MiB)
        result["ttfb_ms"] = (time.perf_counter() - started) * 1000
        while chunk:
            moved += len(chunk)
            chunk = f.read(MiB)
        f.close()
    elapsed = time.perf_counter() - started
    if config["direction"] == "download":
        calls = 10000
        t0 = time.perf_counter()
        for _ in range(calls):
            storage.url("folder/some file.bin")
        result["url_us"] = (time.perf_counter() - t0) / calls * 1e6
        calls = 200
        t0 = time.perf_counter()
        for _ in range(calls):
            storage.exists("bench.bin")
        result["exists_ms"] = (time.perf_counter() - t0) / calls * 1000
    if hasattr(storage, "close"):
        storage.close()
    else:
        storage.disconnect()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
result.update({"bytes": moved, "seconds": elapsed, "rss_above_baseline_kib": peak - baseline})
print(json.dumps(result))
'''


def original_python() -> str:
    """The Python of a venv holding the original django-storages (created on first use)."""
    python = ORIGINAL_VENV / "bin" / "python"
    marker = ORIGINAL_VENV / ".installed"
    if not marker.exists():
        print(f"Installing {', '.join(ORIGINAL_REQUIREMENTS)} into {ORIGINAL_VENV} ...", flush=True)
        venv.create(ORIGINAL_VENV, with_pip=True, clear=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", *ORIGINAL_REQUIREMENTS],
            check=True,
        )
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

    from shared.testservers.ftp import ftp_server

    implementations = [
        ("ftplib storbinary/retrbinary", sys.executable, "ftplib"),
        ("django-storages-ftp (this repo)", sys.executable, "ours"),
    ]
    if not args.skip_original:
        implementations.append(("django-storages 1.14.6 (original)", original_python(), "original"))

    results: dict[tuple[str, str], dict[str, Any]] = {}
    with ftp_server(password=PASSWORD) as server:
        for label, python, kind in implementations:
            folder = kind
            (Path(server.root) / folder).mkdir(exist_ok=True)
            for direction in ("upload", "download"):
                config = {
                    "kind": kind,
                    "host": server.host,
                    "port": server.port,
                    "user": server.user,
                    "password": server.password,
                    "folder": folder,
                    # The original needs the port and the trailing slash.
                    "location": f"ftp://{server.user}:{server.password}@{server.host}:{server.port}/{folder}/",
                    "size": args.size * 1024 * 1024,
                    "direction": direction,
                }
                print(f"{label}: {direction} of {args.size} MiB ...", flush=True)
                results[(kind, direction)] = run_worker(python, config)

    def rate(kind: str, direction: str) -> float | None:
        result = results.get((kind, direction), {})
        if "error" in result or "seconds" not in result:
            return None
        return float(result["bytes"]) / float(result["seconds"]) / 1e6

    print()
    header = f"{'implementation':34} {'direction':9} {'MB/s':>7} {'vs ftplib':>9} {'vs 1.14.6':>9} "
    print(header + f"{'peak RSS +MiB':>13} {'TTFB ms':>8} {'url() µs':>9} {'exists() ms':>11}")
    for label, _python, kind in implementations:
        for direction in ("upload", "download"):
            result = results[(kind, direction)]
            if "error" in result:
                print(f"{label:34} {direction:9} error: {result['error']}")
                continue
            mine = rate(kind, direction) or 0.0
            ceiling = rate("ftplib", direction)
            original = rate("original", direction)
            vs_ftplib = f"{mine / ceiling:.2f}x" if ceiling else "-"
            vs_original = f"{mine / original:.2f}x" if original and kind != "original" else "-"
            rss = result["rss_above_baseline_kib"] / 1024
            ttfb = f"{result['ttfb_ms']:.1f}" if "ttfb_ms" in result else "-"
            url = f"{result['url_us']:.2f}" if "url_us" in result else "-"
            exists = f"{result['exists_ms']:.3f}" if "exists_ms" in result else "-"
            print(
                f"{label:34} {direction:9} {mine:7.1f} {vs_ftplib:>9} {vs_original:>9} "
                f"{rss:13.1f} {ttfb:>8} {url:>9} {exists:>11}"
            )


if __name__ == "__main__":
    main()
