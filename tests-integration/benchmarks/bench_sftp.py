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
``--skip-original`` measures only this repository's provider.
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
ORIGINAL_VENV = BENCH / "sftp-original"
ORIGINAL_REQUIREMENTS = ["django-storages==1.14.6", "paramiko>=3.4", "Django>=4.2"]

sys.path.insert(0, str(REPO))

# The measurement itself runs in a child process: this is its source, used for both
# implementations (the storage API is the same).
WORKER = r'''
import json, os, resource, sys, time

config = json.loads(sys.argv[1])
import django
from django.conf import settings
settings.configure(USE_TZ=True, MEDIA_URL="/media/")
django.setup()
from django.core.files.base import File
from storages.backends.sftpstorage import SFTPStorage

MiB = 1024 * 1024
size = config["size"]
storage = SFTPStorage(host=config["host"], params=config["params"],
                      known_host_file=config["known_hosts"], root_path=config["root"])
storage.exists("warm-up")  # connect before measuring the baseline
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
    def seekable(self):
        return False

started = time.perf_counter()
if config["direction"] == "upload":
    if config["streaming_open"]:
        with storage.open("bench.bin", "wb") as f:
            src = Source()
            while chunk := src.read(MiB):
                f.write(chunk)
    else:
        storage._save("bench.bin", File(Source(), name="bench.bin"))
    moved = storage.size("bench.bin")
elif config["direction"] == "small-read":
    f = storage.open("bench.bin", "rb")
    moved = len(f.read(1024))
    f.close()
    time.sleep(0.5)  # answers still in flight reach the proxy
elif config["direction"] == "connect":
    moved = 0
else:
    moved = 0
    f = storage.open("bench.bin", "rb")
    while chunk := f.read(MiB):
        moved += len(chunk)
    f.close()
elapsed = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
storage.close()
print(json.dumps({"bytes": moved, "seconds": elapsed, "rss_above_baseline_kib": peak - baseline}))
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

    from shared.testservers.proxy import cuttable_proxy
    from shared.testservers.sshd import sshd_server

    implementations = [("django-storages-sftp (this repo)", sys.executable, True)]
    if not args.skip_original:
        implementations.append(("django-storages 1.14.6 (original)", original_python(), False))

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
                    "size": args.size * 1024 * 1024,
                    "direction": direction,
                    "streaming_open": streaming_open,
                }
                print(f"{label}: {direction} of {args.size} MiB ...", flush=True)
                rows.append((label, direction, run_worker(python, config)))
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
                result = run_worker(python, config)
                received.append(proxy.bytes_to_client - before if "error" not in result else -1)
            small_reads.append((label, received[1] - received[0] if min(received) >= 0 else "error"))

    print()
    print(f"{'implementation':36} {'direction':9} {'MB/s':>8} {'peak RSS above baseline':>24}")
    for label, direction, result in rows:
        if "error" in result:
            print(f"{label:36} {direction:9} {'error: ' + result['error']}")
            continue
        rate = result["bytes"] / result["seconds"] / 1e6
        rss = result["rss_above_baseline_kib"] / 1024
        print(f"{label:36} {direction:9} {rate:8.1f} {rss:21.1f} MiB")
    print()
    print(f"{'implementation':36} {'bytes received for open().read(1024) then close()':>50}")
    for label, received in small_reads:
        shown = f"{received / 1024:.0f} KiB" if isinstance(received, int) else received
        print(f"{label:36} {shown:>50}")


if __name__ == "__main__":
    main()
