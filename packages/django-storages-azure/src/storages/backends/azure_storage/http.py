"""The HTTP transport of the storage's client: a bounded pool that retires idle connections.

Azure's load balancers (and many NATs) drop a TCP connection that was idle for about four
minutes without telling either end. A pooled connection that was dropped that way is not
noticed by ``urllib3`` (the socket still looks open): the next request on it waits for the
whole read timeout. Connections idle for longer than :data:`MAX_IDLE_SECONDS` are therefore
closed when they are taken from the pool, and a fresh one is opened instead.

The pool blocks when all its connections are in use (threads wait for one), so a storage never
holds more than ``max_connections`` connections to one host.
"""

from __future__ import annotations

import time
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

__all__ = ["MAX_IDLE_SECONDS", "make_session"]

#: Pooled connections idle for longer than this are replaced (Azure drops them after ~240 s).
MAX_IDLE_SECONDS = 50.0


class _RetiringPool:
    """Mixin for urllib3 pools: connections idle for longer than ``max_idle`` are closed on take."""

    max_idle: float = MAX_IDLE_SECONDS

    def _get_conn(self, timeout: float | None = None) -> Any:
        conn = super()._get_conn(timeout)  # type: ignore[misc]
        idle_since = getattr(conn, "_storages_idle_since", None)
        if idle_since is not None and time.monotonic() - idle_since > self.max_idle:
            conn.close()  # reconnects on its next request
        return conn

    def _put_conn(self, conn: Any) -> None:
        if conn is not None:
            conn._storages_idle_since = time.monotonic()
        super()._put_conn(conn)  # type: ignore[misc]


class RetiringHTTPConnectionPool(_RetiringPool, HTTPConnectionPool):
    pass


class RetiringHTTPSConnectionPool(_RetiringPool, HTTPSConnectionPool):
    pass


def _pool_classes(max_idle: float) -> dict[str, type]:
    http = type("RetiringHTTPConnectionPool", (RetiringHTTPConnectionPool,), {"max_idle": max_idle})
    https = type("RetiringHTTPSConnectionPool", (RetiringHTTPSConnectionPool,), {"max_idle": max_idle})
    return {"http": http, "https": https}


def make_session(max_connections: int, max_idle: float = MAX_IDLE_SECONDS) -> requests.Session:
    """A ``requests`` session with one bounded, blocking, idle-retiring pool per host."""
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=max_connections, pool_block=True)
    adapter.poolmanager.pool_classes_by_scheme = _pool_classes(max_idle)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
