"""What the benchmark workloads share: the code that runs *inside* each side's virtualenv.

This file is not imported by the drivers. ``_common.run_side`` and ``_common.run_worker`` write
a workload (a script held as a string in each ``bench_*.py``) into a fresh temporary folder,
copy this file beside it and run it there with that side's Python (this repository's hatch env,
or the original's venv under ``.bench/``), so ``from _workload_common import ...`` finds it.
A real module rather than a prelude string pasted in front of each workload: ruff reads it,
tracebacks name its own lines, and the workloads keep their line numbers.

It runs under both sides, so it uses the standard library only, and imports Django lazily
(``setup_django``): the ftplib worker of the FTP benchmark measures without Django.

Two styles of workload use it:

- one process per side, many measurements (S3, GCS, Azure): ``measure``, ``transfer`` and
  ``time_calls`` fill ``results``, which ``report`` prints. Each workload counts requests with
  its own hook, adding to ``COUNT[0]`` (``measure`` resets it); memory is the RSS sampled in a
  thread (``PeakRSS``); the data is ``RawSource`` / ``big_file`` and goes to ``Sink`` / ``drain``.
- one process per measurement (SFTP, FTP, Dropbox, libcloud): ``config()`` is the job, memory
  is ``max_rss_kib()`` above a baseline taken before the measured step, the data ``Source``;
  the one result is printed with ``report``.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import resource
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

MiB = 1024 * 1024


def report(results: dict[str, Any]) -> None:
    """The one line the driver reads back."""
    print("RESULTS " + json.dumps(results), flush=True)


# -- one process per side, many measurements -------------------------------------------------

#: Requests since the last ``measure`` began: each workload's hook adds to ``COUNT[0]``.
COUNT = [0]
results: dict[str, dict[str, Any]] = {}


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    return 0.0


def release_free_memory() -> None:
    """Give freed memory back to the system (glibc's ``malloc_trim``), so that a transfer's peak
    RSS above its start is its own cost: without it, one that follows another in the same process
    reuses the memory the first one freed and looks cheaper than it is."""
    import ctypes
    import ctypes.util
    import gc

    gc.collect()
    name = ctypes.util.find_library("c")
    if name:
        trim = getattr(ctypes.CDLL(name), "malloc_trim", None)
        if trim is not None:
            trim(0)


class PeakRSS:
    """The highest RSS while the block runs, sampled every 10 ms (``peak - base`` is the cost).

    Freed memory is given back to the system first (``release_free_memory``)."""

    def __enter__(self) -> PeakRSS:
        release_free_memory()
        self.base, self.peak, self.done = rss_mb(), rss_mb(), False

        def watch() -> None:
            while not self.done:
                self.peak = max(self.peak, rss_mb())
                time.sleep(0.01)

        self.thread = threading.Thread(target=watch, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.done = True
        self.thread.join()
        self.peak = max(self.peak, rss_mb())


def measure(label: str, fn: Callable[[], object], rounds: int = 1) -> None:
    """Time ``fn()`` and count its requests; with ``rounds``, keep the round of least client CPU
    (the least disturbed one, as ``timeit`` takes the best of its repeats)."""
    best: dict[str, Any] | None = None
    for _ in range(rounds):
        COUNT[0] = 0
        cpu, start = time.thread_time(), time.perf_counter()
        fn()
        # Client CPU of the calling thread: what the library costs, whatever the server and the load do.
        run = {"seconds": time.perf_counter() - start, "requests": COUNT[0], "cpu": time.thread_time() - cpu}
        if best is None or run["cpu"] < best["cpu"]:
            best = run
    results[label] = best


def time_calls(label: str, fn: Callable[[str], object], names: list[str], rounds: int = 3) -> None:
    """``fn(name)`` for each name: the time per call of the fastest of ``rounds`` passes, as
    ``timeit`` reports (requests are not counted: shown as 0)."""
    elapsed = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for name in names:
            fn(name)
        elapsed = min(elapsed, time.perf_counter() - start)
    results[label] = {"seconds": elapsed, "per_call_us": elapsed / len(names) * 1e6, "requests": 0}


def transfer(label: str, fn: Callable[[], object], mb: int) -> None:
    """``measure`` of moving ``mb`` MB, with the throughput and the peak RSS above the start."""
    with PeakRSS() as rss:
        measure(label, fn)
    results[label]["mb_per_s"] = mb / results[label]["seconds"]
    results[label]["peak_rss_mb"] = rss.peak - rss.base


def transfer_round(label: str, fn: Callable[[], object], mb: int) -> dict[str, Any]:
    """One round of alternated transfers: measured as ``transfer``, returned, not kept in results."""
    transfer(label, fn, mb)
    return results.pop(label)


def median(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run of median time (the upper one of an even count)."""
    return sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]


def record_load() -> None:
    results["load average"] = {"seconds": 0, "requests": 0, "load": [round(x, 1) for x in os.getloadavg()]}


#: 1 MiB of fixed bytes: what ``RawSource`` streams and ``big_file`` writes.
PATTERN = hashlib.sha256(b"bench").digest() * (MiB // 32)


class RawSource(io.RawIOBase):
    """``mb`` MB of ``PATTERN``, produced on the fly; wrap it in ``io.BufferedReader``."""

    def __init__(self, mb: int) -> None:
        self.left = mb * MiB

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = min(len(buffer), self.left, len(PATTERN))
        buffer[:n] = PATTERN[:n]
        self.left -= n
        return n


class Sink(io.RawIOBase):
    """A writable file that drops what it is given."""

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        return len(b)


def big_file(mb: int) -> str:
    """A temporary file of ``mb`` MB of ``PATTERN`` (for a save that wants a file with a size)."""
    with tempfile.NamedTemporaryFile(delete=False) as f:
        for _ in range(mb):
            f.write(PATTERN)
    return f.name


def drain(f: Any) -> None:
    while f.read(MiB):
        pass


# -- one process per measurement ------------------------------------------------------------


def config() -> dict[str, Any]:
    """The job, given by the driver as JSON in the first argument."""
    return dict(json.loads(sys.argv[1]))


def setup_django(**settings: Any) -> None:
    import django
    from django.conf import settings as django_settings

    django_settings.configure(USE_TZ=True, MEDIA_URL="/media/", **settings)
    django.setup()


def max_rss_kib() -> int:
    """The process's peak RSS so far (``ru_maxrss``, KiB): take one before and one after."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


@functools.cache
def block() -> bytes:
    """The 1 MiB of random bytes that ``Source`` repeats, made on the first call: a worker calls
    it where the megabyte is to count (before its RSS baseline or after it), as it always did."""
    return os.urandom(MiB)


class Source:
    """``size`` bytes of random data produced on the fly (never all in memory).

    A file-like object for a storage's ``_save`` (alone or in a Django ``File``): it reads,
    iterates in 1 MiB chunks (the libcloud original uploads ``iter(content)``), tells, has a
    ``size`` (Django's ``File.size``) and closes as a no-op (the FTP and Dropbox originals
    close the content). It is not seekable; rewinding before the first read is allowed, for
    ``File.open()`` (the FTP and Dropbox originals call it).
    """

    closed = False

    def __init__(self, size: int) -> None:
        self.size, self.position = size, 0

    def read(self, n: int | None = -1) -> bytes:
        left = self.size - self.position
        n = left if n is None or n < 0 else min(n, left)
        self.position += n
        data = block()
        return (data * (n // MiB + 1))[:n] if n > MiB else data[:n]

    def __iter__(self) -> Iterator[bytes]:
        while chunk := self.read(MiB):
            yield chunk

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = 0) -> int:
        if offset or whence or self.position:
            raise OSError("not seekable")
        return 0

    def seekable(self) -> bool:
        return False

    def close(self) -> None:
        pass


def write_through(storage: Any, name: str, size: int) -> None:
    """Streams ``size`` bytes of ``Source`` into ``storage.open(name, "wb")`` in 1 MiB writes."""
    with storage.open(name, "wb") as f:
        for chunk in Source(size):
            f.write(chunk)


def read_through(f: Any, started: float) -> tuple[int, float]:
    """Reads ``f`` to its end in 1 MiB chunks: the bytes read, and the seconds from ``started``
    to the end of the first read (the time to the first byte)."""
    chunk = f.read(MiB)
    first = time.perf_counter() - started
    moved = 0
    while chunk:
        moved += len(chunk)
        chunk = f.read(MiB)
    return moved, first
