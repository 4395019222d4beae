"""Apache Libcloud storage for Django: ``"BACKEND": "storages.backends.apache_libcloud.LibCloudStorage"``.

The public names live here, at the import path of the original django-storages; the
implementation is in private modules beside this one.
"""

from storages.backends.apache_libcloud._files import LibCloudFile
from storages.backends.apache_libcloud._storage import LibCloudStorage
from storages.utils import publish

# Migrations (deconstruct), pickles and thumbnail caches name the public path, not the private module.
publish(__name__, LibCloudFile, LibCloudStorage)

__all__ = ["LibCloudFile", "LibCloudStorage"]
