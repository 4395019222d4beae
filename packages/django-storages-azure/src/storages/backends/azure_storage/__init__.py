"""Azure Blob Storage for Django.

``AzureStorage``, its file class ``AzureStorageFile``, and ``AzureStaticStorage`` /
``AzureManifestStaticStorage`` for ``collectstatic``, at the original library's import
path. Importing this package creates no client and makes no request.
"""

from __future__ import annotations

from storages.backends.azure_storage.files import AzureStorageFile
from storages.backends.azure_storage.static import AzureManifestStaticStorage, AzureStaticStorage
from storages.backends.azure_storage.storage import AzureStorage
from storages.utils import publish

# The original's path (storages.backends.azure_storage.AzureStorage) is what migrations,
# pickles and thumbnail caches record, not the private module the class is defined in.
publish(__name__, AzureManifestStaticStorage, AzureStaticStorage, AzureStorage, AzureStorageFile)

__all__ = ["AzureManifestStaticStorage", "AzureStaticStorage", "AzureStorage", "AzureStorageFile"]
