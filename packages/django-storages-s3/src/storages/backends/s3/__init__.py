"""Amazon S3 and S3-compatible storage for Django.

``S3Storage`` for media, ``S3StaticStorage`` and ``S3ManifestStaticStorage`` for
``collectstatic``. Importing this package creates no client and makes no request.
"""

from __future__ import annotations

from storages.backends.s3.files import S3File
from storages.backends.s3.static import S3ManifestStaticStorage, S3StaticStorage
from storages.backends.s3.storage import S3Storage
from storages.utils import publish

# The original's path (storages.backends.s3.S3Storage) is what migrations, pickles and
# thumbnail caches record, not the private module the class is defined in.
publish(__name__, S3File, S3ManifestStaticStorage, S3StaticStorage, S3Storage)

__all__ = ["S3File", "S3ManifestStaticStorage", "S3StaticStorage", "S3Storage"]
