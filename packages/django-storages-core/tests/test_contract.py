"""The Storage contract core holds every provider to: pull-style uploads, the original's
subclassing patterns, nested secrets, and storages rebuilt from ``deconstruct()``."""

from __future__ import annotations

import io
import threading
import uuid
import warnings
from typing import IO, Any

import pytest
from django.core.checks import run_checks
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db.migrations.writer import MigrationWriter
from django.test import override_settings
from django.utils.module_loading import import_string
from memory_provider import MemoryFile, MemoryStorage

from storages.base import BaseStorage
from storages.exceptions import StorageWriteError
from storages.files import StreamingFile, UploadAborted
from storages.options import REDACTED, Option, holds_secret, nested_secrets, redact_nested
from storages.utils import setting_time

MEMORY = "memory_provider.MemoryStorage"


# -- pull-style uploads ---------------------------------------------------------------------


class PullFile(StreamingFile):
    """A provider that uploads from a readable stream, as ftplib, paramiko or libcloud do."""

    part_size = 4096

    def _open_stream(self, offset: int) -> IO[bytes]:
        return io.BytesIO(self.storage.objects[self.key][0][offset:])  # type: ignore[attr-defined]

    def _upload_stream(self, stream: IO[bytes]) -> None:
        storage: PullStorage = self.storage  # type: ignore[assignment]
        storage.uploads.append(threading.current_thread().name)
        received = bytearray()
        while chunk := stream.read(1000):
            received += chunk
            storage.peak_buffered = max(storage.peak_buffered, len(chunk))
            if storage.fail_after is not None and len(received) >= storage.fail_after:
                raise ConnectionError("injected: the server went away mid-upload")
        storage.objects[self.key] = (bytes(received), None)

    def _abort(self) -> None:
        self.storage.aborts += 1  # type: ignore[attr-defined]


class PullStorage(MemoryStorage):
    file_class = PullFile  # type: ignore[assignment]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.uploads: list[str] = []
        self.aborts = 0
        self.peak_buffered = 0
        self.fail_after: int | None = None


@pytest.fixture
def pull() -> PullStorage:
    return PullStorage(bucket_name=f"pull-{uuid.uuid4().hex}")


def test_pull_small_file_is_one_upload_on_the_calling_thread(pull: PullStorage) -> None:
    pull.save("small.txt", ContentFile(b"tiny"))
    assert pull.uploads == [threading.current_thread().name]
    assert pull.objects["small.txt"][0] == b"tiny"


def test_pull_large_file_streams_through_a_worker(pull: PullStorage) -> None:
    data = bytes(range(256)) * 200  # 51,200 bytes: 12 parts and a tail
    with pull.open("large.bin", "wb") as f:
        for start in range(0, len(data), 3000):
            f.write(data[start : start + 3000])
    assert pull.uploads == ["storages-upload"]
    assert pull.objects["large.bin"][0] == data
    assert pull.aborts == 0


def test_pull_read_returns_full_chunks_until_the_end(pull: PullStorage) -> None:
    sizes: list[int] = []

    class Recording(PullFile):
        def _upload_stream(self, stream: IO[bytes]) -> None:
            while chunk := stream.read(1500):
                sizes.append(len(chunk))

    f = Recording("x.bin", "wb", pull)
    with f:
        f.write(b"a" * 10_000)
    # Short reads only at the end: resumable uploads take a short read for the last chunk.
    assert sizes == [1500] * 6 + [1000]


def test_pull_upload_failure_is_final(pull: PullStorage) -> None:
    pull.fail_after = 6000
    f = pull.open("fails.bin", "wb")
    try:
        with pytest.raises(ConnectionError, match="injected"):
            for _ in range(20):
                f.write(b"z" * 4096)
        with pytest.raises(StorageWriteError):
            f.write(b"more")
    finally:
        with pytest.raises(StorageWriteError) as raised:
            f.close()
    assert isinstance(raised.value.__cause__, ConnectionError)
    assert "fails.bin" not in pull.objects
    assert pull.aborts == 1


def test_pull_abort_makes_the_stream_raise_and_publishes_nothing(pull: PullStorage) -> None:
    seen: list[BaseException] = []

    class Watching(PullFile):
        def _upload_stream(self, stream: IO[bytes]) -> None:
            try:
                super()._upload_stream(stream)
            except BaseException as exc:
                seen.append(exc)
                raise

    class Interrupted(Exception):
        pass

    with pytest.raises(Interrupted), Watching("aborted.bin", "wb", pull) as f:
        f.write(b"q" * 20_000)
        raise Interrupted
    assert [type(e) for e in seen] == [UploadAborted]
    assert "aborted.bin" not in pull.objects
    assert pull.aborts == 1


def test_pull_upload_that_stops_reading_early_is_an_error(pull: PullStorage) -> None:
    class Lazy(PullFile):
        def _upload_stream(self, stream: IO[bytes]) -> None:
            stream.read(10)

    f = Lazy("lazy.bin", "wb", pull)
    with pytest.raises(RuntimeError, match="before the end"), f:
        f.write(b"w" * 50_000)
    assert "lazy.bin" not in pull.objects


def test_push_commit_failure_aborts_once_and_later_close_is_silent() -> None:
    storage = MemoryStorage(bucket_name=f"push-{uuid.uuid4().hex}")
    storage.fail_commit = True
    f = storage.open("c.txt", "wb")
    f.write(b"data")
    with pytest.raises(ConnectionError):
        f.close()
    f.close()
    assert [c[0] for c in storage.calls] == ["commit", "abort"]
    assert not storage.exists("c.txt")


def test_reopened_write_file_starts_clean_after_a_failure() -> None:
    storage = MemoryStorage(bucket_name=f"push-{uuid.uuid4().hex}")
    storage.fail_commit = True
    f = storage.open("again.txt", "wb")
    f.write(b"first")
    with pytest.raises(ConnectionError):
        f.close()
    storage.fail_commit = False
    assert isinstance(f, MemoryFile)
    f.open("wb")
    f.write(b"second")
    f.close()
    with storage.open("again.txt") as read:
        assert read.read() == b"second"


# -- the original's subclassing patterns -------------------------------------------------------


def test_attribute_set_before_super_init_is_honoured() -> None:
    class Media(MemoryStorage):
        def __init__(self, **kwargs: Any) -> None:
            self.location = "media"
            self.bucket_name = "from-subclass"
            super().__init__(**kwargs)

    storage = Media()
    assert storage.location == "media"
    assert storage.bucket_name == "from-subclass"
    assert storage.option_sources()["location"][1] == "attribute Media.location set before __init__"
    assert Media(location="kwargs-win").location == "kwargs-win"


def test_attribute_set_before_super_init_beats_settings() -> None:
    class Media(MemoryStorage):
        def __init__(self, **kwargs: Any) -> None:
            self.location = "media"
            super().__init__(**kwargs)

    with override_settings(MEMORY_LOCATION="from-settings"):
        assert Media().location == "media"
        assert MemoryStorage().location == "from-settings"


class LegacyStorage(BaseStorage):
    """A third-party backend written for django-storages 1.x."""

    def get_default_settings(self) -> dict[str, Any]:
        from django.conf import settings

        return {
            "endpoint": getattr(settings, "LEGACY_ENDPOINT", "https://default.invalid"),
            "api_token": getattr(settings, "LEGACY_TOKEN", None),
            "retries": 3,
        }

    def exists(self, name: str) -> bool:
        return False


def test_get_default_settings_gives_defaults_and_accepts_them_as_kwargs() -> None:
    with (
        pytest.warns(DeprecationWarning, match="OptionSet"),
        override_settings(LEGACY_ENDPOINT="https://set"),
    ):
        storage = LegacyStorage(retries=5)
    assert (storage.endpoint, storage.retries, storage.api_token) == ("https://set", 5, None)  # type: ignore[attr-defined]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with pytest.raises(Exception, match="no option 'retry'"):
            LegacyStorage(retry=1)
        secret = LegacyStorage(api_token="s3cr3t-t0ken")
    assert "s3cr3t-t0ken" not in repr(secret)
    assert "s3cr3t-t0ken" not in MigrationWriter.serialize(secret)[0]


def test_get_default_settings_names_pass_the_system_checks() -> None:
    storages = {
        "default": {
            "BACKEND": "test_contract.LegacyStorage",
            "OPTIONS": {"retries": 1, "endpoint": "https://x"},
        },
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(STORAGES=storages), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        errors = [m for m in run_checks(tags=["storages"]) if m.id.startswith("storages.E")]
    assert errors == []


def test_constructor_arguments_that_are_not_options_pass_the_checks() -> None:
    class Signed(MemoryStorage):
        def __init__(self, *, signer: Any = None, **kwargs: Any) -> None:
            self.signer = signer
            super().__init__(**kwargs)

    assert "signer" in Signed.init_arguments()
    assert "bucket_name" not in Signed.init_arguments()


# -- secrets nested in other options --------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (
            {"SSECustomerKey": "k3y", "CacheControl": "max-age=1"},
            {"SSECustomerKey": REDACTED, "CacheControl": "max-age=1"},
        ),
        ({"https": "http://user:pa55@proxy:3128"}, {"https": f"http://user:{REDACTED}@proxy:3128"}),
        ("ftp://joe:p%40ss@ftp.example.com:21/root/", f"ftp://joe:{REDACTED}@ftp.example.com:21/root/"),
        (["http://a:b@h/"], [f"http://a:{REDACTED}@h/"]),
        ("ftp://joe:p@ss:w@host:21/a@b", f"ftp://joe:{REDACTED}@host:21/a@b"),
        ("ftp://me@example.com:pa55@host/", f"ftp://me@example.com:{REDACTED}@host/"),
    ],
    ids=["dict-key", "proxy-url", "ftp-url", "list", "raw-at-in-password", "at-in-user"],
)
def test_nested_secrets_are_redacted(value: Any, shown: Any) -> None:
    assert redact_nested(value) == shown
    assert holds_secret(Option("x"), value)


def test_values_without_secrets_are_kept_as_they_are() -> None:
    value = {"CacheControl": "max-age=1", "url": "https://host/path"}
    assert redact_nested(value) is value
    assert not holds_secret(Option("x"), value)
    assert nested_secrets("ftp://joe:p%40ss@host/") == ["p%40ss", "p@ss"]
    assert redact_nested("http://host:8080/path@x") == "http://host:8080/path@x"
    assert redact_nested("http://user@host:8080/") == "http://user@host:8080/"


class ParamStorage(MemoryStorage):
    options = MemoryStorage.options.extend(
        Option("object_parameters", default_factory=dict, doc="Extra parameters."),
        Option("proxy_url", doc="A proxy URL, perhaps with credentials."),
    )


def test_nested_secret_never_in_repr_command_or_migration() -> None:
    storage = ParamStorage(
        bucket_name="b",
        object_parameters={"SSECustomerKey": "sup3r-k3y"},
        proxy_url="http://me:pr0xy-pw@proxy:8080",
    )
    assert "sup3r-k3y" not in repr(storage) and "pr0xy-pw" not in repr(storage)
    shown = str(storage.option_sources())
    assert "sup3r-k3y" not in shown and "pr0xy-pw" not in shown
    serialized = MigrationWriter.serialize(storage)[0]
    assert "sup3r-k3y" not in serialized and "pr0xy-pw" not in serialized
    entry = {"BACKEND": "test_contract.ParamStorage", "OPTIONS": storage._given_options()}
    with override_settings(STORAGES={"default": entry}):
        out = io.StringIO()
        call_command("storages", "show", "default", stdout=out)
    assert "sup3r-k3y" not in out.getvalue() and "pr0xy-pw" not in out.getvalue()


# -- rebuilt from deconstruct() ---------------------------------------------------------------------


def rebuild(storage: Any) -> Any:
    path, args, kwargs = storage.deconstruct()
    return import_string(path)(*args, **kwargs)


def test_rebuild_gets_the_entrys_secrets_back() -> None:
    options = {"bucket_name": "media", "api_key": "only-in-options"}
    with override_settings(STORAGES={"default": {"BACKEND": MEMORY, "OPTIONS": options}}):
        from django.core.files.storage import storages

        rebuilt = rebuild(storages["default"])
    assert rebuilt.api_key == "only-in-options"


def test_rebuild_through_an_alias_backend_path() -> None:
    class Sub(MemoryStorage):
        pass

    options = {"bucket_name": "media", "api_key": "k"}
    with override_settings(STORAGES={"default": {"BACKEND": Sub, "OPTIONS": options}}):
        assert Sub(bucket_name="media").api_key == "k"


def test_ad_hoc_instance_falls_back_to_settings() -> None:
    with override_settings(
        MEMORY_API_KEY="from-settings",
        STORAGES={"default": {"BACKEND": MEMORY, "OPTIONS": {"bucket_name": "other", "api_key": "entry"}}},
    ):
        adhoc = MemoryStorage(bucket_name="media", api_key="given")
        assert adhoc.deconstruct()[2] == {"bucket_name": "media"}
        assert rebuild(adhoc).api_key == "from-settings"


def test_two_entries_with_different_secrets_are_not_guessed(caplog: pytest.LogCaptureFixture) -> None:
    entries = {
        "default": {"BACKEND": MEMORY, "OPTIONS": {"bucket_name": "media", "api_key": "one"}},
        "backup": {"BACKEND": MEMORY, "OPTIONS": {"bucket_name": "media", "api_key": "two"}},
    }
    with override_settings(STORAGES=entries):
        rebuilt = MemoryStorage(bucket_name="media")
    assert rebuilt.api_key is None
    assert "match 2 STORAGES entries" in caplog.text


def test_an_entry_with_exactly_these_options_is_not_given_another_entrys_secrets() -> None:
    entries = {
        "default": {"BACKEND": MEMORY, "OPTIONS": {"api_key": "default's key"}},
        "backup": {"BACKEND": MEMORY},  # its key comes from settings
    }
    with override_settings(STORAGES=entries, MEMORY_API_KEY="from-settings"):
        from django.core.files.storage import storages

        assert storages["backup"].api_key == "from-settings"
        assert storages["default"].api_key == "default's key"


def test_explicit_secret_is_never_replaced_by_the_entry() -> None:
    options = {"bucket_name": "media", "api_key": "entry"}
    with override_settings(STORAGES={"default": {"BACKEND": MEMORY, "OPTIONS": options}}):
        assert MemoryStorage(bucket_name="media", api_key="mine").api_key == "mine"
        assert MemoryStorage(bucket_name="media", location="x").api_key is None


# -- time ---------------------------------------------------------------------------------------


def test_setting_time_follows_use_tz() -> None:
    import datetime

    with override_settings(USE_TZ=True):
        aware = setting_time(0)
        assert aware == datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
    with override_settings(USE_TZ=False, TIME_ZONE="Europe/Paris"):
        assert setting_time(0) == datetime.datetime(1970, 1, 1, 1, 0)
        assert setting_time(datetime.datetime(1970, 1, 1)) == datetime.datetime(1970, 1, 1, 1, 0)
