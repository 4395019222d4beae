"""Unit tests without a network: the location URL, the listing parsers, options and names."""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest
from django.core.exceptions import ImproperlyConfigured, SuspiciousFileOperation
from django.core.files.base import ContentFile
from django.test import override_settings

from storages.backends.ftp import FTPStorage, FTPStorageException
from storages.backends.ftp._listing import (
    Entry,
    entry_from_facts,
    parse_list_line,
    parse_mlsx_line,
    parse_timeval,
)
from storages.backends.ftp._location import parse_location
from storages.exceptions import MissingOptionError, StorageConfigurationError

# -- the location URL -------------------------------------------------------------------------


def test_location_with_percent_encoded_credentials() -> None:
    url = parse_location("ftp://me%40example.com:p%40ss%3Aw%2Frd@files.example.com:2121/media/")
    assert (url.user, url.password) == ("me@example.com", "p@ss:w/rd")
    assert (url.host, url.port, url.path) == ("files.example.com", 2121, "media")
    assert (url.active, url.secure) == (False, False)


def test_raw_at_in_password_still_works_as_in_the_original() -> None:
    url = parse_location("ftp://user:p@ss@host:21/")
    assert (url.user, url.password, url.host) == ("user", "p@ss", "host")


@pytest.mark.parametrize(
    ("location", "port", "path"),
    [
        ("ftp://u:p@host", 21, "/"),
        ("ftp://u:p@host/", 21, "/"),
        ("ftp://u:p@host:2121", 2121, "/"),
        ("ftp://u:p@host/media", 21, "media"),
        ("ftp://u:p@host/media/", 21, "media"),
        ("ftp://u:p@host//srv/media/", 21, "/srv/media"),
        ("ftp://u:p@host/%2Fsrv/media", 21, "/srv/media"),
        ("ftp://u:p@host/.", 21, "."),
        ("ftp://u:p@host/with%20space/", 21, "with space"),
    ],
)
def test_port_and_trailing_slash_are_optional(location: str, port: int, path: str) -> None:
    url = parse_location(location)
    assert (url.port, url.path) == (port, path)


@pytest.mark.parametrize(
    ("scheme", "active", "secure"),
    [("ftp", False, False), ("aftp", True, False), ("ftps", False, True), ("aftps", True, True)],
)
def test_schemes(scheme: str, active: bool, secure: bool) -> None:
    url = parse_location(f"{scheme}://u:p@h:21/")
    assert (url.active, url.secure) == (active, secure)


def test_ipv6_host_and_no_credentials() -> None:
    url = parse_location("ftp://[::1]:2121/x")
    assert (url.host, url.port, url.user, url.password) == ("::1", 2121, "", "")
    assert url.address == "[::1]:2121"


@pytest.mark.parametrize(
    ("location", "message"),
    [
        ("sftp://u:hunter2x@h:21/", "scheme 'sftp' is not supported"),
        ("ftp://u:hunter2x@:21/", "host is missing"),
        ("ftp://u:hunter2x@h:99999/", "port '99999'"),
        ("ftp://u:hunter2x@h:abc/", "port 'abc'"),
        ("u:hunter2x@h:21/", "not a URL"),
    ],
)
def test_malformed_location_is_refused_without_the_password(location: str, message: str) -> None:
    with pytest.raises(StorageConfigurationError, match=message) as caught:
        FTPStorage(location=location)
    assert "FTP_STORAGE_LOCATION" in str(caught.value)
    assert "hunter2x" not in str(caught.value)


def test_location_is_required_before_any_connection() -> None:
    storage = FTPStorage()
    with pytest.raises(MissingOptionError, match="FTP_STORAGE_LOCATION"):
        storage.exists("x")
    assert len(storage._pool) == 0


def test_location_repr_hides_the_password() -> None:
    url = parse_location("ftp://u:hunter2x@h/")
    assert "hunter2x" not in repr(url)
    assert "hunter2x" not in url.public_url


# -- options ------------------------------------------------------------------------------------


def test_defaults_match_the_original() -> None:
    with override_settings(MEDIA_URL="/media/"):
        storage = FTPStorage(location="ftp://u:p@h/")
    assert storage.allow_overwrite is False
    assert storage.base_url == "/media/"
    assert storage.encoding is None  # UTF-8 when the server announces it, else latin-1
    assert storage.timeout == 30.0
    assert storage.max_connections == 8
    assert storage.tls_verify is True


def test_settings_names_of_the_original() -> None:
    with override_settings(
        FTP_STORAGE_LOCATION="ftp://u:p@from-settings/",
        FTP_STORAGE_ENCODING="cp1252",
        BASE_URL="https://files.example/",
        MEDIA_URL="/media/",
        FTP_ALLOW_OVERWRITE=True,
        FTP_STORAGE_TIMEOUT=5,
        FTP_STORAGE_MAX_CONNECTIONS=2,
    ):
        storage = FTPStorage()
    assert storage._location_url is not None
    assert storage._location_url.host == "from-settings"
    assert (storage.encoding, storage.base_url, storage.allow_overwrite) == (
        "cp1252",
        "https://files.example/",
        True,
    )
    assert (storage.timeout, storage.max_connections, storage._pool.max_size) == (5.0, 2, 2)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"timeout": 0}, "timeout"),
        ({"timeout": "soon"}, "timeout"),
        ({"max_connections": 0}, "max_connections"),
        ({"max_connections": 2.5}, "max_connections"),
        ({"encoding": "no-such-codec"}, "encoding"),
        ({"locaton": "ftp://h/"}, "Did you mean 'location'"),
    ],
)
def test_bad_options_are_refused_at_construction(options: dict[str, object], message: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=message):
        FTPStorage(location="ftp://u:p@h/", **options)


def test_password_is_left_out_of_deconstruct_only_when_there_is_one() -> None:
    with_password = FTPStorage(location="ftp://u:hunter2x@h/", allow_overwrite=True)
    path, args, kwargs = with_password.deconstruct()
    assert path == "storages.backends.ftp.FTPStorage"
    assert (args, kwargs) == ((), {"allow_overwrite": True})
    anonymous = FTPStorage(location="ftp://h/pub/")
    assert anonymous.deconstruct()[2] == {"location": "ftp://h/pub/"}


def test_password_is_redacted_from_repr_and_option_sources() -> None:
    storage = FTPStorage(location="ftp://u:hunter2x@h/", base_url="/m/")
    assert "hunter2x" not in repr(storage)
    assert "hunter2x" not in str(storage.option_sources())
    assert "ftp://u:***@h/" in repr(storage)


def test_url_joins_base_url_percent_encoded_without_a_connection() -> None:
    storage = FTPStorage(location="ftp://u:p@host.invalid/", base_url="https://cdn.example/m/")
    assert storage.url("a b/ü+&#.txt") == "https://cdn.example/m/a%20b/%C3%BC%2B%26%23.txt"
    assert len(storage._pool) == 0
    with pytest.raises(ValueError, match="not accessible via a URL"):
        FTPStorage(location="ftp://u:p@h/", base_url=None).url("x")


def test_exception_keeps_the_original_name_and_is_an_oserror() -> None:
    assert FTPStorageException.__module__ == "storages.backends.ftp"
    assert issubclass(FTPStorageException, OSError)


@pytest.mark.parametrize("bad", ["../outside.txt", "a/../../outside.txt", "/etc/passwd", "..\\outside.txt"])
def test_every_method_confines_names_before_sending_anything(bad: str) -> None:
    # An unreachable host: any method that touched the network would fail differently.
    storage = FTPStorage(location="ftp://u:p@host.invalid/", base_url="/media/")
    calls: dict[str, Callable[[], object]] = {
        "save": lambda: storage.save(bad, ContentFile(b"x")),
        "open-rb": lambda: storage.open(bad, "rb"),
        "open-wb": lambda: storage.open(bad, "wb"),
        "delete": lambda: storage.delete(bad),
        "exists": lambda: storage.exists(bad),
        "size": lambda: storage.size(bad),
        "listdir": lambda: storage.listdir(bad),
        "mtime": lambda: storage.get_modified_time(bad),
        "url": lambda: storage.url(bad),
    }
    for method, call in calls.items():
        with pytest.raises(SuspiciousFileOperation):
            call()
            pytest.fail(f"{method} accepted {bad!r}")
    assert len(storage._pool) == 0


def test_line_breaks_in_names_are_refused() -> None:
    # A CR/LF in a name would end the FTP command early and start another one.
    storage = FTPStorage(location="ftp://u:p@host.invalid/")
    for bad in ("a\r\nDELE b", "a\nb"):
        with pytest.raises(SuspiciousFileOperation):
            storage.exists(bad)


# -- listings -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "-rw-r--r--   1 owner    group        1234 Jan 01 12:00 report.txt",
            Entry("report.txt", is_dir=False, size=1234),
        ),
        (
            "drwxr-xr-x   2 owner    group        4096 Dec 31  2019 old folder",
            Entry("old folder", is_dir=True),
        ),
        (
            "-rw-r--r--   1 owner    group           7 Feb  3 09:05   leading and  double spaces ",
            Entry("  leading and  double spaces ", is_dir=False, size=7),
        ),
        (
            "-rw-r--r-- 1 ftp 5 Mar 14 2021 no group column.txt",
            Entry("no group column.txt", is_dir=False, size=5),
        ),
        (
            "-rw-r--r--   1 own er   group        3 Jan 01 12:00 12 Jan 01 12:00 tricky",
            Entry("12 Jan 01 12:00 tricky", is_dir=False, size=3),
        ),
        ("lrwxrwxrwx   1 o g   11 Jan 01 12:00 latest -> report.txt", Entry("latest", is_dir=False, size=11)),
        (
            "-rw-r--r--   1 o g   2 Jan 01 12:00 ünïcödé 名前.txt",
            Entry("ünïcödé 名前.txt", is_dir=False, size=2),
        ),
        ("-rw-rw-rw-+  1 o g   9 Jan 01 12:00 acl.txt", Entry("acl.txt", is_dir=False, size=9)),
        ("01-16-24  02:35PM       <DIR>          Folder Name", Entry("Folder Name", is_dir=True)),
        (
            "01-16-24  02:35PM                 1234 file name.txt",
            Entry("file name.txt", is_dir=False, size=1234),
        ),
        ("01-16-2024  14:35                   0 empty.txt", Entry("empty.txt", is_dir=False, size=0)),
        ("12-01-26  10:36AM              2 a b.txt", Entry("a b.txt", is_dir=False, size=2)),
        ("12-01-26  10:36AM              2   lead.txt", Entry("  lead.txt", is_dir=False, size=2)),
        ("12-01-26  10:36AM       <DIR>            lead dir", Entry("  lead dir", is_dir=True)),
    ],
)
def test_list_lines(line: str, expected: Entry) -> None:
    assert parse_list_line(line) == expected


@pytest.mark.parametrize(
    "line",
    [
        "total 12",
        "",
        "drwxr-xr-x   2 o g 4096 Jan 01 12:00 .",
        "drwxr-xr-x   2 o g 4096 Jan 01 12:00 ..",
        "01-16-24  02:35PM       <DIR>          .",
        "garbage that is no listing",
    ],
)
def test_list_lines_that_are_skipped(line: str) -> None:
    assert parse_list_line(line) is None


def test_mlsd_lines_keep_the_whole_name() -> None:
    facts, name = parse_mlsx_line("type=file;size=12;modify=20240102030405.250; a; b c.txt")
    assert name == "a; b c.txt"
    entry = entry_from_facts(facts, name)
    assert entry == Entry(
        "a; b c.txt",
        is_dir=False,
        size=12,
        modified=datetime.datetime(2024, 1, 2, 3, 4, 5, 250000, tzinfo=datetime.UTC),
    )
    assert entry_from_facts(*parse_mlsx_line("Type=cdir;Modify=20240101000000; /x")) is None
    assert entry_from_facts(*parse_mlsx_line("type=pdir; ..")) is None
    assert entry_from_facts(*parse_mlsx_line("TYPE=DIR;UNIX.mode=0755; sub")) == Entry("sub", is_dir=True)


def test_timevals() -> None:
    assert parse_timeval("20240102030405") == datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    assert parse_timeval("20240102030405.5").microsecond == 500000
    for bad in ("2024", "2024010203040x", "20241302030405"):
        with pytest.raises(ValueError):
            parse_timeval(bad)
