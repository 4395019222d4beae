"""A small fake of the Dropbox HTTP API v2, over HTTPS on 127.0.0.1, for the Dropbox tests.

Dropbox has no emulator. This server answers the routes that ``django-storages-dropbox`` drives
through the official ``dropbox`` SDK, with the documented request and response shapes:

* content-upload routes (``files/upload``, ``files/upload_session/start``, ``append_v2``,
  ``finish``) take their argument as JSON in the ``Dropbox-API-Arg`` header and the bytes as the
  body, and answer JSON; the ``content_hash`` of every upload is checked (Dropbox's block hash:
  the SHA-256 of the SHA-256 digests of each 4 MiB block);
* the content-download route (``files/download``) takes ``Dropbox-API-Arg``, answers the bytes
  with the metadata in ``Dropbox-API-Result``, and honours ``Range``;
* RPC routes (``files/get_metadata``, ``files/list_folder``, ``files/list_folder/continue``
  (pages of :attr:`FakeDropbox.page_size` entries), ``files/delete_v2``,
  ``files/get_temporary_link``) take and answer JSON bodies;
* ``/oauth2/token`` (``grant_type=refresh_token``) issues short-lived ``sl.`` tokens;
* route errors are ``409`` with ``{"error_summary": "path/not_found/..", "error": {...}}``;
  an expired token is ``401`` ``expired_access_token``, a wrong one ``401``
  ``invalid_access_token``, a revoked refresh token ``400`` ``invalid_grant``; a malformed
  call is ``400`` with a plain-text body, as Dropbox answers.

Paths are case-insensitive and case-preserving, folders exist (an upload creates its parents,
a delete leaves them), and an ``add`` upload of identical bytes over a file is a no-op, as on
Dropbox. Temporary links are ``https://127.0.0.1:PORT/apitl/1/<token>``, served without auth.

Faults for the reliability tests: :meth:`FakeDropbox.inject` answers the Nth call of a route
with a status (``500``, ``503``, ``429`` with ``Retry-After``), stalls it (before the answer,
or in the middle of a download's body), or drops the connection.

The SDK reads its hosts from ``DROPBOX_API_HOST``, ``DROPBOX_API_CONTENT_HOST`` and
``DROPBOX_API_NOTIFY_HOST`` when ``dropbox`` is first imported, so the port must be known
before that: :func:`reserve_listener` binds one early, :func:`sdk_environment` gives the
variables, and :func:`dropbox_fake` serves on the reserved socket later::

    listener = reserve_listener()
    os.environ.update(sdk_environment(listener))   # before anything imports dropbox
    ...
    with dropbox_fake(listener) as fake:
        storage = DropboxStorage(fake.access_token, ca_certs=fake.ca_path)

``python -m shared.testservers.dropbox`` runs it in its own process (the benchmark does):
it prints one JSON line with the port, the certificate and the credentials, and serves until
its standard input closes.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import hashlib
import http.server
import itertools
import json
import os
import secrets
import socket
import ssl
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "BLOCK_SIZE",
    "FakeDropbox",
    "Fault",
    "content_hash",
    "dropbox_fake",
    "reserve_listener",
    "sdk_environment",
]

#: Dropbox's content hash block size.
BLOCK_SIZE = 4 * 1024 * 1024
#: Files Dropbox refuses to save (``disallowed_name``): the names it never syncs.
DISALLOWED_NAMES = frozenset({"desktop.ini", "thumbs.db", ".ds_store", "icon\r", ".dropbox", ".dropbox.attr"})
#: Largest body of one upload call (``payload_too_large`` above it).
MAX_PAYLOAD = 150 * 1024 * 1024

CONTENT_ROUTES = {
    "files/upload",
    "files/upload_session/start",
    "files/upload_session/append_v2",
    "files/upload_session/finish",
    "files/download",
}
RPC_ROUTES = {
    "files/get_metadata",
    "files/list_folder",
    "files/list_folder/continue",
    "files/delete_v2",
    "files/get_temporary_link",
}


def content_hash(data: bytes | bytearray | memoryview) -> str:
    """Dropbox's content hash of ``data``."""
    view = memoryview(data)
    digests = b"".join(
        hashlib.sha256(view[i : i + BLOCK_SIZE]).digest() for i in range(0, len(view), BLOCK_SIZE)
    )
    return hashlib.sha256(digests).hexdigest()


def reserve_listener() -> socket.socket:
    """A listening socket on 127.0.0.1 and a free port, to be served by :func:`dropbox_fake`."""
    return socket.create_server(("127.0.0.1", 0), backlog=128)


def sdk_environment(listener_or_port: socket.socket | int) -> dict[str, str]:
    """The variables that point the ``dropbox`` SDK at a fake on this port."""
    port = listener_or_port if isinstance(listener_or_port, int) else listener_or_port.getsockname()[1]
    host = f"127.0.0.1:{port}"
    return {"DROPBOX_API_HOST": host, "DROPBOX_API_CONTENT_HOST": host, "DROPBOX_API_NOTIFY_HOST": host}


def _make_certificate(folder: str) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 and localhost: ``(cert_path, key_path)``."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fake Dropbox API on 127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path = os.path.join(folder, "fake-dropbox.pem")
    key_path = os.path.join(folder, "fake-dropbox.key")
    with open(cert_path, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as f:
        f.write(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
    return cert_path, key_path


@dataclass
class Fault:
    """What to do with the ``on_call``-th call (counted from injection) of ``route``.

    ``status`` answers with that HTTP status (``retry_after`` adds the header and, for 429,
    the JSON body); ``stall`` waits that many seconds (after ``after_bytes`` bytes of a
    download's body, or before answering); ``drop`` closes the connection without an answer.
    ``times`` is how many consecutive calls get the fault.
    """

    route: str | None = None
    on_call: int = 1
    status: int | None = None
    retry_after: int | None = None
    stall: float | None = None
    after_bytes: int | None = None
    drop: bool = False
    times: int = 1
    seen: int = 0
    fired: int = 0


@dataclass
class Request:
    """One call the fake answered (for request counts)."""

    route: str
    status: int
    arg: Any = None
    authorization: str = ""
    content_hash_sent: bool = False
    body_bytes: int = 0
    range: str | None = None


@dataclass
class _File:
    path_display: str
    data: bytes
    rev: str
    server_modified: str
    client_modified: str
    id: str
    content_hash: str = ""


@dataclass
class _Session:
    data: bytearray = field(default_factory=bytearray)
    closed: bool = False
    finished: bool = False


class ApiError(Exception):
    """A route error: 409 with the documented JSON body."""

    def __init__(self, summary: str, error: dict[str, Any], status: int = 409) -> None:
        super().__init__(summary)
        self.summary = summary
        self.error = error
        self.status = status


class BadInput(Exception):
    """A malformed call: 400 with a plain-text body."""


def _not_found(tag: str = "path") -> ApiError:
    return ApiError(f"{tag}/not_found/", {".tag": tag, tag: {".tag": "not_found"}})


def _utc_now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class FakeDropbox:
    """State and behaviour of the fake; :class:`_Handler` turns HTTP into calls on it."""

    def __init__(self, port: int, ca_path: str, page_size: int = 100) -> None:
        self.port = port
        self.ca_path = ca_path
        self.page_size = page_size
        self.app_key = "fake-app-key"
        self.app_secret = "fake-app-secret-" + secrets.token_hex(8)
        self.refresh_token = "fake-refresh-token-" + secrets.token_hex(8)
        #: A long-lived token that is always accepted (the legacy token setting).
        self.access_token = "fake-long-lived-token-" + secrets.token_hex(8)
        self._tokens: dict[str, float] = {self.access_token: float("inf")}
        self._revoked: set[str] = set()
        self.token_lifetime = 14400
        self.requests: list[Request] = []
        #: Connections accepted since the server started (or the count was reset).
        self.connections_opened = 0
        self._faults: list[Fault] = []
        self._files: dict[str, _File] = {}
        self._folders: dict[str, str] = {}
        self._sessions: dict[str, _Session] = {}
        self._cursors: dict[str, tuple[list[dict[str, Any]], int]] = {}
        self._links: dict[str, str] = {}
        self._revs = itertools.count(0x100000000)
        self.lock = threading.RLock()
        self.stopping = threading.Event()

    # -- test controls --------------------------------------------------------------------

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def inject(self, **kwargs: Any) -> Fault:
        """Add a :class:`Fault` (see its fields); returns it so a test can check it fired."""
        fault = Fault(**kwargs)
        with self.lock:
            self._faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self.lock:
            self._faults.clear()

    def expire_tokens(self) -> None:
        """Make every issued short-lived token expired (the long-lived one stays valid)."""
        with self.lock:
            for token in list(self._tokens):
                if token != self.access_token:
                    self._tokens[token] = 0.0

    def issue_token(self, lifetime: float | None = None) -> str:
        token = "sl.fake-" + secrets.token_urlsafe(24)
        with self.lock:
            self._tokens[token] = time.monotonic() + (self.token_lifetime if lifetime is None else lifetime)
        return token

    def revoke_refresh_token(self, token: str | None = None) -> None:
        with self.lock:
            self._revoked.add(token or self.refresh_token)

    def calls(self, route: str | None = None) -> list[Request]:
        with self.lock:
            return [r for r in self.requests if route is None or r.route == route]

    def routes(self) -> list[str]:
        with self.lock:
            return [r.route for r in self.requests]

    def clear_requests(self) -> None:
        with self.lock:
            self.requests.clear()

    def raw_put(self, path: str, data: bytes) -> None:
        """Write a file as another Dropbox client would (behind the storage's back)."""
        with self.lock:
            self._store(path, data, {".tag": "overwrite"})

    def raw_delete(self, path: str) -> None:
        with self.lock:
            self._delete(path)

    def open_sessions(self) -> int:
        """Upload sessions started and neither finished nor expired (Dropbox keeps them 7 days)."""
        with self.lock:
            return sum(1 for s in self._sessions.values() if not s.finished)

    def paths(self) -> list[str]:
        with self.lock:
            return sorted(f.path_display for f in self._files.values())

    def drop_connections(self) -> None:
        """Reset every open connection, as a network that forgets idle connections does."""

    def restart(self, down_for: float = 0.0) -> None:
        """Stop serving (connections reset, the port closed) and serve again on the same port.

        The files and tokens are kept, as a restarted Dropbox front end keeps them.
        """

    def take_fault(self, route: str) -> Fault | None:
        with self.lock:
            for fault in self._faults:
                if fault.route is not None and fault.route != route:
                    continue
                if fault.fired >= fault.times:
                    continue
                fault.seen += 1
                if fault.seen >= fault.on_call:
                    fault.fired += 1
                    return fault
        return None

    # -- auth -----------------------------------------------------------------------------

    def check_auth(self, header: str) -> None:
        if not header.startswith("Bearer "):
            raise BadInput(
                'Error in call to API function: Must provide HTTP header "Authorization" '
                'or URL parameter "authorization".'
            )
        token = header[len("Bearer ") :]
        with self.lock:
            expires = self._tokens.get(token)
        if expires is None:
            raise ApiError("invalid_access_token/", {".tag": "invalid_access_token"}, status=401)
        if expires <= time.monotonic():
            raise ApiError("expired_access_token/", {".tag": "expired_access_token"}, status=401)

    def oauth_token(self, form: dict[str, str], basic: str | None) -> dict[str, Any]:
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        if basic:
            client_id, _, client_secret = base64.b64decode(basic).decode().partition(":")
        if form.get("grant_type") != "refresh_token":
            raise ApiError("", {"error": "unsupported_grant_type"}, status=400)
        if client_id != self.app_key or (client_secret is not None and client_secret != self.app_secret):
            raise ApiError(
                "",
                {"error": "invalid_client", "error_description": "Invalid client_id or client_secret"},
                400,
            )
        token = form.get("refresh_token", "")
        if token != self.refresh_token or token in self._revoked:
            raise ApiError(
                "",
                {"error": "invalid_grant", "error_description": "refresh token is invalid or revoked"},
                400,
            )
        return {"access_token": self.issue_token(), "token_type": "bearer", "expires_in": self.token_lifetime}

    # -- paths ----------------------------------------------------------------------------

    @staticmethod
    def _check_path(path: Any, allow_root: bool = False) -> str:
        if not isinstance(path, str):
            raise BadInput('Error in call to API function: missing required field "path"')
        if path == "" and allow_root:
            return ""
        if not path.startswith("/"):
            raise BadInput(
                f"Error in call to API function: 'path' does not match pattern '(/(.|[\\r\\n])*)?': {path!r}"
            )
        if path == "/" or path.endswith("/") or "//" in path:
            raise ApiError("path/malformed_path/", {".tag": "path", "path": {".tag": "malformed_path"}})
        return path

    def _parents(self, path: str) -> Iterator[str]:
        parts = path.split("/")[1:-1]
        for index in range(1, len(parts) + 1):
            yield "/" + "/".join(parts[:index])

    def _file_metadata(self, entry: _File) -> dict[str, Any]:
        return {
            ".tag": "file",
            "name": entry.path_display.rsplit("/", 1)[-1],
            "id": entry.id,
            "client_modified": entry.client_modified,
            "server_modified": entry.server_modified,
            "rev": entry.rev,
            "size": len(entry.data),
            "path_lower": entry.path_display.lower(),
            "path_display": entry.path_display,
            "is_downloadable": True,
            "content_hash": entry.content_hash,
        }

    def _folder_metadata(self, display: str) -> dict[str, Any]:
        return {
            ".tag": "folder",
            "name": display.rsplit("/", 1)[-1],
            "id": "id:" + hashlib.sha256(display.lower().encode()).hexdigest()[:22],
            "path_lower": display.lower(),
            "path_display": display,
        }

    def _metadata(self, path: str, tag: str = "path") -> dict[str, Any]:
        key = path.lower()
        if key in self._files:
            return self._file_metadata(self._files[key])
        if key in self._folders:
            return self._folder_metadata(self._folders[key])
        raise _not_found(tag)

    def _write_error(self, path: str, mode: Any, data: bytes) -> dict[str, Any] | None:
        """The WriteError for writing ``data`` at ``path`` with ``mode``, or None."""
        key = path.lower()
        name = path.rsplit("/", 1)[-1]
        if name.lower() in DISALLOWED_NAMES:
            return {".tag": "disallowed_name"}
        for parent in self._parents(path):
            if parent.lower() in self._files:
                return {".tag": "conflict", "conflict": {".tag": "file_ancestor"}}
        if key in self._folders:
            return {".tag": "conflict", "conflict": {".tag": "folder"}}
        existing = self._files.get(key)
        tag = mode if isinstance(mode, str) else mode.get(".tag")
        if tag == "add" and existing is not None and existing.data != data:
            return {".tag": "conflict", "conflict": {".tag": "file"}}
        if tag == "update" and (existing is None or existing.rev != mode.get("update")):
            return {".tag": "conflict", "conflict": {".tag": "file"}}
        if tag not in ("add", "overwrite", "update"):
            raise BadInput(f"Error in call to API function: unknown write mode {mode!r}")
        return None

    def _store(self, path: str, data: bytes, mode: Any, client_modified: str | None = None) -> dict[str, Any]:
        error = self._write_error(path, mode, data)
        if error is not None:
            summary = error[".tag"] + ("/" + error["conflict"][".tag"] if "conflict" in error else "")
            raise ApiError(f"path/{summary}/", {".tag": "path", "reason": error, "upload_session_id": ""})
        key = path.lower()
        existing = self._files.get(key)
        if existing is not None and existing.data == data and (mode == "add" or mode == {".tag": "add"}):
            return self._file_metadata(existing)
        for parent in self._parents(path):
            self._folders.setdefault(parent.lower(), parent)
        now = _utc_now()
        entry = _File(
            path_display=existing.path_display if existing else path,
            data=data,
            rev=format(next(self._revs), "x"),
            server_modified=now,
            client_modified=client_modified or now,
            id=existing.id if existing else "id:" + secrets.token_urlsafe(16),
            content_hash=content_hash(data),
        )
        self._files[key] = entry
        return self._file_metadata(entry)

    def _delete(self, path: str) -> dict[str, Any]:
        key = path.lower()
        if key in self._files:
            metadata = self._file_metadata(self._files.pop(key))
        elif key in self._folders:
            metadata = self._folder_metadata(self._folders[key])
            prefix = key + "/"
            for table in (self._files, self._folders):
                for child in [k for k in table if k == key or k.startswith(prefix)]:
                    del table[child]
        else:
            raise _not_found("path_lookup")
        return metadata

    @staticmethod
    def _check_hash(arg: dict[str, Any], data: bytes) -> None:
        sent = arg.get("content_hash")
        if sent is not None and sent != content_hash(data):
            raise ApiError("content_hash_mismatch/", {".tag": "content_hash_mismatch"})

    # -- routes ---------------------------------------------------------------------------

    def upload(self, arg: dict[str, Any], body: bytes) -> dict[str, Any]:
        path = self._check_path(arg.get("path"))
        if len(body) > MAX_PAYLOAD:
            raise ApiError("payload_too_large/", {".tag": "payload_too_large"})
        self._check_hash(arg, body)
        with self.lock:
            return self._store(path, body, arg.get("mode", "add"), arg.get("client_modified"))

    def _session(self, cursor: dict[str, Any], body: bytes) -> _Session:
        session = self._sessions.get(str(cursor.get("session_id")))
        if session is None or session.finished:
            raise ApiError("not_found/", {".tag": "not_found"})
        if cursor.get("offset") != len(session.data):
            raise ApiError(
                "incorrect_offset/",
                {".tag": "incorrect_offset", "correct_offset": len(session.data)},
            )
        if session.closed and body:
            raise ApiError("closed/", {".tag": "closed"})
        return session

    def upload_session_start(self, arg: dict[str, Any], body: bytes) -> dict[str, Any]:
        self._check_hash(arg, body)
        session_id = "pid_upload_session:" + secrets.token_urlsafe(24)
        with self.lock:
            self._sessions[session_id] = _Session(bytearray(body), closed=bool(arg.get("close")))
        return {"session_id": session_id}

    def upload_session_append_v2(self, arg: dict[str, Any], body: bytes) -> None:
        self._check_hash(arg, body)
        with self.lock:
            session = self._session(arg.get("cursor") or {}, body)
            session.data += body
            session.closed = bool(arg.get("close"))

    def upload_session_finish(self, arg: dict[str, Any], body: bytes) -> dict[str, Any]:
        self._check_hash(arg, body)
        commit = arg.get("commit") or {}
        path = self._check_path(commit.get("path"))
        with self.lock:
            try:
                session = self._session(arg.get("cursor") or {}, body)
            except ApiError as exc:
                raise ApiError(
                    "lookup_failed/" + exc.summary, {".tag": "lookup_failed", "lookup_failed": exc.error}
                ) from None
            data = bytes(session.data + body)
            try:
                metadata = self._store(path, data, commit.get("mode", "add"), commit.get("client_modified"))
            except ApiError as exc:
                session.finished = True  # Dropbox consumes the session on a failed commit too
                raise ApiError(exc.summary, {**exc.error, "upload_session_id": ""}) from None
            session.finished = True
            session.data = bytearray()
            return metadata

    def download(self, arg: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
        path = self._check_path(arg.get("path"))
        with self.lock:
            entry = self._files.get(path.lower())
            if entry is None:
                if path.lower() in self._folders:
                    raise ApiError("path/not_file/", {".tag": "path", "path": {".tag": "not_file"}})
                raise _not_found()
            return self._file_metadata(entry), entry.data

    def get_metadata(self, arg: dict[str, Any]) -> dict[str, Any]:
        path = self._check_path(arg.get("path"))
        with self.lock:
            return self._metadata(path)

    def list_folder(self, arg: dict[str, Any]) -> dict[str, Any]:
        path = self._check_path(arg.get("path"), allow_root=True)
        limit = min(int(arg.get("limit") or self.page_size), self.page_size)
        with self.lock:
            key = path.lower()
            if key and key not in self._folders:
                if key in self._files:
                    raise ApiError("path/not_folder/", {".tag": "path", "path": {".tag": "not_folder"}})
                raise _not_found()
            prefix = key + "/"
            entries = [
                self._folder_metadata(display)
                for k, display in self._folders.items()
                if k.startswith(prefix) and "/" not in k[len(prefix) :]
            ] + [
                self._file_metadata(f)
                for k, f in self._files.items()
                if k.startswith(prefix) and "/" not in k[len(prefix) :]
            ]
            return self._page(entries, 0, limit)

    def _page(self, entries: list[dict[str, Any]], start: int, limit: int) -> dict[str, Any]:
        cursor = "AAF" + secrets.token_urlsafe(24)
        end = start + limit
        self._cursors[cursor] = (entries, end)
        return {"entries": entries[start:end], "cursor": cursor, "has_more": end < len(entries)}

    def list_folder_continue(self, arg: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            found = self._cursors.pop(str(arg.get("cursor")), None)
            if found is None:
                raise ApiError("reset/", {".tag": "reset"})
            entries, start = found
            return self._page(entries, start, self.page_size)

    def delete_v2(self, arg: dict[str, Any]) -> dict[str, Any]:
        path = self._check_path(arg.get("path"))
        with self.lock:
            return {"metadata": self._delete(path)}

    def get_temporary_link(self, arg: dict[str, Any]) -> dict[str, Any]:
        path = self._check_path(arg.get("path"))
        with self.lock:
            entry = self._files.get(path.lower())
            if entry is None:
                if path.lower() in self._folders:
                    raise ApiError("path/not_file/", {".tag": "path", "path": {".tag": "not_file"}})
                raise _not_found()
            token = secrets.token_urlsafe(24)
            self._links[token] = path.lower()
            return {"metadata": self._file_metadata(entry), "link": f"https://{self.host}/apitl/1/{token}"}

    def temporary_link_bytes(self, token: str) -> bytes | None:
        with self.lock:
            key = self._links.get(token)
            entry = self._files.get(key) if key else None
            return entry.data if entry else None


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    @property
    def fake(self) -> FakeDropbox:
        return self.server.fake

    def setup(self) -> None:
        # Headers and body go out in separate writes: without TCP_NODELAY, Nagle's algorithm
        # and the client's delayed ACK add 40 ms to every answer.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().setup()

    def handle(self) -> None:
        with contextlib.suppress(OSError, ssl.SSLError):
            super().handle()

    def _send(
        self, status: int, body: bytes, content_type: str | None, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Dropbox-Request-Id", secrets.token_hex(16))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if body:
            self.wfile.write(body)

    def _json(self, status: int, value: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(value).encode(), "application/json", headers)

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        chunks = []
        while length:
            chunk = self.rfile.read(min(length, 1024 * 1024))
            if not chunk:
                raise ConnectionError("the client closed the connection in the middle of its body")
            chunks.append(chunk)
            length -= len(chunk)
        return b"".join(chunks)

    def do_GET(self) -> None:
        parts = urllib.parse.urlsplit(self.path).path.split("/")
        if len(parts) == 4 and parts[1] == "apitl":
            data = self.fake.temporary_link_bytes(parts[3])
            if data is not None:
                self._send(200, data, "application/octet-stream")
                return
        self._send(404, b"Not Found", "text/plain")

    def do_POST(self) -> None:
        path = urllib.parse.urlsplit(self.path).path
        try:
            body = self._read_body()
        except ConnectionError:
            self.close_connection = True
            return
        if path == "/oauth2/token":
            self._oauth(body)
            return
        route = path[len("/2/") :] if path.startswith("/2/") else path
        record = Request(route, 0, body_bytes=len(body), authorization=self.headers.get("Authorization", ""))
        record.range = self.headers.get("Range")
        with self.fake.lock:
            self.fake.requests.append(record)
        fault = self.fake.take_fault(route)
        if fault is not None and self._apply_fault(fault, record, before_body=True):
            return
        try:
            if route not in CONTENT_ROUTES and route not in RPC_ROUTES:
                raise BadInput(f"Unknown API function: {route!r}")
            self.fake.check_auth(record.authorization)
            arg = self._argument(route, body)
            record.arg = arg
            record.content_hash_sent = isinstance(arg, dict) and arg.get("content_hash") is not None
            self._dispatch(route, arg, body, record, fault)
        except ApiError as exc:
            record.status = exc.status
            self._json(exc.status, {"error_summary": exc.summary + ".", "error": exc.error})
        except BadInput as exc:
            record.status = 400
            self._send(400, str(exc).encode(), "text/plain; charset=utf-8")

    def _argument(self, route: str, body: bytes) -> Any:
        try:
            if route in CONTENT_ROUTES:
                header = self.headers.get("Dropbox-API-Arg")
                if header is None:
                    raise BadInput(
                        'Error in call to API function: Must provide HTTP header "Dropbox-API-Arg" '
                        'or URL parameter "arg".'
                    )
                if (
                    route != "files/download"
                    and self.headers.get("Content-Type") != "application/octet-stream"
                ):
                    raise BadInput(
                        'Error in call to API function: Bad HTTP "Content-Type" header; '
                        'expecting "application/octet-stream".'
                    )
                return json.loads(header)
            if self.headers.get("Content-Type", "").split(";")[0] != "application/json":
                raise BadInput(
                    'Error in call to API function: Bad HTTP "Content-Type" header; '
                    'expecting "application/json".'
                )
            return json.loads(body or b"null")
        except json.JSONDecodeError as exc:
            raise BadInput(f"Error in call to API function: could not decode input as JSON: {exc}") from None

    def _dispatch(self, route: str, arg: Any, body: bytes, record: Request, fault: Fault | None) -> None:
        fake = self.fake
        if route == "files/download":
            metadata, data = fake.download(arg)
            start, end, status = 0, len(data), 200
            requested = self.headers.get("Range")
            headers = {"Dropbox-API-Result": json.dumps(metadata), "Accept-Ranges": "bytes"}
            if requested and requested.startswith("bytes="):
                first, _, last = requested[len("bytes=") :].partition("-")
                start = int(first) if first else max(0, len(data) - int(last))
                end = min(len(data), int(last) + 1) if (first and last) else len(data)
                if start >= len(data) and len(data):
                    record.status = 416
                    self._send(416, b"", None, {"Content-Range": f"bytes */{len(data)}"})
                    return
                status = 206
                headers["Content-Range"] = f"bytes {start}-{max(start, end - 1)}/{len(data)}"
            record.status = status
            self._stream(status, memoryview(data)[start:end], headers, fault)
            return
        handlers: dict[str, Callable[[], Any]] = {
            "files/upload": lambda: fake.upload(arg, body),
            "files/upload_session/start": lambda: fake.upload_session_start(arg, body),
            "files/upload_session/append_v2": lambda: fake.upload_session_append_v2(arg, body),
            "files/upload_session/finish": lambda: fake.upload_session_finish(arg, body),
            "files/get_metadata": lambda: fake.get_metadata(arg),
            "files/list_folder": lambda: fake.list_folder(arg),
            "files/list_folder/continue": lambda: fake.list_folder_continue(arg),
            "files/delete_v2": lambda: fake.delete_v2(arg),
            "files/get_temporary_link": lambda: fake.get_temporary_link(arg),
        }
        if not isinstance(arg, dict):
            raise BadInput("Error in call to API function: request body: expected an object")
        result = handlers[route]()
        record.status = 200
        self._json(200, result)

    def _stream(self, status: int, data: memoryview, headers: dict[str, str], fault: Fault | None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Dropbox-Request-Id", secrets.token_hex(16))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        cut = fault.after_bytes if fault is not None and fault.after_bytes is not None else None
        position = 0
        while position < len(data):
            if cut is not None and position >= cut:
                self.wfile.flush()
                if fault is not None and fault.stall:
                    self.fake.stopping.wait(fault.stall)
                self._drop()
                return
            step = 64 * 1024 if cut is None else min(64 * 1024, max(1, cut - position))
            self.wfile.write(data[position : position + step])
            position += step

    def _apply_fault(self, fault: Fault, record: Request, before_body: bool) -> bool:
        """Apply a fault; True when the request was answered (or dropped) by it."""
        if fault.after_bytes is not None:
            return False  # applied while streaming the download
        if fault.stall:
            self.fake.stopping.wait(fault.stall)
        if fault.drop or (fault.stall and fault.status is None):
            # A stall alone: the client has given up meanwhile; answer nothing.
            record.status = -1
            self._drop()
            return True
        if fault.status is not None:
            record.status = fault.status
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
            if fault.status == 429:
                self._json(
                    429,
                    {
                        "error_summary": "too_many_requests/..",
                        "error": {
                            "reason": {".tag": "too_many_requests"},
                            "retry_after": fault.retry_after or 1,
                        },
                    },
                    headers,
                )
            else:
                self._send(
                    fault.status, b"Internal server error (injected by the test)", "text/plain", headers
                )
            return True
        return False

    def _oauth(self, body: bytes) -> None:
        form = dict(urllib.parse.parse_qsl(body.decode()))
        record = Request(
            "oauth2/token", 0, arg={k: v for k, v in form.items() if "secret" not in k and "token" not in k}
        )
        with self.fake.lock:
            self.fake.requests.append(record)
        fault = self.fake.take_fault("oauth2/token")
        if fault is not None and self._apply_fault(fault, record, before_body=True):
            return
        authorization = self.headers.get("Authorization", "")
        basic = authorization[len("Basic ") :] if authorization.startswith("Basic ") else None
        try:
            result = self.fake.oauth_token(form, basic)
        except ApiError as exc:
            record.status = 400
            self._json(400, exc.error)
            return
        record.status = 200
        self._json(200, result)


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeDropbox

    def __init__(self, listener: socket.socket, context: ssl.SSLContext, fake: FakeDropbox) -> None:
        super().__init__(listener.getsockname()[:2], _Handler, bind_and_activate=False)
        self.socket.close()
        # The TLS handshake happens in the handler's thread, on the first read.
        self.socket = context.wrap_socket(listener, server_side=True, do_handshake_on_connect=False)
        self.fake = fake
        self._handlers: set[socket.socket] = set()
        self._handlers_lock = threading.Lock()

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        with self._handlers_lock:
            self._handlers.add(request)
            self.fake.connections_opened += 1
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._handlers_lock:
                self._handlers.discard(request)

    def drop_connections(self) -> None:
        with self._handlers_lock:
            for connection in list(self._handlers):
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)


@contextlib.contextmanager
def dropbox_fake(listener: socket.socket | None = None, page_size: int = 100) -> Iterator[FakeDropbox]:
    """Serve a :class:`FakeDropbox` on ``listener`` (a new one by default) until the block ends."""
    listener = listener or reserve_listener()
    with tempfile.TemporaryDirectory(prefix="storages-dropbox-fake-") as folder:
        cert_path, key_path = _make_certificate(folder)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_path, key_path)
        fake = FakeDropbox(listener.getsockname()[1], cert_path, page_size=page_size)
        running: list[tuple[_Server, threading.Thread]] = []

        def start(sock: socket.socket) -> None:
            server = _Server(sock, context, fake)
            thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
            thread.start()
            running.append((server, thread))
            fake.drop_connections = server.drop_connections  # type: ignore[method-assign]

        def stop() -> None:
            while running:
                server, thread = running.pop()
                server.shutdown()
                server.drop_connections()
                server.server_close()
                thread.join(timeout=10)

        def restart(down_for: float = 0.0) -> None:
            stop()  # every connection is reset and the port refuses connections
            time.sleep(down_for)
            start(socket.create_server(("127.0.0.1", fake.port), backlog=128))

        fake.restart = restart  # type: ignore[method-assign]
        start(listener)
        try:
            yield fake
        finally:
            fake.stopping.set()
            stop()


def _main() -> None:
    with dropbox_fake() as fake:
        print(
            json.dumps(
                {
                    "port": fake.port,
                    "ca_path": fake.ca_path,
                    "access_token": fake.access_token,
                    "app_key": fake.app_key,
                    "app_secret": fake.app_secret,
                    "refresh_token": fake.refresh_token,
                }
            ),
            flush=True,
        )
        sys.stdin.read()  # serve until the parent closes our standard input


if __name__ == "__main__":
    _main()
