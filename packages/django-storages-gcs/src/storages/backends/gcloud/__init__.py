"""Google Cloud Storage for Django.

``GoogleCloudStorage`` and its file ``GoogleCloudFile``, at the original's import path
``storages.backends.gcloud``, and the static-files storages ``GoogleCloudStaticStorage`` and
``GoogleCloudManifestStaticStorage`` (one listing per ``collectstatic``). Importing this
package creates no client and makes no request.
"""

from __future__ import annotations

from storages.backends.gcloud.files import GoogleCloudFile
from storages.backends.gcloud.static import GoogleCloudManifestStaticStorage, GoogleCloudStaticStorage
from storages.backends.gcloud.storage import CONTENT_ENCODING, CONTENT_TYPE, GoogleCloudStorage
from storages.utils import publish

# Migrations, pickles and thumbnail caches record storages.backends.gcloud.GoogleCloudStorage,
# the original's path, not the private module the class is defined in.
publish(
    __name__, GoogleCloudFile, GoogleCloudManifestStaticStorage, GoogleCloudStaticStorage, GoogleCloudStorage
)

__all__ = [
    "CONTENT_ENCODING",
    "CONTENT_TYPE",
    "GoogleCloudFile",
    "GoogleCloudManifestStaticStorage",
    "GoogleCloudStaticStorage",
    "GoogleCloudStorage",
]
