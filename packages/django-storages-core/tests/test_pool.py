"""``storages.pool.ConnectionPool`` with real threads and fake connections (no network)."""

from __future__ import annotations

import os
import threading
import time
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from storages.pool import ConnectionPool, PoolTimeoutError


class FakeConnection:
    def __init__(self, number: int) -> None:
        self.number = number
        self.alive = True
        self.closed = False
        self.user: int | None = None  # the thread using it, to catch sharing

    def __repr__(self) -> str:
        return f"<FakeConnection {self.number}>"


class FakeServer:
    """Hands out fake connections and counts how many are open at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.made: list[FakeConnection] = []
        self.open = 0
        self.max_open = 0
        self.connect_delay = 0.0
        self.failures = 0
        self.errors: list[str] = []
        self.connect_gate: threading.Event | None = None

    def connect(self) -> FakeConnection:
        with self.lock:
            if self.failures:
                self.failures -= 1
                raise OSError("connection refused")
            # The socket exists while the handshake runs: count it from here.
            self.open += 1
            self.max_open = max(self.max_open, self.open)
            connection = FakeConnection(len(self.made))
            self.made.append(connection)
        if self.connect_gate is not None:
            self.connect_gate.wait(timeout=10)
        time.sleep(self.connect_delay)
        return connection

    def is_alive(self, connection: FakeConnection) -> bool:
        return connection.alive and not connection.closed

    def close(self, connection: FakeConnection) -> None:
        with self.lock:
            if connection.closed:
                self.errors.append(f"{connection!r} closed twice")
            connection.closed = True
            self.open -= 1

    def pool(self, **options: Any) -> ConnectionPool[FakeConnection]:
        return ConnectionPool(self.connect, self.is_alive, self.close, **options)


@pytest.fixture
def server() -> Iterator[FakeServer]:
    server = FakeServer()
    yield server
    assert server.errors == []


def run_threads(count: int, target: Any) -> list[BaseException]:
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            target(index)
        except BaseException as exc:  # noqa: BLE001 - reported by the caller
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
        assert not thread.is_alive(), "a thread is stuck"
    return errors


# -- the bound --------------------------------------------------------------------------------


def test_sixteen_threads_never_open_more_than_max_size(server: FakeServer) -> None:
    server.connect_delay = 0.01
    pool = server.pool(max_size=4, max_idle=4, wait_timeout=30)
    barrier = threading.Barrier(16)

    def work(index: int) -> None:
        barrier.wait(timeout=10)
        for _ in range(20):
            connection = pool.take()
            assert connection.user is None, f"{connection!r} handed to two threads"
            connection.user = index
            time.sleep(0.001)
            connection.user = None
            pool.give_back(connection)

    assert run_threads(16, work) == []
    assert server.max_open == 4  # the bound was reached, and never passed
    assert len(pool) == server.open <= 4


def test_bound_counts_connections_being_closed(server: FakeServer) -> None:
    # A discard frees its slot only once close() returned: no new socket meanwhile.
    closing = threading.Event()
    release = threading.Event()
    original_close = server.close

    def slow_close(connection: FakeConnection) -> None:
        closing.set()
        release.wait(timeout=10)
        original_close(connection)

    server.close = slow_close  # type: ignore[method-assign]
    pool = server.pool(max_size=1, wait_timeout=5)
    first = pool.take()
    discarding = threading.Thread(target=pool.discard, args=(first,))
    discarding.start()
    assert closing.wait(timeout=5)
    got: list[FakeConnection] = []
    taker = threading.Thread(target=lambda: got.append(pool.take()))
    taker.start()
    taker.join(timeout=0.3)
    assert got == []  # still waiting: the closing connection holds the only slot
    release.set()
    discarding.join(timeout=5)
    taker.join(timeout=5)
    assert [c.number for c in got] == [1]
    assert server.max_open == 1


def test_take_waits_until_another_thread_gives_back(server: FakeServer) -> None:
    pool = server.pool(max_size=1, wait_timeout=10)
    held = pool.take()
    got: list[FakeConnection] = []
    waiter = threading.Thread(target=lambda: got.append(pool.take()))
    waiter.start()
    waiter.join(timeout=0.3)
    assert waiter.is_alive() and got == []  # blocked while the only connection is in use
    pool.give_back(held)
    waiter.join(timeout=5)
    assert got == [held]
    assert len(server.made) == 1


def test_take_times_out_with_a_clear_error(server: FakeServer) -> None:
    pool = server.pool(
        max_size=2,
        wait_timeout=0.2,
        option_hint="the 'max_connections' option (FTP_STORAGE_MAX_CONNECTIONS)",
        name="the FTP storage's connections",
    )
    pool.take()
    pool.take()
    started = time.monotonic()
    with pytest.raises(PoolTimeoutError) as raised:
        pool.take()
    assert time.monotonic() - started >= 0.2
    assert isinstance(raised.value, TimeoutError)
    message = str(raised.value)
    assert "Waited 0.2 seconds for a connection from the FTP storage's connections" in message
    assert "all 2 are in use (2 by callers" in message
    assert "Raise the 'max_connections' option (FTP_STORAGE_MAX_CONNECTIONS)" in message
    assert (raised.value.in_use, raised.value.max_size) == (2, 2)
    assert len(server.made) == 2


# -- idle connections -------------------------------------------------------------------------


def test_idle_connection_is_reused(server: FakeServer) -> None:
    pool = server.pool()
    first = pool.take()
    pool.give_back(first)
    assert pool.take() is first
    assert len(server.made) == 1


def test_idle_connection_older_than_max_idle_time_is_closed(server: FakeServer) -> None:
    pool = server.pool(max_idle_time=0.3)
    first = pool.take()
    pool.give_back(first)
    time.sleep(0.4)
    second = pool.take()
    assert second is not first
    assert first.closed
    assert len(pool) == 1


def test_dead_idle_connection_is_not_handed_out(server: FakeServer) -> None:
    pool = server.pool()
    first, second = pool.take(), pool.take()
    pool.give_back(first)
    pool.give_back(second)
    first.alive = second.alive = False  # the server dropped both while they were idle
    third = pool.take()
    assert third not in (first, second)
    assert first.closed and second.closed
    assert len(pool) == 1


def test_liveness_check_that_raises_counts_as_dead(server: FakeServer) -> None:
    def broken_check(connection: FakeConnection) -> bool:
        raise EOFError("the server hung up during NOOP")

    pool = ConnectionPool(server.connect, broken_check, server.close)
    first = pool.take()
    pool.give_back(first)
    assert pool.take() is not first
    assert first.closed


def test_at_most_max_idle_connections_are_kept(server: FakeServer) -> None:
    pool = server.pool(max_idle=2)
    connections = [pool.take() for _ in range(3)]
    for connection in connections:
        pool.give_back(connection)
    assert len(pool) == 2
    assert [c.closed for c in connections] == [True, False, False]  # the oldest idle one went


# -- failures ---------------------------------------------------------------------------------


def test_connect_failure_frees_the_slot(server: FakeServer) -> None:
    pool = server.pool(max_size=1, wait_timeout=0.2)
    server.failures = 1
    with pytest.raises(OSError, match="connection refused"):
        pool.take()
    assert len(pool) == 0
    assert pool.take().number == 0  # the only slot is free again: no PoolTimeoutError


def test_connect_runs_outside_the_lock(server: FakeServer) -> None:
    pool = server.pool()
    held = pool.take()
    server.connect_gate = threading.Event()
    slow = threading.Thread(target=pool.take)  # connects, and stays stuck in connect()
    slow.start()
    try:

        def give_back_and_take_again() -> None:
            pool.give_back(held)
            pool.give_back(pool.take())

        quick = threading.Thread(target=give_back_and_take_again)
        quick.start()
        quick.join(timeout=2)
        assert not quick.is_alive(), "giving back waited for another thread's connect()"
    finally:
        server.connect_gate.set()
        slow.join(timeout=5)


def test_discard_closes_and_frees_the_slot(server: FakeServer) -> None:
    pool = server.pool(max_size=1, wait_timeout=0.2)
    first = pool.take()
    pool.discard(first)
    assert first.closed
    assert len(pool) == 0
    assert pool.take() is not first


def test_context_manager_gives_back_or_discards(server: FakeServer) -> None:
    pool = server.pool()
    with pool.connection() as first:
        pass
    assert not first.closed and len(pool) == 1

    # An answer such as "no such file" leaves the session usable: given back.
    with pytest.raises(FileNotFoundError), pool.connection(discard_on=(EOFError,)) as same:
        raise FileNotFoundError("missing.txt")
    assert same is first
    assert server.open == 1

    with pytest.raises(EOFError), pool.connection(discard_on=(EOFError,)) as broken:
        raise EOFError("the server hung up")
    assert broken is first
    assert server.open == len(pool) == 0

    with pytest.raises(KeyboardInterrupt), pool.connection() as interrupted:
        raise KeyboardInterrupt
    assert interrupted.closed  # stopped midway: the session state is unknown
    assert len(pool) == 0


# -- close ------------------------------------------------------------------------------------


def test_close_closes_idle_now_and_in_use_when_given_back(server: FakeServer) -> None:
    pool = server.pool()
    idle, in_use = pool.take(), pool.take()
    pool.give_back(idle)
    pool.close()
    assert [idle.closed, in_use.closed] == [True, False]
    assert len(pool) == 1
    pool.give_back(in_use)
    assert [idle.closed, in_use.closed] == [True, True]
    assert len(pool) == 0
    fresh = pool.take()  # the pool stays usable
    assert fresh not in (idle, in_use) and not fresh.closed


# -- fork -------------------------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork() is POSIX only")
def test_child_after_fork_gets_a_fresh_connection(server: FakeServer) -> None:
    pool = server.pool()
    parents = pool.take()
    pool.give_back(parents)
    with warnings.catch_warnings():
        # Python 3.12 warns about fork() in a process with threads (other tests' servers).
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through its exit code
        code = 1
        try:
            hook_ran = pool._pid == os.getpid()  # reset by the at-fork hook, before any call
            childs = pool.take()
            if childs is not parents and childs.number == 1 and not parents.closed:
                code = 0 if hook_ran else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    assert code != 1, "the child reused or closed the parent's connection"
    assert code == 0, "the at-fork hook did not reset the pool in the child"
    assert pool.take() is parents  # the parent still has its own


def test_fork_that_skipped_the_hooks_is_noticed_by_the_pid(server: FakeServer) -> None:
    # Forks made from C code (some servers' workers) do not run Python's at-fork hooks.
    pool = server.pool()
    parents = pool.take()
    pool.give_back(parents)
    pool._pid = -1  # as a child process sees it: the pool was created under another pid
    childs = pool.take()
    assert childs is not parents
    assert not parents.closed  # never closed: its socket belongs to the parent
    pool.give_back(parents)  # a connection from before the fork is left alone
    assert not parents.closed and len(pool) == 1


def test_invalid_sizes_are_refused(server: FakeServer) -> None:
    with pytest.raises(ValueError, match="max_size must be at least 1"):
        server.pool(max_size=0)
    with pytest.raises(ValueError, match="max_idle must be 0 or more"):
        server.pool(max_idle=-1)
