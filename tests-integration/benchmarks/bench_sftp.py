"""SFTP benchmark: a 256 MB round trip through django-storages-sftp and the original 1.14.6.

Run it with ``hatch run bench:sftp`` (or ``python tests-integration/benchmarks/bench_sftp.py``).
It starts OpenSSH's sshd on 127.0.0.1 (with OpenSSH's default connection limits), then for each
implementation uploads and downloads the same amount of data, each direction in a fresh Python
process, and prints throughput and peak RSS above that process's baseline (after Django setup
and the first connection). It also counts the bytes that ``open(name).read(1024)`` then
``close()`` makes the server send, through ``shared/testservers/proxy.py`` (a thumbnailer or a
type sniffer does that over thousands of files). It prints and never asserts.

The original ``django-storages==1.14.6`` and ``paramiko`` are installed from PyPI into their own
virtualenv under ``.bench/`` (both distributions fill the ``storages`` namespace, so the original
runs in a subprocess with that venv's Python). ``--size`` changes the amount (in MiB);
``--quick`` moves 16 MiB for a smoke run; ``--skip-original`` measures only this repository's
provider.
"""

from __future__ import annotations

import sys
from pathlib import Path

import _common
from _common import BENCH, ORIGINAL

ORIGINAL_VENV = BENCH / "sftp-original"
ORIGINAL_REQUIREMENTS = [ORIGINAL, "paramiko>=3.4", "Django>=4.2"]

# The measurement itself runs in a child process: this is its source, used for both
# implementations (the storage API is the same).
WORKLOAD = r"""
import time
from _workload_common import Source, block, config, max_rss_kib, read_through, report, setup_django, write_through

config = config()
setup_django()
from django.core.files.base import File
from storages.backends.sftpstorage import SFTPStorage

size = config["size"]
storage = SFTPStorage(host=config["host"], params=config["params"],
                      known_host_file=config["known_hosts"], root_path=config["root"])
storage.exists("warm-up")  # connect before measuring the baseline
baseline = max_rss_kib()
block()

started = time.perf_counter()
if config["direction"] == "upload":
    if config["streaming_open"]:
        write_through(storage, "bench.bin", size)
    else:
        storage._save("bench.bin", File(Source(size), name="bench.bin"))
    moved = storage.size("bench.bin")
elif config["direction"] == "small-read":
    f = storage.open("bench.bin", "rb")
    moved = len(f.read(1024))
    f.close()
    time.sleep(0.5)  # answers still in flight reach the proxy
elif config["direction"] == "connect":
    moved = 0
else:
    f = storage.open("bench.bin", "rb")
    moved, _ = read_through(f, started)
    f.close()
elapsed = time.perf_counter() - started
peak = max_rss_kib()
storage.close()
report({"bytes": moved, "seconds": elapsed, "rss_above_baseline_kib": peak - baseline})
"""


def main() -> None:
    args = _common.sized_parser(__doc__).parse_args()
    size = _common.size_mib(args)

    from shared.testservers.proxy import cuttable_proxy
    from shared.testservers.sshd import sshd_server

    implementations = [("django-storages-sftp (this repo)", sys.executable, True)]
    if not args.skip_original:
        python = _common.original_python(ORIGINAL_VENV, ORIGINAL_REQUIREMENTS)
        implementations.append(("django-storages 1.14.6 (original)", python, False))

    rows = []
    small_reads: list[tuple[str, int | str]] = []
    with sshd_server() as server, cuttable_proxy(server.port) as proxy:
        # The original reads known_hosts only: list the server under the proxy's port too.
        proxied_known_hosts = Path(server.folder) / "known_hosts_proxy"
        proxied_known_hosts.write_text(f"[{server.host}]:{proxy.port} {server.host_key_line}\n")
        for label, python, streaming_open in implementations:
            root = Path(server.root) / label.split()[0]
            root.mkdir(exist_ok=True)
            for direction in ("upload", "download"):
                config = {
                    "host": server.host,
                    "params": server.params(),
                    "known_hosts": server.known_hosts,
                    "root": str(root),
                    "size": size * 1024 * 1024,
                    "direction": direction,
                    "streaming_open": streaming_open,
                }
                print(f"{label}: {direction} of {size} MiB ...", flush=True)
                rows.append((label, direction, _common.run_worker(python, WORKLOAD, config)))
            # Bytes received for read(1024): a run that reads, less one that only connects.
            received = []
            for direction in ("connect", "small-read"):
                config = {
                    "host": server.host,
                    "params": server.params(port=proxy.port),
                    "known_hosts": str(proxied_known_hosts),
                    "root": str(root),
                    "size": 0,
                    "direction": direction,
                    "streaming_open": streaming_open,
                }
                before = proxy.bytes_to_client
                result = _common.run_worker(python, WORKLOAD, config)
                received.append(proxy.bytes_to_client - before if "error" not in result else -1)
            small_reads.append((label, received[1] - received[0] if min(received) >= 0 else "error"))

    print()
    print(f"{'implementation':36} {'direction':9} {'MB/s':>8} {'peak RSS above baseline':>24}")
    for label, direction, result in rows:
        if "error" in result:
            print(f"{label:36} {direction:9} {'error: ' + result['error']}")
            continue
        print(f"{label:36} {direction:9} {_common.mb_per_s(result):8.1f} {_common.rss_mib(result):21.1f} MiB")
    print()
    print(f"{'implementation':36} {'bytes received for open().read(1024) then close()':>50}")
    for label, received in small_reads:
        shown = f"{received / 1024:.0f} KiB" if isinstance(received, int) else received
        print(f"{label:36} {shown:>50}")


if __name__ == "__main__":
    main()
