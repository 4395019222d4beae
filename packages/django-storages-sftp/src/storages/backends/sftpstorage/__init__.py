"""SFTP storage for Django: ``"BACKEND": "storages.backends.sftpstorage.SFTPStorage"``.

The public names live here, at the import path of the original django-storages; the
implementation is in private modules beside this one.
"""

from storages.backends.sftpstorage._connection import UnknownHostKeyError, UnknownHostKeyWarning
from storages.backends.sftpstorage._storage import SFTPStorage, SFTPStorageFile
from storages.utils import publish

# Migrations (deconstruct), pickles and thumbnail caches name the public path, not the private module.
publish(__name__, SFTPStorage, SFTPStorageFile, UnknownHostKeyError, UnknownHostKeyWarning)

__all__ = ["SFTPStorage", "SFTPStorageFile", "UnknownHostKeyError", "UnknownHostKeyWarning"]
