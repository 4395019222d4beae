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
iterated line by line). ``--size`` changes the amount (MiB); ``--quick`` moves 16 MiB for a smoke
run; ``--skip-original`` measures only ours.
"""

from __future__ import annotations

import os
import sys
import tempfile
from typing import Any

import _common
from _common import BENCH, ORIGINAL

ORIGINAL_VENV = BENCH / "libcloud-original"
ORIGINAL_REQUIREMENTS = [ORIGINAL, "apache-libcloud>=3.8,<4", "fasteners", "Django>=4.2"]

WORKLOAD = r"""
import functools, time
from _workload_common import Source, block, config, max_rss_kib, read_through, report, setup_django, write_through

config = config()
entry = config["entry"]
if config["original"] and "host" in entry:
    # The original passes only region/project to the driver: default the S3 driver's endpoint.
    from libcloud.storage.drivers.s3 import S3StorageDriver
    S3StorageDriver.__init__ = functools.partialmethod(
        S3StorageDriver.__init__, host=entry["host"], port=entry["port"], secure=False)
setup_django(LIBCLOUD_PROVIDERS={"default": entry})
from storages.backends.apache_libcloud import LibCloudStorage

size = config["size"]
storage = LibCloudStorage() if config["original"] else LibCloudStorage(base_url=config.get("base_url"))
storage.exists("warm-up")  # create the driver before measuring the baseline
baseline = max_rss_kib()
block()

result = {}
started = time.perf_counter()
if config["direction"] == "upload":
    if config["original"]:
        # Its _save() uploads iter(content): given a Django File that is one line at a time, and
        # libcloud's S3 driver joins them into 5 MiB parts by repeated concatenation (quadratic:
        # hours for 256 MiB). Source iterates in 1 MiB chunks, the original's best case.
        storage._save("bench.bin", Source(size))
    else:
        write_through(storage, "bench.bin", size)
    result["bytes"] = storage.size("bench.bin")
elif config["direction"] == "download":
    f = storage.open("bench.bin", "rb")
    result["bytes"], first = read_through(f, started)
    result["first_byte_ms"] = first * 1000
    f.close()
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
result["rss_above_baseline_kib"] = max_rss_kib() - baseline
report(result)
"""


def main() -> None:
    args = _common.sized_parser(__doc__).parse_args()

    from libcloud.storage.drivers.s3 import S3StorageDriver

    from shared.testservers.moto import moto_server

    implementations = [("django-storages-libcloud (this repo)", sys.executable, False)]
    if not args.skip_original:
        python = _common.original_python(ORIGINAL_VENV, ORIGINAL_REQUIREMENTS)
        implementations.append(("django-storages 1.14.6 (original)", python, True))

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
                        "size": _common.size_mib(args) * 1024 * 1024,
                        "direction": direction,
                        "base_url": "http://127.0.0.1:8000/media" if driver == "LOCAL" else None,
                    }
                    print(f"{label}: {driver} {direction} ...", flush=True)
                    rows.append((label, driver, direction, _common.run_worker(python, WORKLOAD, config)))

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
        rate, rss = _common.mb_per_s(result), _common.rss_mib(result)
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
            speed = _common.mb_per_s(ours) / _common.mb_per_s(theirs)
            rss = max(ours["rss_above_baseline_kib"], 1) / max(theirs["rss_above_baseline_kib"], 1)
            print(f"  {driver:6} {direction:9} throughput x{speed:.2f}, peak RSS x{rss:.2f}")
        ours, theirs = by_key.get((False, driver, "calls")), by_key.get((True, driver, "calls"))
        if ours and theirs and "error" not in ours and "error" not in theirs:
            if isinstance(ours["url_us"], float) and isinstance(theirs["url_us"], float):
                print(f"  {driver:6} url()     x{ours['url_us'] / theirs['url_us']:.3f}")
            print(f"  {driver:6} exists()  x{ours['exists_ms'] / theirs['exists_ms']:.2f}")


if __name__ == "__main__":
    main()
