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
subprocess with that venv's Python). ``--size`` changes the amount (in MiB); ``--quick`` moves
16 MiB for a smoke run; ``--skip-original`` measures only this repository's provider and ftplib.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import _common
from _common import BENCH, ORIGINAL

ORIGINAL_VENV = BENCH / "ftp-original"
ORIGINAL_REQUIREMENTS = [ORIGINAL, "Django>=4.2"]
#: The original cannot parse "@", ":" or "/" in a password: the benchmark server's is plain.
PASSWORD = "bench-password"

# The measurement runs in a child process: this is its source, for all three implementations.
WORKLOAD = r"""
import ftplib, time
from _workload_common import Source, block, config, max_rss_kib, read_through, report, setup_django, write_through

config = config()
kind = config["kind"]
size = config["size"]
block()

result = {}
if kind == "ftplib":
    ftp = ftplib.FTP(timeout=30)
    ftp.connect(config["host"], config["port"])
    ftp.login(config["user"], config["password"])
    ftp.cwd(config["folder"])
    baseline = max_rss_kib()
    started = time.perf_counter()
    if config["direction"] == "upload":
        ftp.storbinary("STOR bench.bin", Source(size), blocksize=256 * 1024)
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
    setup_django()
    from django.core.files.base import File
    from storages.backends.ftp import FTPStorage

    storage = FTPStorage(location=config["location"])
    storage.exists("warm-up")  # connect before measuring the baseline
    baseline = max_rss_kib()
    started = time.perf_counter()
    if config["direction"] == "upload":
        if kind == "ours":
            write_through(storage, "bench.bin", size)
            moved = storage.size("bench.bin")
        else:
            storage._save("bench.bin", File(Source(size), name="bench.bin"))
            moved = size  # the original's size() parses LIST; not part of the measurement
    else:
        f = storage.open("bench.bin", "rb")
        moved, first = read_through(f, started)
        result["ttfb_ms"] = first * 1000
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
peak = max_rss_kib()
result.update({"bytes": moved, "seconds": elapsed, "rss_above_baseline_kib": peak - baseline})
report(result)
"""


def main() -> None:
    args = _common.sized_parser(__doc__).parse_args()
    size = _common.size_mib(args)

    from shared.testservers.ftp import ftp_server

    implementations = [
        ("ftplib storbinary/retrbinary", sys.executable, "ftplib"),
        ("django-storages-ftp (this repo)", sys.executable, "ours"),
    ]
    if not args.skip_original:
        python = _common.original_python(ORIGINAL_VENV, ORIGINAL_REQUIREMENTS)
        implementations.append(("django-storages 1.14.6 (original)", python, "original"))

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
                    "size": size * 1024 * 1024,
                    "direction": direction,
                }
                print(f"{label}: {direction} of {size} MiB ...", flush=True)
                results[(kind, direction)] = _common.run_worker(python, WORKLOAD, config)

    def rate(kind: str, direction: str) -> float | None:
        result = results.get((kind, direction), {})
        if "error" in result or "seconds" not in result:
            return None
        return _common.mb_per_s(result)

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
            rss = _common.rss_mib(result)
            ttfb = f"{result['ttfb_ms']:.1f}" if "ttfb_ms" in result else "-"
            url = f"{result['url_us']:.2f}" if "url_us" in result else "-"
            exists = f"{result['exists_ms']:.3f}" if "exists_ms" in result else "-"
            print(
                f"{label:34} {direction:9} {mine:7.1f} {vs_ftplib:>9} {vs_original:>9} "
                f"{rss:13.1f} {ttfb:>8} {url:>9} {exists:>11}"
            )


if __name__ == "__main__":
    main()
