"""``storages.testing.run_threads``: the helper of the providers' concurrency tests."""

from __future__ import annotations

import threading

import pytest

from storages.testing import run_threads


def test_every_index_runs_on_its_own_thread_and_results_come_in_order() -> None:
    names: dict[int, str] = {}

    def work(index: int) -> int:
        names[index] = threading.current_thread().name
        return index * 10

    assert run_threads(work, count=5) == [0, 10, 20, 30, 40]
    assert sorted(names) == [0, 1, 2, 3, 4]
    assert len(set(names.values())) == 5
    assert threading.current_thread().name not in names.values()


def test_the_threads_are_released_together() -> None:
    # Each thread waits for all the others: this finishes only if all run at the same time.
    everyone = threading.Barrier(16)
    arrivals = run_threads(lambda index: everyone.wait(timeout=10), count=16, timeout=30)
    assert sorted(arrivals) == list(range(16))


def test_the_first_error_is_raised_with_the_others_attached() -> None:
    def work(index: int) -> None:
        if index in (1, 3):
            raise KeyError(f"failed in {index}")

    with pytest.raises(KeyError, match="failed in 1") as caught:
        run_threads(work, count=4)
    notes = caught.value.__notes__
    assert notes[0] == "raised in thread 1 of 4"
    assert len(notes) == 2
    assert notes[1].startswith("thread 3 of 4 also raised:")
    assert "KeyError: 'failed in 3'" in notes[1]
    assert "in work" in notes[1], "the other error's traceback is attached"


def test_a_failed_assertion_in_a_thread_fails_the_test() -> None:
    def work(index: int) -> None:
        assert index != 2, "thread two saw the wrong thing"

    with pytest.raises(AssertionError, match="thread two saw the wrong thing"):
        run_threads(work, count=3)


def test_a_thread_still_running_after_the_timeout_is_a_failure() -> None:
    release = threading.Event()

    def work(index: int) -> None:
        if index == 1:
            release.wait(timeout=30)

    try:
        with pytest.raises(
            AssertionError, match=r"1 of 3 threads were still running after 0.2 s: run_threads-1"
        ):
            run_threads(work, count=3, timeout=0.2)
    finally:
        release.set()


def test_at_least_one_thread() -> None:
    with pytest.raises(ValueError, match="count=0"):
        run_threads(lambda index: None, count=0)


def test_mixed_work_passes_on_a_storage_that_keeps_its_word() -> None:
    import uuid

    from memory_provider import MemoryStorage

    from storages.testing import mixed_work

    storage = MemoryStorage(bucket_name=f"mixed-{uuid.uuid4().hex}", file_overwrite=True)
    assert mixed_work(storage, "mixed", seconds=0.5, count=4) > 4


def test_mixed_work_fails_on_a_storage_whose_delete_is_not_seen() -> None:
    import uuid

    from memory_provider import MemoryStorage

    from storages.testing import mixed_work

    class Forgetful(MemoryStorage):
        def delete(self, name: str) -> None:
            """Deletes nothing: a later exists() or listdir() answers for the old file."""

    storage = Forgetful(bucket_name=f"mixed-{uuid.uuid4().hex}", file_overwrite=True)
    with pytest.raises(AssertionError):
        mixed_work(storage, "mixed", seconds=2, count=4)
