"""``manage.py collectstatic`` with a collect scope, and a ``--clear`` that clears object stores.

Django's command, with two changes:

* ``collect()`` runs inside :func:`storages.collect.collect_scope` when the static storage
  joins it (:class:`storages.collect.CollectStaticMixin`): an unchanged tree costs one listing
  instead of requests per file. Other storages run exactly as with Django's command.
* ``--clear`` deletes what is under the storage's location. Django's ``clear_dir()`` starts
  with ``exists("")``, which is False on object stores (a prefix is not an object), so it
  cleared nothing there, with or without a location (the original django-storages too).

It replaces Django's command only when ``"storages"`` comes before
``"django.contrib.staticfiles"`` in ``INSTALLED_APPS`` (Django takes a command from the first
app that has it); the system check ``storages.W004`` says so when the order is wrong.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from typing import Any

from django.contrib.staticfiles.management.commands import collectstatic

from storages.collect import active_scope, collect_scope, unwrap_storage


class Command(collectstatic.Command):
    def collect(self) -> dict[str, Any]:
        with collect_scope(unwrap_storage(self.storage)):
            result: dict[str, Any] = super().collect()
        return result

    def clear_dir(self, path: str) -> None:
        """Delete every file under ``path``, found by walking ``listdir()`` from it.

        Local storages keep Django's own behaviour (it also removes broken symlinks). For the
        others, the whole tree is listed before the first delete, so that deletes that a
        collect scope defers are not sent early by the next ``listdir()``: a file collected
        again then costs its upload alone, and only files that are gone are deleted, when
        the scope closes. Every collected file is uploaded again (``--clear`` is how new
        object metadata reaches files whose content did not change).
        """
        if self.local:
            super().clear_dir(path)
            return
        names = list(self._walk(path))
        scope = active_scope(unwrap_storage(self.storage))
        if scope is not None:
            scope.clearing = True  # files collected again are uploaded again, not skipped
        try:
            for name in names:
                if self.dry_run:
                    self.log(f"Pretending to delete '{name}'", level=1)
                else:
                    self.log(f"Deleting '{name}'", level=1)
                    self.storage.delete(name)
        finally:
            if scope is not None:
                scope.clearing = False

    def _walk(self, path: str) -> Iterator[str]:
        try:
            directories, files = self.storage.listdir(path)
        except FileNotFoundError:
            return
        for file_name in files:
            yield posixpath.join(path, file_name)
        for directory in directories:
            yield from self._walk(posixpath.join(path, directory))
