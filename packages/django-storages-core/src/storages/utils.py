"""Name handling and small helpers shared by every provider.

The names a storage receives come from users (upload file names) and from code. Every
provider turns them into remote keys or paths through :func:`normalize_name` and
:func:`join_location`, so confinement is the same everywhere: a name never leaves the
configured location or root, whatever that location is (also when it is empty).
"""

from __future__ import annotations

import datetime
import os
import pathlib
import posixpath
import re
import secrets
import sys
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import quote

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, SuspiciousFileOperation
from django.core.files.utils import FileProxyMixin, validate_file_name
from django.utils import timezone
from django.utils.encoding import force_bytes

__all__ = [
    "ReadBytesWrapper",
    "check_location",
    "clean_name",
    "get_available_overwrite_name",
    "is_seekable",
    "is_temporary_name",
    "join_location",
    "lookup_env",
    "normalize_name",
    "publish",
    "read_from_start",
    "safe_join",
    "setting",
    "setting_time",
    "temporary_name",
    "to_bytes",
    "url_quote",
]


def setting(name: str, default: Any = None) -> Any:
    """The Django setting ``name``, or ``default`` when it is not set."""
    return getattr(settings, name, default)


def lookup_env(names: tuple[str, ...] | list[str]) -> str | None:
    """The first non-empty environment variable among ``names``."""
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    return None


def publish(module: str, *objects: Any) -> None:
    """Make ``objects`` report ``module`` (their public import path) as their ``__module__``.

    Providers keep their code in private modules but the original library's path is what
    ``deconstruct()``, migrations, pickles and third-party caches record (easy-thumbnails and
    sorl-thumbnail key thumbnails on the storage's class path): call this in the public module,
    after importing the names into it.
    """
    namespace = vars(sys.modules[module])
    for obj in objects:
        name = obj.__name__
        if namespace.get(name) is not obj:
            raise ImportError(f"{module} does not export {name}: import it there before publishing it.")
        obj.__module__ = module


def setting_time(value: datetime.datetime | float) -> datetime.datetime:
    """A time for Django: aware UTC with ``USE_TZ = True``, naive local time without.

    ``value`` is an aware datetime (naive ones are taken as UTC) or a POSIX timestamp. This is
    what Django's own ``FileSystemStorage`` returns, and what every provider returns too.
    """
    if isinstance(value, int | float):
        value = datetime.datetime.fromtimestamp(value, tz=datetime.UTC)
    elif value.tzinfo is None:
        value = value.replace(tzinfo=datetime.UTC)
    if settings.USE_TZ:
        return value.astimezone(datetime.UTC)
    return timezone.make_naive(value)


def to_bytes(content: Any) -> bytes | bytearray:
    """``content`` as bytes: text is UTF-8 encoded, ``bytearray`` is kept as it is."""
    if isinstance(content, bytearray):
        return content
    return force_bytes(content)


def is_seekable(file_object: Any) -> bool:
    """True unless the object says it cannot seek."""
    return not hasattr(file_object, "seekable") or bool(file_object.seekable())


_CONTROL_CHARACTER = re.compile("[\x00-\x1f\x7f]")
# Anything that needs more than a pass-through: backslashes, empty, "." or ".." segments, a
# leading slash or a drive letter. Names without these are returned as they are (fast path).
_NEEDS_NORMALIZING = re.compile(r"\\|//|(?:^|/)\.{1,2}(?:/|$)|^/|^[A-Za-z]:")
# A cheap superset of the two above, in one search: a control character or a backslash, "//",
# a segment that starts with a dot, a leading slash or a drive letter. A name without any takes
# the fast path (dot files take the full one, which keeps them).
_NEEDS_A_LOOK = re.compile("[\x00-\x1f\x7f\\\\]|/[/.]|^[./]|^[A-Za-z]:")


def _check_characters(name: str) -> None:
    found = _CONTROL_CHARACTER.search(name)
    if found is None:
        return
    if found.group() == "\x00":
        raise SuspiciousFileOperation(f"File name {name!r} contains a null byte.")
    raise SuspiciousFileOperation(f"File name {name!r} contains the control character {found.group()!r}.")


def clean_name(name: str | os.PathLike[str]) -> str:
    """Tidy a name the way the original library did, without resolving escapes.

    ``pathlib`` input becomes a string, backslashes become slashes, ``.`` segments and
    duplicate slashes go away and a trailing slash is kept. ``..`` segments are resolved where
    they stay inside the name; anything that would escape is left for
    :func:`normalize_name` to refuse.
    """
    if isinstance(name, pathlib.PurePath):
        name = name.as_posix()
    name = os.fspath(name).replace("\\", "/")
    cleaned = posixpath.normpath(name)
    if name.endswith("/") and not cleaned.endswith("/"):
        cleaned += "/"
    if cleaned == ".":
        return ""
    return cleaned


def normalize_name(name: str | os.PathLike[str], max_bytes: int | None = None) -> str:
    """Normalise a storage name into a relative key that cannot escape its location.

    * ``pathlib`` input is accepted; backslashes are path separators;
    * ``.`` segments and duplicate slashes are dropped; ``..`` pops a segment;
    * a ``..`` that would climb above the location, an absolute name, a null byte or a control
      character raises :class:`~django.core.exceptions.SuspiciousFileOperation`;
    * a trailing slash is kept (it marks a "directory" for ``listdir`` and ``url``);
    * ``max_bytes`` limits the UTF-8 length of the result.
    """
    if type(name) is str and _NEEDS_A_LOOK.search(name) is None:
        return name if max_bytes is None else _check_length(name, name, max_bytes)
    if isinstance(name, pathlib.PurePath):
        name = name.as_posix()
    raw = os.fspath(name)
    if not isinstance(raw, str):
        raise TypeError(f"A storage name must be str or a path, not {type(raw).__name__}.")
    _check_characters(raw)
    if _NEEDS_NORMALIZING.search(raw) is None:
        return _check_length(raw, raw, max_bytes)
    text = raw.replace("\\", "/")
    if text.startswith("/") or (len(text) > 2 and text[0].isalpha() and text[1:3] == ":/"):
        raise SuspiciousFileOperation(
            f"Detected path traversal attempt in {raw!r}: absolute names are not allowed."
        )
    parts: list[str] = []
    for segment in text.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if not parts:
                raise SuspiciousFileOperation(
                    f"Detected path traversal attempt in {raw!r}: it escapes the storage location."
                )
            parts.pop()
            continue
        parts.append(segment)
    result = "/".join(parts)
    if result and text.endswith("/"):
        result += "/"
    return _check_length(raw, result, max_bytes)


def _check_length(raw: str, result: str, max_bytes: int | None) -> str:
    if max_bytes is not None and len(result.encode("utf-8")) > max_bytes:
        raise SuspiciousFileOperation(
            f"File name {raw[:80]!r}... is {len(result.encode('utf-8'))} bytes long once encoded; "
            f"this storage accepts at most {max_bytes}."
        )
    return result


def join_location(location: str, name: str) -> str:
    """Join a normalised ``name`` below ``location`` (which may be empty or absolute)."""
    if not location:
        return name
    base = location.rstrip("/")
    if not name:
        return base + "/"
    return f"{base}/{name}"


#: What :func:`temporary_name` makes: ``.<name>.<16 hex digits>.part``.
_TEMPORARY_NAME = re.compile(r"\..+\.[0-9a-f]{16}\.part", re.DOTALL)
# Bytes of the final name kept in a temporary one: with the 24 added, it fits a 255-byte limit.
_TEMPORARY_BASE_BYTES = 100


def temporary_name(path: str) -> str:
    """A fresh name beside ``path`` for an upload in progress, renamed into place when complete.

    It is hidden (a leading dot), recognisable by :func:`is_temporary_name` (listings leave it
    out, clean-ups find it) and fits a 255-byte file-name limit whatever the final name's length.
    """
    folder, base = posixpath.split(path)
    short = base.encode("utf-8")[:_TEMPORARY_BASE_BYTES].decode("utf-8", "ignore") or "upload"
    return posixpath.join(folder, f".{short}.{secrets.token_hex(8)}.part")


def is_temporary_name(base_name: str) -> bool:
    """Whether the file name ``base_name`` (no folder) is one :func:`temporary_name` made."""
    return _TEMPORARY_NAME.fullmatch(base_name) is not None


def safe_join(base: str, *paths: str) -> str:
    """Join ``paths`` below ``base`` and refuse results outside it.

    Kept for code written against the original ``storages.utils.safe_join``. Unlike the
    original, a ``..`` that escapes is refused even when ``base`` is empty, and the error is
    :class:`~django.core.exceptions.SuspiciousFileOperation` (a ``ValueError`` was raised before).
    """
    joined = "/".join(p.replace("\\", "/").strip("/") for p in paths if p)
    trailing = bool(paths) and paths[-1].endswith("/")
    relative = normalize_name(joined + ("/" if trailing and joined else ""))
    return join_location(base.strip("/"), relative).lstrip("/")


def check_location(storage: Any) -> None:
    """Refuse an object-store ``location`` that starts with a slash."""
    location = getattr(storage, "location", "") or ""
    if location.startswith("/"):
        correct = location.lstrip("/")
        raise ImproperlyConfigured(
            f"{storage.__class__.__name__}.location cannot begin with a leading slash. "
            f"Found '{location}'. Use '{correct}' instead."
        )


def get_available_overwrite_name(name: str, max_length: int | None) -> str:
    """The name to use when overwriting is allowed: ``name``, truncated to ``max_length``.

    The file root is shortened to fit while the extension is kept; nothing is checked on the
    server.
    """
    dir_name, file_name = os.path.split(name)
    if ".." in pathlib.PurePath(dir_name).parts:
        raise SuspiciousFileOperation(f"Detected path traversal attempt in '{dir_name}'")
    validate_file_name(file_name, allow_relative_path=True)
    if max_length is None or len(name) <= max_length:
        return name
    file_root, file_ext = os.path.splitext(file_name)
    truncation = len(name) - max_length
    file_root = file_root[:-truncation]
    if not file_root:
        raise SuspiciousFileOperation(
            f'Storage tried to truncate away entire filename "{name}". '
            'Please make sure that the corresponding file field allows sufficient "max_length".'
        )
    name = os.path.join(dir_name, f"{file_root}{file_ext}")
    validate_file_name(name, allow_relative_path=True)
    return name


#: Characters ``url_quote`` leaves as they are: RFC 3986's unreserved ones and ``/``.
_URL_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~/")
_URL_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-~/]")
# A table for str.translate, indexed by code point: a list, so that no lookup ever misses.
_ASCII_QUOTED = [chr(i) if chr(i) in _URL_SAFE else f"%{i:02X}" for i in range(128)]


def url_quote(name: str) -> str:
    """Percent-encode a storage name for a URL path (``/`` stays, ``+&#?%`` and spaces do not).

    Equal to ``urllib.parse.quote(name, safe="/~")``; ASCII names skip its per-byte loop."""
    if _URL_UNSAFE.search(name) is None:
        return name
    if name.isascii():
        return name.translate(_ASCII_QUOTED)
    return quote(name, safe="/~")


if TYPE_CHECKING:
    _ProxyBase = FileProxyMixin[Any]
else:
    _ProxyBase = FileProxyMixin  # generic only in django-stubs


class ReadBytesWrapper(_ProxyBase):
    """Wrap a file whose ``read`` may return text so that it always returns bytes."""

    def __init__(self, file: IO[Any], encoding: str | None = None) -> None:
        self.file = file
        self._wrapped = file
        self._encoding = encoding or getattr(file, "encoding", None) or "utf-8"

    def read(self, *args: Any, **kwargs: Any) -> bytes:
        content = self._wrapped.read(*args, **kwargs)
        if isinstance(content, str):
            return content.encode(self._encoding)
        return bytes(content)

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._wrapped.close()


def read_from_start(content: Any) -> ReadBytesWrapper:
    """An upload's ``content`` as a bytes reader from its first byte.

    Seekable content is rewound (Django may have read it already); text is UTF-8 encoded.
    The caller's file is never closed through the result's ``read``.
    """
    if is_seekable(content):
        content.seek(0)
    return ReadBytesWrapper(content)
