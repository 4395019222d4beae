"""Dropbox storage for Django: ``"BACKEND": "storages.backends.dropbox.DropboxStorage"``.

The public names live here, at the import path of the original django-storages (with its
``DropBox*`` spellings); the implementation is in a private module beside this one.
"""

from storages.backends.dropbox._storage import (
    DropboxFile,
    DropboxStorage,
    DropboxStorageException,
)
from storages.utils import publish

DropBoxStorage = DropboxStorage
DropBoxFile = DropboxFile
DropBoxStorageException = DropboxStorageException

# Migrations (deconstruct), pickles and thumbnail caches name the public path, not the private module.
publish(__name__, DropboxStorage, DropboxFile, DropboxStorageException)

__all__ = [
    "DropBoxFile",
    "DropBoxStorage",
    "DropBoxStorageException",
    "DropboxFile",
    "DropboxStorage",
    "DropboxStorageException",
]
