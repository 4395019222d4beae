"""Name normalisation and confinement, shared by every provider."""

from __future__ import annotations

import pathlib
import uuid

import pytest
from django.core.exceptions import ImproperlyConfigured, SuspiciousFileOperation
from hypothesis import example, given
from hypothesis import strategies as st
from memory_provider import MemoryStorage

from storages.utils import (
    check_location,
    clean_name,
    get_available_overwrite_name,
    join_location,
    normalize_name,
    safe_join,
    url_quote,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", ""),
        (".", ""),
        ("a/b/../c.txt", "a/c.txt"),
        ("a//b", "a/b"),
        ("a/./b/", "a/b/"),
        ("./x", "x"),
        ("path\\to\\file.txt", "path/to/file.txt"),
        ("folder/", "folder/"),
        (pathlib.PurePosixPath("a/b.txt"), "a/b.txt"),
        (pathlib.PureWindowsPath("a\\b.txt"), "a/b.txt"),
        ("ünï cödé/名前.txt", "ünï cödé/名前.txt"),
    ],
)
def test_normalize_name(raw: str, expected: str) -> None:
    assert normalize_name(raw) == expected


@pytest.mark.parametrize(
    "bad",
    ["../x", "a/../../x", "..", "/abs/x", "//x", "\\x", "..\\x", "a\\..\\..\\x", "C:\\x", "c:/x"],
)
def test_escaping_names_are_refused(bad: str) -> None:
    with pytest.raises(SuspiciousFileOperation):
        normalize_name(bad)


@pytest.mark.parametrize("bad", ["a\x00b", "line\nbreak", "tab\there", "bell\x07", "del\x7f"])
def test_control_characters_are_refused(bad: str) -> None:
    with pytest.raises(SuspiciousFileOperation):
        normalize_name(bad)


def test_length_limit_counts_utf8_bytes() -> None:
    assert normalize_name("é" * 512, max_bytes=1024)
    with pytest.raises(SuspiciousFileOperation, match="at most 1024"):
        normalize_name("é" * 513, max_bytes=1024)


def test_storage_refuses_overlong_keys_including_location() -> None:
    storage = MemoryStorage(bucket_name=f"names-{uuid.uuid4().hex}", location="media")
    with pytest.raises(SuspiciousFileOperation):
        storage.exists("x" * 1020)


@pytest.mark.parametrize(
    ("location", "name", "expected"),
    [
        ("", "a.txt", "a.txt"),
        ("media", "a.txt", "media/a.txt"),
        ("media/", "", "media/"),
        ("/srv/root/", "x/y", "/srv/root/x/y"),
    ],
)
def test_join_location(location: str, name: str, expected: str) -> None:
    assert join_location(location, name) == expected


def test_empty_location_still_confines() -> None:
    storage = MemoryStorage(bucket_name=f"names-{uuid.uuid4().hex}", location="")
    with pytest.raises(SuspiciousFileOperation):
        storage.exists("../../etc/passwd")


def test_safe_join_compatibility() -> None:
    assert safe_join("media", "x/") == "media/x/"
    assert safe_join("media/", "a") == "media/a"
    assert safe_join("", "a/../b") == "b"
    with pytest.raises(SuspiciousFileOperation):
        safe_join("", "../../etc/passwd")  # the original clamped this silently
    with pytest.raises(SuspiciousFileOperation):
        safe_join("media", "../media2/x")


def test_clean_name_keeps_original_semantics() -> None:
    assert clean_name("a/b/../c.txt") == "a/c.txt"
    assert clean_name("folder/") == "folder/"
    assert clean_name(".") == ""
    assert clean_name(pathlib.PurePosixPath("x/y")) == "x/y"


def test_check_location_refuses_leading_slash() -> None:
    class Fake:
        location = "/media"

    with pytest.raises(ImproperlyConfigured, match="Use 'media' instead"):
        check_location(Fake())


def test_overwrite_name_truncates_root_and_keeps_extension() -> None:
    assert get_available_overwrite_name("folder/abcdefgh.txt", 15) == "folder/abcd.txt"
    assert get_available_overwrite_name("folder/a.txt", None) == "folder/a.txt"
    with pytest.raises(SuspiciousFileOperation, match="truncate away"):
        get_available_overwrite_name("folder/abc.txt", 8)
    with pytest.raises(SuspiciousFileOperation):
        get_available_overwrite_name("a/../../b.txt", None)


def test_overwrite_mode_naming_in_storage() -> None:
    storage = MemoryStorage(bucket_name=f"names-{uuid.uuid4().hex}", file_overwrite=True)
    assert storage.get_available_name("dir/name.txt", max_length=12) == "dir/name.txt"
    assert storage.get_available_name("dir/longname.txt", max_length=12) == "dir/long.txt"


def test_url_quote_encodes_reserved_characters() -> None:
    assert url_quote("a b&c+d#e?f%g ü.txt") == "a%20b%26c%2Bd%23e%3Ff%25g%20%C3%BC.txt"
    assert url_quote("dir/sub/x") == "dir/sub/x"
    assert url_quote("a-b_c.d~e/F9") == "a-b_c.d~e/F9"
    assert url_quote("\x7f\x00 ") == "%7F%00%20"


@given(st.text())
def test_url_quote_equals_urllib_quote_with_slash_and_tilde_safe(name: str) -> None:
    from urllib.parse import quote

    assert url_quote(name) == quote(name, safe="/~")


@given(st.text(alphabet=st.characters(codec="ascii")))
def test_url_quote_of_ascii_equals_urllib_quote(name: str) -> None:
    from urllib.parse import quote

    assert url_quote(name) == quote(name, safe="/~")


_segment = st.one_of(
    st.sampled_from(["..", ".", "", "a", "b", "..\\..", "\\", "/", "ü", "x y", "C:", "%2e%2e"]),
    st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs")), max_size=6),
)


@given(st.lists(_segment, max_size=8).map("/".join), st.sampled_from(["", "media", "/srv/root", "a/b/"]))
def test_no_generated_name_resolves_outside_the_location(name: str, location: str) -> None:
    try:
        relative = normalize_name(name)
    except SuspiciousFileOperation:
        return
    full = join_location(location, relative)
    parts = relative.split("/")
    assert ".." not in parts
    assert not relative.startswith("/")
    base = location.rstrip("/")
    assert full == relative if not base else full.startswith(base + "/")
    # Resolving the joined path as a filesystem would must stay below the location.
    resolved = pathlib.PurePosixPath("/", location or ".", relative)
    assert not any(p == ".." for p in resolved.parts)


class _Name(str):
    """A str subclass: ``normalize_name`` gives it the full algorithm, never the fast path."""


def _outcome(name: str, max_bytes: int | None) -> str:
    try:
        return normalize_name(name, max_bytes)
    except SuspiciousFileOperation as exc:
        return f"refused: {exc}"


@given(
    st.one_of(st.lists(_segment, max_size=8).map("/".join), st.text()),
    st.sampled_from([None, 4, 255]),
)
def test_the_fast_path_of_normalize_name_equals_the_full_algorithm(name: str, max_bytes: int | None) -> None:
    assert _outcome(name, max_bytes) == _outcome(_Name(name), max_bytes)


@given(st.text(alphabet=st.characters(blacklist_characters="/\x00"), min_size=1, max_size=255))
@example("\n")  # a newline in a name: "$" alone matched before it
def test_a_temporary_name_fits_255_bytes_and_is_recognised(base: str) -> None:
    from storages.utils import is_temporary_name, temporary_name

    temp = temporary_name(f"folder/sub/{base}")
    folder, _, temp_base = temp.rpartition("/")
    assert folder == "folder/sub"
    assert len(temp_base.encode("utf-8")) <= 125
    assert is_temporary_name(temp_base)
    assert temporary_name(f"folder/sub/{base}") != temp
    assert not is_temporary_name(base) or base.endswith(".part")


def test_compatibility_helpers_of_the_original_utils(monkeypatch: pytest.MonkeyPatch) -> None:
    from django.test import override_settings

    from storages.utils import lookup_env, setting, to_bytes

    with override_settings(SOME_STORAGE_SETTING="x"):
        assert setting("SOME_STORAGE_SETTING") == "x"
    assert setting("NO_SUCH_STORAGE_SETTING", "default") == "default"
    monkeypatch.setenv("SECOND", "2")
    monkeypatch.setenv("FIRST", "")
    assert lookup_env(["FIRST", "SECOND"]) == "2"
    assert lookup_env(["FIRST"]) is None
    buffer = bytearray(b"ab")
    assert to_bytes(buffer) is buffer
    assert to_bytes("é") == "é".encode()
