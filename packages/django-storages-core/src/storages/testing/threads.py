"""Run the same work on many threads at once, for the concurrency tests of providers.

Each provider suite has a test where 16 threads share one storage. Written by hand, such a test
collects errors in a list, joins with a timeout and asserts the list is empty: a thread that
hangs past the join is never noticed, and only the repr of each error shows, not where it was
raised. :func:`run_threads` does the starting, joining and reporting once::

    from storages.testing import run_threads

    def work(index: int) -> None:
        name = storage.save(f"t{index}.bin", ContentFile(b"x"))
        assert storage.exists(name)

    run_threads(work)  # 16 threads; raises the first error, or fails on a hung thread
"""

from __future__ import annotations

import os
import random
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from django.core.files.storage import Storage

__all__ = ["mixed_work", "run_threads"]

T = TypeVar("T")


def run_threads(work: Callable[[int], T], count: int = 16, timeout: float = 60.0) -> list[T]:
    """Call ``work(0)`` … ``work(count - 1)``, each on its own thread, all released together.

    Returns the results in index order. If any call raised, the first error (in index order) is
    raised again with its own traceback, and every other thread's error is attached to it as a
    note. If a thread is still running ``timeout`` seconds after the start, this fails with
    ``AssertionError`` naming the threads: a hung thread is a failure, never a silent pass.
    """
    if count < 1:
        raise ValueError(f"run_threads needs at least one thread, not count={count}.")
    barrier = threading.Barrier(count)
    results: dict[int, T] = {}
    errors: dict[int, BaseException] = {}

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=timeout)
            results[index] = work(index)
        except BaseException as exc:  # noqa: BLE001 - raised again on the caller's thread
            errors[index] = exc

    threads = [
        threading.Thread(target=run, args=(index,), name=f"run_threads-{index}", daemon=True)
        for index in range(count)
    ]
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    alive = [thread.name for thread in threads if thread.is_alive()]
    if alive:
        raise AssertionError(
            f"{len(alive)} of {count} threads were still running after {timeout:g} s: {', '.join(alive)}"
            + (f"; {len(errors)} others raised, the first: {errors[min(errors)]!r}" if errors else "")
        )
    if errors:
        first_index, *others = sorted(errors)
        first = errors[first_index]
        first.add_note(f"raised in thread {first_index} of {count}")
        for index in others:
            formatted = "".join(traceback.format_exception(errors[index])).rstrip()
            first.add_note(f"thread {index} of {count} also raised:\n{formatted}")
        raise first
    return [results[index] for index in range(count)]


def mixed_work(
    storage: Storage,
    root: str,
    seconds: float = 10.0,
    count: int = 16,
    sizes: Sequence[int] = (10, 5000, 70000),
) -> int:
    """``count`` threads share ``storage`` for ``seconds``, each saving, reading, checking,
    listing and deleting a few files of its own folder below ``root`` in a random (seeded) order,
    and checking every answer against what it wrote last. Returns the number of operations.

    Each thread's folder is its own, so every answer is exact: a read returns the last bytes
    saved under the name, ``exists()`` and ``listdir()`` see exactly the saved, undeleted files.
    The storage must overwrite (a save under a taken name keeps the name).
    """
    from django.core.files.base import ContentFile

    deadline = time.monotonic() + seconds

    def work(index: int) -> int:
        rng = random.Random(index)
        folder = f"{root}/t{index}"
        last: dict[str, bytes] = {}
        done = 0
        while time.monotonic() < deadline:
            name = f"{folder}/f{rng.randrange(4)}.bin"
            action = rng.choice(("save", "save", "read", "exists", "listdir", "delete"))
            if action == "save":
                data = os.urandom(rng.choice(sizes))
                assert storage.save(name, ContentFile(data)) == name, "the storage must overwrite"
                last[name] = data
            elif action == "read" and name in last:
                with storage.open(name, "rb") as f:
                    assert f.read() == last[name], f"{name}: not the bytes saved last"
            elif action == "exists":
                assert storage.exists(name) == (name in last), name
            elif action == "listdir":
                files = set(storage.listdir(folder)[1])
                assert files == {n.rsplit("/", 1)[1] for n in last}, folder
            elif action == "delete":
                storage.delete(name)
                last.pop(name, None)
            done += 1
        return done

    return sum(run_threads(work, count=count, timeout=seconds + 50))
