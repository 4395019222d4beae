"""Local test servers for the provider test suites, the demo and the benchmarks.

Every server listens on 127.0.0.1 on a free port, keeps its data in a temporary folder, and is
stopped by its own PID when the context manager exits (never by name). Under ``CI=true`` a server
that cannot start is an error, never a silent skip: see :func:`unavailable`.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from typing import TypeVar

T = TypeVar("T")

__all__ = ["ServerUnavailable", "free_port", "serve", "stop_process", "unavailable", "wait_for_port"]


class ServerUnavailable(RuntimeError):
    """A local test server could not be started."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes] | None = None, timeout: float = 30.0) -> None:
    """Wait until 127.0.0.1:``port`` accepts connections (or the process dies)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise ServerUnavailable(f"server process exited with code {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise ServerUnavailable(f"nothing listens on 127.0.0.1:{port} after {timeout:.0f}s")


def start_process(
    args: Sequence[str], port: int, log_path: str, timeout: float = 30.0, **kwargs: object
) -> subprocess.Popen[bytes]:
    """Start ``args`` with output to ``log_path`` and wait for ``port``; stop it on failure."""
    with open(log_path, "wb") as log:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(  # type: ignore[call-overload]
            list(args), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, **kwargs
        )
    try:
        wait_for_port(port, process, timeout)
    except ServerUnavailable as exc:
        stop_process(process)
        with open(log_path, "rb") as f:
            tail = f.read()[-2000:].decode("utf-8", "replace")
        raise ServerUnavailable(f"{args[0]} did not start: {exc}\n{tail}") from exc
    return process


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """Stop a process this code started, by its PID."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def unavailable(reason: str) -> None:
    """Skip the test outside CI; fail it under ``CI=true``."""
    import pytest

    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"local test server unavailable under CI: {reason}")
    pytest.skip(f"local test server unavailable: {reason} (install it, or set CI=true to make this an error)")


def serve(server: AbstractContextManager[T]) -> Iterator[T]:
    """Body of a pytest fixture for a server: ``yield from serve(moto_server())``.

    A server that cannot start skips the tests that use it, or fails them under ``CI=true``.
    """
    try:
        value = server.__enter__()
    except ServerUnavailable as exc:
        unavailable(str(exc))
        raise  # unavailable() always raises; this keeps type checkers informed
    try:
        yield value
    finally:
        server.__exit__(None, None, None)
