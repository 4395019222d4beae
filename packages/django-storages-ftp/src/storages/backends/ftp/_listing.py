"""Reading what FTP servers answer: ``MLSD``/``MLST`` facts, ``LIST`` lines, ``MDTM`` times.

``MLSD`` (RFC 3659) is machine-readable and keeps every character of a name. Servers without
it answer ``LIST`` in whatever their platform's ``ls`` prints; the two formats seen in the
wild are parsed here: Unix ``ls -l`` (with or without a group column, with a time or a year)
and the DOS/IIS format. Lines in neither format are skipped, never guessed at.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

__all__ = ["Entry", "parse_facts", "parse_list_line", "parse_mlsx_line", "parse_timeval"]


@dataclass(frozen=True)
class Entry:
    """One entry of a folder listing."""

    name: str
    is_dir: bool
    size: int | None = None
    #: Modification time in UTC (aware), when the listing tells it precisely.
    modified: datetime.datetime | None = None


def parse_timeval(value: str) -> datetime.datetime:
    """``YYYYMMDDHHMMSS[.sss]`` (``MDTM``, the ``modify`` fact: always UTC) as an aware datetime."""
    value = value.strip()
    main, _dot, fraction = value.partition(".")
    if len(main) != 14 or not main.isdigit() or (fraction and not fraction.isdigit()):
        raise ValueError(f"not an FTP time value: {value!r}")
    stamp = datetime.datetime.strptime(main, "%Y%m%d%H%M%S").replace(tzinfo=datetime.UTC)
    if fraction:
        stamp += datetime.timedelta(microseconds=int(fraction[:6].ljust(6, "0")))
    return stamp


def parse_facts(text: str) -> dict[str, str]:
    """``type=file;size=12;modify=20240101120000;`` as ``{"type": "file", ...}`` (keys lower case)."""
    facts = {}
    for fact in text.split(";"):
        key, equals, value = fact.partition("=")
        if equals:
            facts[key.strip().lower()] = value
    return facts


def parse_mlsx_line(line: str) -> tuple[dict[str, str], str]:
    """One ``MLSD`` line, or the entry line of an ``MLST`` answer: ``(facts, name)``.

    The name follows the first space and is kept exactly (spaces, semicolons and all). ``MLST``
    answers start with a space and may give the path rather than the bare name.
    """
    line = line.removeprefix(" ").rstrip("\r\n")
    facts, _space, name = line.partition(" ")
    return parse_facts(facts), name


def entry_from_facts(facts: dict[str, str], name: str) -> Entry | None:
    """An :class:`Entry`, or ``None`` for the folder itself and its parent (``cdir``, ``pdir``)."""
    kind = facts.get("type", "").lower()
    if kind in ("cdir", "pdir") or name in ("", ".", ".."):
        return None
    size = facts.get("size") or facts.get("sizd")
    modified = None
    if "modify" in facts:
        try:
            modified = parse_timeval(facts["modify"])
        except ValueError:
            modified = None
    return Entry(
        name=name,
        # OS.unix=slink... (a link) is listed as a file, like LIST's "l" entries.
        is_dir=kind == "dir",
        size=int(size) if size and size.isdigit() else None,
        modified=modified,
    )


# "drwxr-xr-x   2 owner  group   4096 Jan  1 12:00 name with spaces"; the group column is
# missing on some servers, the link count on others. Anchored on the size and date columns,
# which every variant has, so that owner and group names cannot shift the name.
_UNIX = re.compile(
    r"^(?P<mode>[-bcdlpsw?DL][-rwxsStTlL+.@]{9}[+.@]?)\s+"
    r"(?:.*?\s+)?"
    r"(?P<size>\d+)\s+"
    r"(?P<month>[A-Za-z]{3})\s+(?P<day>\d{1,2})\s+(?P<time>\d{1,2}:\d{2}|\d{4})"
    r" (?P<name>.+)$"
)

# "01-16-24  02:35PM       <DIR>          name" / "01-16-2024  14:35     1234 name"
_WINDOWS = re.compile(
    r"^(?P<date>\d{1,2}-\d{1,2}-\d{2,4})\s+(?P<time>\d{1,2}:\d{2}\s?(?:[AaPp][Mm])?)\s+"
    # IIS pads "<DIR>" to 14 columns and right-aligns sizes in them, then one space: a name's
    # own leading spaces survive.
    r"(?:(?P<dir><DIR>)(?: {10}|\s+)|(?P<size>\d+) )(?P<name>.+)$"
)


def parse_list_line(line: str) -> Entry | None:
    """One line of a ``LIST`` answer (Unix or Windows format), or ``None`` to skip it.

    Skipped: ``total N`` headers, ``.`` and ``..``, and lines in neither format. A symbolic
    link (``name -> target``) is listed under its own name, as a file. ``LIST`` times are
    minutes at best, in the server's own time zone: they are not used (``MDTM`` is).
    """
    line = line.rstrip("\r\n")
    if not line.strip() or line.lower().startswith("total "):
        return None
    match = _UNIX.match(line)
    if match is not None:
        mode, name = match.group("mode"), match.group("name")
        if mode[0] == "l" and " -> " in name:
            name = name.split(" -> ", 1)[0]
        if name in (".", ".."):
            return None
        is_dir = mode[0] in "dD"
        return Entry(name=name, is_dir=is_dir, size=None if is_dir else int(match.group("size")))
    match = _WINDOWS.match(line)
    if match is not None:
        name = match.group("name")
        if name in (".", ".."):
            return None
        if match.group("dir"):
            return Entry(name=name, is_dir=True)
        return Entry(name=name, is_dir=False, size=int(match.group("size")))
    return None
