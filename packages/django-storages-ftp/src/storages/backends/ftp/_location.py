"""The ``FTP_STORAGE_LOCATION`` URL: ``scheme://user:password@host:port/path``."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote

from storages.exceptions import StorageConfigurationError

#: ``ftp``: passive mode; ``aftp``: active mode (the server connects back); ``ftps``: explicit
#: TLS (``AUTH TLS``) with a protected data channel (``PROT P``), passive; ``aftps``: the same in
#: active mode.
SCHEMES = {"ftp": (False, False), "aftp": (True, False), "ftps": (False, True), "aftps": (True, True)}

_HOST_PORT = re.compile(r"^(?:\[(?P<ipv6>[0-9A-Fa-f:.]+)\]|(?P<host>[^:\[\]]*))(?::(?P<port>[^:]*))?$")


@dataclass(frozen=True)
class Location:
    """A parsed location. ``password`` is a secret: it is left out of ``repr()``."""

    scheme: str
    host: str
    port: int
    user: str
    password: str = field(repr=False)
    #: The folder every name is below: absolute (``/srv/media``), or relative to the login
    #: folder (``.`` for the login folder itself).
    path: str
    active: bool
    secure: bool

    @property
    def address(self) -> str:
        """``host:port`` as messages show it (no credentials)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def public_url(self) -> str:
        """The location without its password, for messages."""
        user = f"{self.user}@" if self.user else ""
        return f"{self.scheme}://{user}{self.address}/{self.path.lstrip('/')}"


def _error(message: str) -> StorageConfigurationError:
    return StorageConfigurationError(
        f"FTPStorage option 'location' (FTP_STORAGE_LOCATION): {message} Expected "
        "'ftp://user:password@host:port/path' (scheme ftp, aftp for active mode or ftps for "
        "TLS; port and path optional), with '@', ':' and '/' in the user or password written "
        "as %40, %3A and %2F."
    )


def parse_location(url: str) -> Location:
    """Parse ``url``; a malformed one raises :class:`StorageConfigurationError` without its password.

    The user information ends at the last ``@`` before the path and the password starts at
    its first ``:`` (as :mod:`urllib.parse` reads a URL), so the original's unescaped ``@`` in
    a password keeps working; percent-encoded user and password are decoded. The port defaults
    to 21. An empty path means ``/``, as in the original; ``ftp://host/.`` is the login folder
    and ``ftp://host/media`` a folder relative to it.
    """
    if not isinstance(url, str):
        raise _error(f"expected a URL string, got {type(url).__name__}.")
    scheme, separator, rest = url.partition("://")
    if not separator:
        raise _error("the value is not a URL.")
    scheme = scheme.lower()
    if scheme not in SCHEMES:
        raise _error(f"the scheme {scheme!r} is not supported: use ftp, aftp, ftps or aftps.")
    netloc, slash, path = rest.partition("/")
    if "?" in netloc or "#" in netloc:
        raise _error("a query or fragment is not allowed.")
    userinfo, at, hostport = netloc.rpartition("@")
    user, _colon, password = userinfo.partition(":") if at else ("", "", "")
    match = _HOST_PORT.match(hostport)
    if match is None:
        raise _error(f"cannot read a host and port from {hostport!r}.")
    host = match.group("ipv6") or match.group("host") or ""
    if not host:
        raise _error("the host is missing.")
    port_text = match.group("port")
    if port_text in (None, ""):
        port = 21
    elif port_text.isdigit() and 0 < int(port_text) < 65536:
        port = int(port_text)
    else:
        raise _error(f"the port {port_text!r} is not a number from 1 to 65535.")
    path = unquote(path) if slash else ""
    if any(c in path for c in "\r\n\0"):
        raise _error("the path holds a line break or a null character.")
    active, secure = SCHEMES[scheme]
    return Location(
        scheme=scheme,
        host=host,
        port=port,
        user=unquote(user),
        password=unquote(password),
        path=path.rstrip("/") or "/" if path != "." else ".",
        active=active,
        secure=secure,
    )
