"""A thread-safe pool of connections, shared by the connection-based providers (SFTP, FTP).

The pool owns no SDK: a provider passes three callables (open a connection, tell whether one
still works, close one) and the pool decides when to call them. A connection is used by one
thread at a time (paramiko's ``SFTPClient`` and ``ftplib.FTP`` are not safe for concurrent
requests): a caller takes one, uses it alone and gives it back.

What the pool guarantees:

* With ``max_size``, never more than that many connections exist at once, counting those
  being opened and closed; :meth:`ConnectionPool.take` waits for one to be given back and
  raises :class:`PoolTimeoutError` after ``wait_timeout`` seconds.
* Connecting, liveness checks and closing happen outside the pool's lock: a slow server never
  blocks the threads that give connections back.
* An idle connection is checked with ``is_alive`` before it is handed out, and closed instead
  of reused when it sat idle longer than ``max_idle_time`` (servers drop idle sessions).
* After :func:`os.fork`, the child never uses the parent's connections: their sockets are
  shared with the parent, and one request from each process would corrupt both sessions. The
  child forgets them without closing them (a polite close would send bytes on the parent's
  session) and opens its own.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

__all__ = ["ConnectionPool", "PoolTimeoutError"]

logger = logging.getLogger("storages.pool")

C = TypeVar("C")


class PoolTimeoutError(TimeoutError):
    """No connection became free within the pool's ``wait_timeout``.

    A :class:`TimeoutError`, so code that already handles timeouts handles this one; the
    message says how many connections are in use and which option raises the limit.
    """

    def __init__(self, message: str, *, in_use: int, max_size: int, waited: float) -> None:
        super().__init__(message)
        self.in_use = in_use
        self.max_size = max_size
        self.waited = waited


@dataclass(eq=False)
class _Entry(Generic[C]):
    """A connection and the pool's bookkeeping about it."""

    connection: C
    #: The pool's generation when the connection was opened; :meth:`ConnectionPool.close`
    #: starts a new one, and connections of an older generation are closed when given back.
    generation: int
    #: ``time.monotonic()`` when the connection was last given back.
    idle_since: float = 0.0


class ConnectionPool(Generic[C]):
    """Connections shared by the threads that use one storage.

    ``connect()`` opens a connection, ``is_alive(connection)`` tells whether an idle one still
    works (called on every take of an idle connection; keep it cheap), ``close(connection)``
    releases one (it should not raise for a connection that is already dead; if it does, the
    error is logged and the connection is forgotten anyway).

    ``max_size`` bounds the connections that exist at once (``None``: unbounded). A ``take()``
    beyond the bound waits up to ``wait_timeout`` seconds (``None``: forever) and then raises
    :class:`PoolTimeoutError`, whose message ends with ``option_hint``: the setting a user
    raises to allow more (``"the 'max_connections' option (FTP_STORAGE_MAX_CONNECTIONS)"``).
    ``name`` says whose connections these are in messages (``"FTP connections to example.com"``).

    At most ``max_idle`` connections are kept idle; an idle connection older than
    ``max_idle_time`` seconds (``None``: no limit) is closed instead of reused.
    """

    def __init__(
        self,
        connect: Callable[[], C],
        is_alive: Callable[[C], bool],
        close: Callable[[C], None],
        *,
        max_size: int | None = None,
        max_idle: int = 8,
        max_idle_time: float | None = None,
        wait_timeout: float | None = 30.0,
        option_hint: str = "the pool's max_size",
        name: str = "the connection pool",
    ) -> None:
        if max_size is not None and max_size < 1:
            raise ValueError(f"max_size must be at least 1 or None (unbounded), not {max_size!r}.")
        if max_idle < 0:
            raise ValueError(f"max_idle must be 0 or more, not {max_idle!r}.")
        if max_idle_time is not None and max_idle_time < 0:
            raise ValueError(f"max_idle_time must be 0 or more seconds or None, not {max_idle_time!r}.")
        self._connect = connect
        self._is_alive = is_alive
        self._close = close
        self.max_size = max_size
        self.max_idle = max_idle
        self.max_idle_time = max_idle_time
        self.wait_timeout = wait_timeout
        self.option_hint = option_hint
        self.name = name
        self._reset()
        _live_pools.add(self)

    def _reset(self) -> None:
        # Also the state of a child after fork: everything inherited is forgotten, unclosed.
        self._pid = os.getpid()
        self._cond = threading.Condition(threading.Lock())
        self._idle: deque[_Entry[C]] = deque()  # oldest first; taken from the newest end
        self._in_use: dict[int, _Entry[C]] = {}  # by id(): connections need not be hashable
        self._opening = 0  # slots reserved by connect() calls in progress
        self._closing = 0  # slots held by close() calls in progress
        self._generation = 0

    def _check_fork(self) -> None:
        # The at-fork hook below covers os.fork(); this covers forks made from C code
        # (some servers' workers) that skip Python's hooks.
        if self._pid != os.getpid():
            self._reset()

    def _occupied(self) -> int:
        return len(self._idle) + len(self._in_use) + self._opening + self._closing

    # -- taking and giving back ----------------------------------------------------------------

    def take(self) -> C:
        """A connection for the caller alone: an idle one that is still alive, or a new one.

        With ``max_size`` and every slot occupied, waits for a connection to be given back or
        discarded, up to ``wait_timeout`` seconds, then raises :class:`PoolTimeoutError`.
        Errors of ``connect()`` propagate, and the slot they reserved is free again.
        """
        self._check_fork()
        deadline = None if self.wait_timeout is None else time.monotonic() + self.wait_timeout
        while True:
            entry, expired = self._reserve(deadline)
            try:
                self._close_reserved(expired)
                alive = entry is not None and self._alive(entry.connection)
            except BaseException:  # KeyboardInterrupt: free what was reserved
                self._unreserve(entry)
                raise
            if entry is None:
                return self._open()
            if alive:
                return entry.connection
            logger.debug("Discarding a dead idle connection of %s.", self.name)
            self.discard(entry.connection)

    def _reserve(self, deadline: float | None) -> tuple[_Entry[C] | None, list[_Entry[C]]]:
        """Under the lock: pop an idle entry (now in use), or reserve a slot to open one.

        Returns the entry (``None``: a slot is reserved) and the idle entries that expired.
        The caller closes those outside the lock, before it connects: their slots count as
        occupied for other threads until then, so the bound holds for real sockets too.
        """
        with self._cond:
            while True:
                expired = self._pop_expired()
                if self._idle:
                    entry = self._idle.pop()
                    self._in_use[id(entry.connection)] = entry
                    return entry, expired
                # Expired entries were idle, so with any of them the bound leaves room.
                if self.max_size is None or self._occupied() - len(expired) < self.max_size:
                    self._opening += 1
                    return None, expired
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise self._timeout_error()
                self._cond.wait(remaining)

    def _unreserve(self, entry: _Entry[C] | None) -> None:
        if entry is not None:
            self.discard(entry.connection)
            return
        with self._cond:
            self._opening -= 1
            self._cond.notify_all()

    def _pop_expired(self) -> list[_Entry[C]]:
        # Under the lock. The idle deque is ordered by idle_since, oldest first.
        if self.max_idle_time is None:
            return []
        limit = time.monotonic() - self.max_idle_time
        expired = []
        while self._idle and self._idle[0].idle_since < limit:
            expired.append(self._idle.popleft())
        self._closing += len(expired)
        return expired

    def _timeout_error(self) -> PoolTimeoutError:
        in_use = len(self._in_use) + self._opening
        max_size = self.max_size or 0
        waited = self.wait_timeout or 0.0
        return PoolTimeoutError(
            f"Waited {waited:g} seconds for a connection from {self.name}: all {max_size} are "
            f"in use ({in_use} by callers, {self._closing} being closed). Raise "
            f"{self.option_hint} to allow more at once, or give connections back sooner "
            "(an open file holds its connection until it is closed).",
            in_use=in_use,
            max_size=max_size,
            waited=waited,
        )

    def _alive(self, connection: C) -> bool:
        try:
            return bool(self._is_alive(connection))
        except Exception:  # a check that fails means the connection cannot be trusted
            logger.debug("The liveness check of a connection of %s raised.", self.name, exc_info=True)
            return False

    def _open(self) -> C:
        # A slot is reserved; connect outside the lock so that other threads keep going.
        with self._cond:
            generation = self._generation
        try:
            connection = self._connect()
        except BaseException:
            self._unreserve(None)
            raise
        with self._cond:
            self._opening -= 1
            self._in_use[id(connection)] = _Entry(connection, generation)
        return connection

    def give_back(self, connection: C) -> None:
        """Return a connection taken from this pool, for the next caller.

        It is closed instead when the pool already keeps ``max_idle`` idle connections (the
        oldest idle one goes) or when :meth:`close` ran while it was in use. A connection the
        pool does not know (taken before a fork, or given back twice) is left alone.
        """
        self._check_fork()
        with self._cond:
            # The pool holds every connection in use, so no other object can share its id().
            entry = self._in_use.pop(id(connection), None)
            if entry is None:
                return
            surplus: list[_Entry[C]] = []
            if entry.generation != self._generation:
                surplus.append(entry)
            else:
                entry.idle_since = time.monotonic()
                self._idle.append(entry)
                while len(self._idle) > self.max_idle:
                    surplus.append(self._idle.popleft())
            self._closing += len(surplus)
            self._cond.notify_all()
        self._close_reserved(surplus)

    def discard(self, connection: C) -> None:
        """Close a connection taken from this pool instead of giving it back, and free its slot.

        For a connection that failed in a way that leaves it unusable, or in an unknown state
        (a timeout: a late answer would be read as the answer to the next request).
        """
        self._check_fork()
        with self._cond:
            entry = self._in_use.pop(id(connection), None)
            if entry is None:
                return
            self._closing += 1
        self._close_reserved([entry])

    def _close_reserved(self, entries: list[_Entry[C]]) -> None:
        """Close connections whose slots are counted in ``_closing``, then free the slots."""
        if not entries:
            return
        try:
            for entry in entries:
                try:
                    self._close(entry.connection)
                except Exception:
                    logger.debug("Closing a connection of %s raised.", self.name, exc_info=True)
        finally:
            with self._cond:
                self._closing -= len(entries)
                self._cond.notify_all()

    @contextlib.contextmanager
    def connection(self, discard_on: tuple[type[BaseException], ...] = ()) -> Iterator[C]:
        """``with pool.connection(discard_on=(OSError, EOFError)) as c:`` takes and gives back.

        The connection is given back when the block succeeds, and also when it raises an
        exception that leaves the connection usable (a "file not found" answer). It is
        discarded when the exception is one of ``discard_on`` (the caller knows which errors
        mean a broken session), or is not an :class:`Exception` at all (``KeyboardInterrupt``
        stopped a request midway: the session state is unknown).
        """
        connection = self.take()
        try:
            yield connection
        except BaseException as exc:
            if isinstance(exc, discard_on) or not isinstance(exc, Exception):
                self.discard(connection)
            else:
                self.give_back(connection)
            raise
        self.give_back(connection)

    # -- the whole pool ------------------------------------------------------------------------

    def close(self) -> None:
        """Close the idle connections now, and those in use when they are given back.

        The pool stays usable: a later :meth:`take` opens a new connection.
        """
        self._check_fork()
        with self._cond:
            idle = list(self._idle)
            self._idle.clear()
            self._generation += 1
            self._closing += len(idle)
        self._close_reserved(idle)

    def __len__(self) -> int:
        """Open connections: idle ones and those in use."""
        self._check_fork()
        with self._cond:
            return len(self._idle) + len(self._in_use)

    def __bool__(self) -> bool:
        # A pool is a thing, not a collection: ``if storage._pool`` must not depend on whether
        # any connection happens to be open.
        return True

    def __repr__(self) -> str:
        bound = "unbounded" if self.max_size is None else f"max_size={self.max_size}"
        with self._cond:
            idle, in_use = len(self._idle), len(self._in_use)
        return f"<ConnectionPool {self.name}: {in_use} in use, {idle} idle, {bound}>"


#: Every pool of this process, reset in a child after os.fork().
_live_pools: weakref.WeakSet[ConnectionPool[Any]] = weakref.WeakSet()


def _reset_pools_after_fork() -> None:
    # Runs in the child only, before any other code: one thread, so no lock is needed (a lock
    # held by another parent thread at fork time would never be released here anyway).
    for pool in list(_live_pools):
        pool._reset()


if hasattr(os, "register_at_fork"):  # not on Windows
    os.register_at_fork(after_in_child=_reset_pools_after_fork)
