"""A TCP proxy on 127.0.0.1 whose connections a test can cut, stall or drop, to fail a transfer midway.

Faults it injects:

* :meth:`CuttableProxy.cut`: reset every connection and refuse new ones for good.
* :meth:`CuttableProxy.go_down` / :meth:`CuttableProxy.come_back`: the server is unreachable
  (connections reset, new ones closed at once), then reachable again on the same port.
* :meth:`CuttableProxy.stall` / :meth:`CuttableProxy.resume`: the server stops answering. The
  TCP connections stay open, nothing arrives, the sender's buffers fill up (the proxy stops
  reading); new connections are accepted and stall too.
* :meth:`CuttableProxy.drop_silently`: a NAT or firewall forgot the open connections: they stay
  open but nothing ever passes again, while new connections work.

``bytes_forwarded`` counts bytes both ways, ``bytes_to_client`` only those from the server.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

__all__ = ["CuttableProxy", "cuttable_proxy"]


class _Link:
    """One proxied connection: the client's socket, the server's, and whether it was dropped."""

    def __init__(self, client: socket.socket, upstream: socket.socket) -> None:
        self.client = client
        self.upstream = upstream
        self.dropped = threading.Event()


class CuttableProxy:
    """Forwards 127.0.0.1:``port`` to ``target_port``; :meth:`cut` drops every connection."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._sockets: list[socket.socket] = []
        self._links: list[_Link] = []
        self._lock = threading.Lock()
        self._cut = threading.Event()
        self._down = threading.Event()
        self._flowing = threading.Event()
        self._flowing.set()
        self.bytes_forwarded = 0
        self.bytes_to_client = 0
        self.connections_accepted = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._cut.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self._cut.is_set():
                client.close()
                return
            if self._down.is_set():
                client.close()
                continue
            self.connections_accepted += 1
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            link = _Link(client, upstream)
            with self._lock:
                # A cut or go_down() that came while this connection was being set up has
                # already reset the registered ones: this one must not slip through.
                if self._cut.is_set() or self._down.is_set():
                    client.close()
                    upstream.close()
                    continue
                self._sockets += [client, upstream]
                self._links.append(link)
            threading.Thread(target=self._pipe, args=(client, upstream, link, False), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, link, True), daemon=True).start()

    def _pipe(
        self, source: socket.socket, target: socket.socket, link: _Link | None = None, to_client: bool = False
    ) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                # Stalled: hold the data and stop reading, so the sender's buffers fill up.
                while not self._flowing.wait(0.05):
                    if self._cut.is_set():
                        return
                if link is not None and link.dropped.is_set():
                    # Dropped silently: never forward or read again, never close.
                    self._cut.wait()
                    return
                self.bytes_forwarded += len(data)
                if to_client:
                    self.bytes_to_client += len(data)
                target.sendall(data)
        with contextlib.suppress(OSError):
            target.shutdown(socket.SHUT_WR)

    def _reset_connections(self) -> None:
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.close()
            self._sockets.clear()
            self._links.clear()

    def cut(self) -> None:
        """Refuse new connections and reset every open one."""
        self._cut.set()
        self._flowing.set()
        with contextlib.suppress(OSError):
            self._listener.close()
        self._reset_connections()

    def go_down(self) -> None:
        """Reset every open connection and close new ones at once, until :meth:`come_back`."""
        self._down.set()
        self._reset_connections()

    def come_back(self) -> None:
        """Accept and forward new connections again (after :meth:`go_down`)."""
        self._down.clear()

    def stall(self) -> None:
        """Stop forwarding in both directions; connections stay open and silent."""
        self._flowing.clear()

    def resume(self) -> None:
        """Forward again what :meth:`stall` held."""
        self._flowing.set()

    def drop_silently(self) -> None:
        """Make every open connection a black hole (nothing passes, nothing is closed)."""
        with self._lock:
            for link in self._links:
                link.dropped.set()
            self._links.clear()


@contextlib.contextmanager
def cuttable_proxy(target_port: int) -> Iterator[CuttableProxy]:
    proxy = CuttableProxy(target_port)
    try:
        yield proxy
    finally:
        proxy.cut()
