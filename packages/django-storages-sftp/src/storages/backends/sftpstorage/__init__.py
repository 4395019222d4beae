"""SFTP storage for Django: ``"BACKEND": "storages.backends.sftpstorage.SFTPStorage"``.

The public names live here, at the import path of the original django-storages; the
implementation is in private modules beside this one.
"""

from storages.backends.sftpstorage._connection import UnknownHostKeyError, UnknownHostKeyWarning
from storages.backends.sftpstorage._storage import SFTPStorage, SFTPStorageFile

# Migrations (deconstruct) and pickles name the public path, not the private module.
for _public in (SFTPStorage, SFTPStorageFile, UnknownHostKeyError, UnknownHostKeyWarning):
    _public.__module__ = __name__

__all__ = ["SFTPStorage", "SFTPStorageFile", "UnknownHostKeyError", "UnknownHostKeyWarning"]
