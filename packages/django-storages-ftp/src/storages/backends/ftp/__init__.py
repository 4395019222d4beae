"""FTP and FTPS storage for Django: ``"BACKEND": "storages.backends.ftp.FTPStorage"``.

The public names live here, at the import path of the original django-storages; the
implementation is in private modules beside this one.
"""

from storages.backends.ftp._connection import FTPStorageException
from storages.backends.ftp._storage import FTPStorage, FTPStorageFile
from storages.utils import publish

# Migrations (deconstruct), pickles and thumbnail caches name the public path, not the private module.
publish(__name__, FTPStorage, FTPStorageFile, FTPStorageException)

__all__ = ["FTPStorage", "FTPStorageException", "FTPStorageFile"]
