"""``DropboxStorage``: Django storage in a Dropbox folder, through the official ``dropbox`` SDK."""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import random
import threading
import time
import warnings
from collections.abc import Callable
from typing import IO, Any, ClassVar, TypeVar

from django.core.exceptions import SuspiciousFileOperation

from storages.base import BaseStorage
from storages.exceptions import MissingDependencyError, StorageConfigurationError
from storages.files import StreamingFile
from storages.options import Option, OptionSet, defining_class
from storages.utils import normalize_name, setting_time

try:
    import requests
    import requests.adapters
    import urllib3.exceptions

    import dropbox
    import dropbox.exceptions
    import dropbox.files
except ImportError:  # pragma: no cover - reported when a storage is built
    dropbox = None

logger = logging.getLogger("storages.dropbox")

T = TypeVar("T")

_DEFAULT_TIMEOUT = 100
_DEFAULT_MODE = "add"
#: Dropbox hashes uploads in blocks of 4 MiB (its "content hash").
_HASH_BLOCK = 4 * 1024 * 1024
#: Names Dropbox refuses to save (``disallowed_name``): the files it never syncs.
_DISALLOWED_NAMES = frozenset(
    {"desktop.ini", "thumbs.db", ".ds_store", "icon\r", ".dropbox", ".dropbox.attr"}
)
#: Retries of a call answered with a 5xx or a 429, all within the ``timeout``.
_MAX_RETRIES = 4
_FIRST_BACKOFF = 0.25

_AUTH_HELP = (
    "Set settings.DROPBOX_OAUTH2_TOKEN, or settings.DROPBOX_APP_KEY, settings.DROPBOX_APP_SECRET "
    "and settings.DROPBOX_OAUTH2_REFRESH_TOKEN (or the same keys in the STORAGES OPTIONS)."
)


class DropboxStorageException(OSError):
    """Dropbox refused a call (credentials, a name it will not store, a conflict)."""


def content_hash(data: bytes) -> str:
    """Dropbox's content hash: the SHA-256 of the SHA-256 digests of each 4 MiB block."""
    view = memoryview(data)
    blocks = b"".join(
        hashlib.sha256(view[i : i + _HASH_BLOCK]).digest() for i in range(0, len(view), _HASH_BLOCK)
    )
    return hashlib.sha256(blocks).hexdigest()


def _is_not_found(error: Any) -> bool:
    """Whether an SDK route error is a LookupError ``not_found`` under any of its tags."""
    for tag in ("path", "path_lookup"):
        check = getattr(error, f"is_{tag}", None)
        if check is not None and check():
            lookup = getattr(error, f"get_{tag}")()
            is_not_found = getattr(lookup, "is_not_found", None)
            return bool(is_not_found and is_not_found())
    return False


def _summary(error: Any) -> str:
    """A short ``tag/tag`` description of a Dropbox route error (no secrets in it)."""
    parts: list[str] = []
    value = error
    while value is not None and hasattr(value, "_tag") and len(parts) < 4:
        parts.append(str(value._tag))
        inner = getattr(value, "_value", None)
        if inner is not None and not hasattr(inner, "_tag"):
            inner = getattr(inner, "reason", None)  # UploadWriteFailed -> its WriteError
        value = inner
    return "/".join(parts) or type(error).__name__


class _DownloadStream(io.RawIOBase):
    """The body of a ``files/download`` response, read as it arrives.

    A fully read body hands its connection back to the pool; one closed early, or after an
    error (a stalled server that timed out), closes the connection so it is never used again.
    """

    def __init__(self, response: Any, timeout: float | None) -> None:
        self._response = response
        self._timeout = timeout
        self._at_end = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            data = self._response.raw.read(len(buffer))
        except (urllib3.exceptions.ReadTimeoutError, TimeoutError) as exc:
            self._drop()
            raise TimeoutError(f"Dropbox stopped sending the file for more than {self._timeout} s.") from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            self._drop()
            raise ConnectionError(f"The download from Dropbox was cut: {exc}") from exc
        count = len(data)
        buffer[:count] = data
        if not count and len(buffer):
            self._at_end = True
        return count

    def _drop(self) -> None:
        self._at_end = False
        self._response.close()

    def close(self) -> None:
        if not self.closed:
            if self._at_end:
                self._response.raw.release_conn()
            else:
                self._response.close()
        super().close()


if dropbox is not None:

    class _Session(requests.Session):
        """A requests session on which an explicit CA bundle wins over ``REQUESTS_CA_BUNDLE``.

        requests lets the environment variable override ``session.verify``; a ``ca_certs``
        option given to this storage must apply to this storage's requests only, whatever the
        process environment says (and the environment must not change other clients).
        """

        def __init__(self, ca_certs: str | None) -> None:
            super().__init__()
            self.ca_certs = ca_certs
            if ca_certs:
                self.verify = ca_certs

        def merge_environment_settings(self, *args: Any, **kwargs: Any) -> Any:
            merged = super().merge_environment_settings(*args, **kwargs)
            if self.ca_certs:
                merged["verify"] = self.ca_certs
            return merged


class DropboxFile(StreamingFile):
    """A file in Dropbox.

    Reads stream ``files/download`` (ranged after a ``seek``). Writes of one chunk or less are
    one ``files/upload`` on close; larger ones stream chunk by chunk into an upload session
    (``upload_session/start``, ``append_v2`` per chunk, ``finish`` with the last bytes), so
    memory stays bounded by one chunk. Nothing appears under the name until the upload is
    committed; an upload that failed or was abandoned leaves an unfinished session, which
    Dropbox never shows and discards after a week.
    """

    storage: DropboxStorage
    part_size = 4 * 1024 * 1024

    def __init__(self, name: str, mode: str, storage: BaseStorage, key: str | None = None) -> None:
        self._session_id: str | None = None
        self._offset = 0
        self._update_rev: str | None = None
        super().__init__(name, mode, storage, key)
        if self._writing and self.storage.write_mode == "update":
            self._mode()  # the revision there now is the one this write may replace

    @property
    def _label(self) -> str:
        return self.name or ""

    @property
    def path(self) -> str:
        return self.storage._dropbox_path(self.key)

    # -- reading --------------------------------------------------------------------------

    def _open_stream(self, offset: int) -> IO[bytes]:
        storage = self.storage
        headers = {"Range": f"bytes={offset}-"} if offset else None
        try:
            metadata, response = storage._call(
                "download", self._label, storage.client.files_download, self.path, extra_headers=headers
            )
        except dropbox.exceptions.HttpError as exc:
            if offset and exc.status_code == 416:  # a seek at or past the end
                return io.BytesIO()
            raise
        self._size = int(metadata.size)
        return io.BufferedReader(_DownloadStream(response, storage.timeout), buffer_size=self.chunk_size)

    # -- writing (push style) -------------------------------------------------------------

    def _mode(self) -> Any:
        mode = self.storage.write_mode
        if mode == "overwrite":
            return dropbox.files.WriteMode.overwrite
        if mode == "update":
            if self._update_rev is None:
                # The revision there when this write started; the commit fails with a
                # conflict if another client replaced the file meanwhile.
                self._update_rev = self.storage._revision(self._label) or ""
            if self._update_rev:
                return dropbox.files.WriteMode.update(self._update_rev)
        return dropbox.files.WriteMode.add

    def _write_part(self, data: bytes) -> None:
        storage = self.storage
        client = storage.client
        if self._session_id is None:
            result = storage._call(
                "upload",
                self._label,
                client.files_upload_session_start,
                data,
                content_hash=content_hash(data),
            )
            self._session_id = str(result.session_id)
        else:
            cursor = dropbox.files.UploadSessionCursor(session_id=self._session_id, offset=self._offset)
            try:
                storage._call(
                    "append", self._label, client.files_upload_session_append_v2, data, cursor,
                    content_hash=content_hash(data),
                )  # fmt: skip
            except dropbox.exceptions.ApiError as exc:
                # A retried append that the server had already applied before failing.
                error = exc.error
                if not (
                    error.is_incorrect_offset()
                    and error.get_incorrect_offset().correct_offset == self._offset + len(data)
                ):
                    raise storage._translate("upload", self._label, exc) from exc
        self._offset += len(data)

    def _commit(self, tail: bytes) -> None:
        storage = self.storage
        client = storage.client
        mode = self._mode()
        if self._session_id is None:
            storage._call(
                "upload",
                self._label,
                client.files_upload,
                tail,
                self.path,
                mode=mode,
                content_hash=content_hash(tail),
            )
        else:
            cursor = dropbox.files.UploadSessionCursor(session_id=self._session_id, offset=self._offset)
            commit = dropbox.files.CommitInfo(path=self.path, mode=mode)
            storage._call(
                "upload", self._label, client.files_upload_session_finish, tail, cursor, commit,
                content_hash=content_hash(tail),
            )  # fmt: skip
            self._session_id = None

    def _abort(self) -> None:
        # Dropbox has no call to discard an upload session: it is invisible (nothing is under
        # the name, it is not in any listing) and Dropbox drops it after a week.
        self._session_id = None


class DropboxStorage(BaseStorage):
    """Files in a Dropbox folder (``root_path``), with a long-lived token or a refresh token."""

    options: ClassVar[OptionSet] = OptionSet(
        Option(
            "root_path",
            setting="DROPBOX_ROOT_PATH",
            default="/",
            doc="Dropbox folder that holds the files; must begin with ``/``.",
        ),
        Option(
            "oauth2_access_token",
            setting="DROPBOX_OAUTH2_TOKEN",
            secret=True,
            doc="Access token (also the first positional argument). Short-lived ``sl.`` tokens "
            "expire after a few hours: use the refresh token settings for those.",
        ),
        Option("app_key", setting="DROPBOX_APP_KEY", doc="App key, to refresh short-lived tokens."),
        Option("app_secret", setting="DROPBOX_APP_SECRET", secret=True, doc="App secret, to refresh tokens."),
        Option(
            "oauth2_refresh_token",
            setting="DROPBOX_OAUTH2_REFRESH_TOKEN",
            secret=True,
            doc="Refresh token; the SDK gets a new access token with it whenever one expires.",
        ),
        Option(
            "timeout",
            setting="DROPBOX_TIMEOUT",
            default=_DEFAULT_TIMEOUT,
            doc="Seconds to wait for the server at each step of a request (``None``: forever); "
            "retries of rate-limited or failed calls stay within it too.",
        ),
        Option(
            "write_mode",
            setting="DROPBOX_WRITE_MODE",
            default=_DEFAULT_MODE,
            choices=("add", "overwrite", "update"),
            doc="``add``: never replace a file (new names get a suffix); ``overwrite``: replace "
            "it (names are kept); ``update``: replace only the revision that was there when "
            "the write started.",
        ),
        Option(
            "ca_certs",
            setting="DROPBOX_CA_CERTS",
            doc="Path of a PEM bundle of certificate authorities to trust instead of the default "
            "ones (a TLS-inspecting proxy, or the local fake of the Dropbox API in the tests).",
        ),
    )
    location_option = "root_path"
    file_class = DropboxFile
    transient_attributes = ("_client", "_client_lock")
    distribution = "django-storages-dropbox"
    #: Writes larger than this go through an upload session, chunk by chunk.
    CHUNK_SIZE = DropboxFile.part_size

    root_path: str
    oauth2_access_token: str | None
    app_key: str | None
    app_secret: str | None
    oauth2_refresh_token: str | None
    timeout: float | None
    write_mode: str
    ca_certs: str | None

    def __init__(self, oauth2_access_token: str | None = None, **kwargs: Any) -> None:
        if oauth2_access_token is not None:
            kwargs["oauth2_access_token"] = oauth2_access_token
        # @deconstructible recorded the positional token: move it among the keyword arguments,
        # where the base class leaves secrets out of deconstruct().
        args, recorded = getattr(self, "_constructor_args", ((), {}))
        if args:
            self._constructor_args = ((), {**recorded, "oauth2_access_token": args[0]})
        super().__init__(**kwargs)

    def validate_options(self) -> None:
        if dropbox is None:
            raise MissingDependencyError("The Dropbox SDK (the dropbox package)", "django-storages-dropbox")
        owner = defining_class(type(self), "location")
        if owner is not None and self._option_sources["root_path"].source == "default":
            warnings.warn(
                f"{owner.__name__}.location is deprecated for DropboxStorage: name it root_path.",
                DeprecationWarning,
                stacklevel=4,
            )
            self.root_path = str(vars(owner)["location"])
        if not isinstance(self.root_path, str) or not self.root_path.startswith("/"):
            raise StorageConfigurationError(
                f"DropboxStorage root_path (settings.DROPBOX_ROOT_PATH) must begin with '/': "
                f"got {self.root_path!r}. Use '/{str(self.root_path or '').lstrip('/')}'."
            )
        normalize_name(self.root_path.strip("/"))  # no traversal or control characters in it
        if not self.oauth2_access_token and not (
            self.app_key and self.app_secret and self.oauth2_refresh_token
        ):
            raise StorageConfigurationError(f"DropboxStorage has no credentials. {_AUTH_HELP}")
        if self.timeout is not None and (not isinstance(self.timeout, int | float) or self.timeout <= 0):
            raise StorageConfigurationError(
                f"DropboxStorage timeout (settings.DROPBOX_TIMEOUT) must be a positive number of "
                f"seconds or None, not {self.timeout!r}."
            )

    def _init_transient(self) -> None:
        self._client: Any = None
        self._client_lock = threading.Lock()

    # -- the client -----------------------------------------------------------------------

    @property
    def client(self) -> Any:
        """The ``dropbox.Dropbox`` client, created on first use and shared by every thread."""
        client = self._client
        if client is None:
            with self._client_lock:
                if self._client is None:
                    self._client = self._make_client()
                client = self._client
        return client

    def _make_client(self) -> Any:
        session = _Session(self.ca_certs)
        # A bounded pool: threads beyond 16 wait for a connection instead of opening more.
        adapter = requests.adapters.HTTPAdapter(
            pool_connections=2, pool_maxsize=16, pool_block=True, max_retries=0
        )
        session.mount("https://", adapter)
        return dropbox.Dropbox(
            oauth2_access_token=self.oauth2_access_token or None,
            oauth2_refresh_token=self.oauth2_refresh_token or None,
            app_key=self.app_key or None,
            app_secret=self.app_secret or None,
            timeout=self.timeout,
            session=session,
            # Retries are ours (_call): bounded by the timeout, and the SDK retries 429 forever.
            max_retries_on_error=0,
            max_retries_on_rate_limit=0,
            user_agent="django-storages-dropbox/0.1.0",
        )

    def _call(self, action: str, name: str, method: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Call the SDK, retrying 429 (after ``Retry-After``) and 5xx answers within the timeout.

        Errors become what a Django storage raises: :class:`FileNotFoundError` for a missing
        name, :class:`DropboxStorageException` for refused credentials or names,
        :class:`TimeoutError` / :class:`ConnectionError` for the network. No secret is in any
        of them (the SDK's errors carry none, and the URLs hold no token).
        """
        budget = self.timeout if self.timeout is not None else _DEFAULT_TIMEOUT
        deadline = time.monotonic() + budget
        attempt = 0
        while True:
            try:
                return method(*args, **kwargs)
            except dropbox.exceptions.RateLimitError as exc:
                delay = float(exc.backoff) if exc.backoff is not None else 1.0
                error: Exception = exc
            except dropbox.exceptions.InternalServerError as exc:
                delay = _FIRST_BACKOFF * 2**attempt * (0.5 + random.random() / 2)
                error = exc
            except dropbox.exceptions.ApiError as exc:
                if action == "append":
                    raise  # the caller looks at the offset the server reports
                raise self._translate(action, name, exc) from exc
            except dropbox.exceptions.AuthError as exc:
                raise DropboxStorageException(
                    f"Dropbox refused the credentials of DropboxStorage ({_summary(exc.error)}): the access "
                    f"token is invalid or expired and could not be refreshed, or the refresh token was "
                    f"revoked. {_AUTH_HELP}"
                ) from None
            except dropbox.exceptions.BadInputError as exc:
                raise DropboxStorageException(
                    f"Dropbox refused to {action} {name!r}: {str(exc.message)[:300]}"
                ) from None
            except requests.exceptions.Timeout as exc:
                raise TimeoutError(
                    f"Dropbox did not answer within {self.timeout} s ({action} {name!r})."
                ) from exc
            except requests.exceptions.ConnectionError as exc:
                raise ConnectionError(f"Could not reach Dropbox to {action} {name!r}: {exc}") from exc
            attempt += 1
            if attempt > _MAX_RETRIES or time.monotonic() + delay > deadline:
                raise DropboxStorageException(
                    f"Dropbox kept refusing to {action} {name!r} ({error!r}) after {attempt} attempts."
                ) from error
            logger.info("Dropbox answered %r; retrying %s of %r in %.2f s.", error, action, name, delay)
            time.sleep(delay)

    def _translate(self, action: str, name: str, exc: Any) -> Exception:
        error = exc.error
        if _is_not_found(error):
            return FileNotFoundError(f"No file {name!r} in Dropbox (under {self.root_path!r}).")
        summary = _summary(error)
        if "conflict" in summary:
            return FileExistsError(
                f"Dropbox refused to {action} {name!r}: {summary} (write_mode is {self.write_mode!r})."
            )
        return DropboxStorageException(f"Dropbox refused to {action} {name!r}: {summary}.")

    # -- names ----------------------------------------------------------------------------

    def _normalize_name(self, name: Any) -> str:
        key = super()._normalize_name(name)
        for segment in key.split("/"):
            if segment.lower() in _DISALLOWED_NAMES:
                raise SuspiciousFileOperation(
                    f"Dropbox does not store files named {segment!r} (it never syncs them): {str(name)!r}."
                )
        return key

    @staticmethod
    def _dropbox_path(key: str) -> str:
        """The Dropbox path of a full key: ``/a/b``, or ``""`` for the Dropbox root."""
        return key.rstrip("/")

    def _file_path(self, name: str) -> str:
        path = self._dropbox_path(self._normalize_name(name))
        if not path or normalize_name(name) == "":
            raise SuspiciousFileOperation(f"{name!r} names the storage's root folder, not a file.")
        return path

    def _overwrites(self) -> bool:
        return self.write_mode == "overwrite"

    # -- storage API ----------------------------------------------------------------------

    def _metadata(self, name: str, action: str) -> Any:
        return self._call(action, name, self.client.files_get_metadata, self._file_path(name))

    def _revision(self, name: str) -> str | None:
        try:
            metadata = self._metadata(name, "read the revision of")
        except FileNotFoundError:
            return None
        return str(metadata.rev) if isinstance(metadata, dropbox.files.FileMetadata) else None

    def exists(self, name: str) -> bool:
        try:
            self._metadata(name, "look up")
        except FileNotFoundError:
            return False
        return True

    def _file_metadata(self, name: str) -> Any:
        metadata = self._metadata(name, "look up")
        if not isinstance(metadata, dropbox.files.FileMetadata):
            raise FileNotFoundError(f"{name!r} is a folder in Dropbox, not a file.")
        return metadata

    def size(self, name: str) -> int:
        return int(self._file_metadata(name).size)

    def get_modified_time(self, name: str) -> Any:
        # server_modified: when Dropbox stored this revision (client_modified is what the
        # uploader claims). The SDK gives a naive UTC datetime.
        return setting_time(self._file_metadata(name).server_modified)

    def delete(self, name: str) -> None:
        if not name:
            raise ValueError("The name must be given to delete().")
        path = self._file_path(name)
        with contextlib.suppress(FileNotFoundError):  # already gone: silent, as Django expects
            self._call("delete", name, self.client.files_delete_v2, path)

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        folder = self._dropbox_path(self._normalize_name(path or ""))
        client = self.client
        result = self._call("list", path, client.files_list_folder, folder)
        dirs: list[str] = []
        files: list[str] = []
        while True:
            for entry in result.entries:
                if isinstance(entry, dropbox.files.FolderMetadata):
                    dirs.append(entry.name)
                elif isinstance(entry, dropbox.files.FileMetadata):
                    files.append(entry.name)
            if not result.has_more:
                return dirs, files
            result = self._call("list", path, client.files_list_folder_continue, result.cursor)

    def url(self, name: str | None) -> str:
        """A temporary link to the file (Dropbox keeps it valid for four hours).

        Dropbox cannot sign links locally: each call asks ``files/get_temporary_link``. A
        missing file raises :class:`FileNotFoundError` (the original returned ``None``).
        """
        result = self._call(
            "link", name or "", self.client.files_get_temporary_link, self._file_path(name or "")
        )
        return str(result.link)
