"""The ``storages-settings`` directive: a backend's settings table, generated from its code.

Usage::

    .. storages-settings:: storages.backends.s3.S3Storage

imports the class and renders :func:`storages.options.settings_table_rst` of its ``options``,
so the documented names, settings, environment variables and defaults are the ones the code
resolves. A class that cannot be imported stops the build: a page must never silently lose
its table because a package was missing from the docs environment.
"""

from __future__ import annotations

import inspect
from typing import Any

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.util.docutils import SphinxDirective


class StoragesSettingsDirective(SphinxDirective):
    required_arguments = 1
    optional_arguments = 0
    has_content = False
    option_spec = {"title": directives.unchanged}

    def run(self) -> list[nodes.Node]:
        from django.utils.module_loading import import_string

        from storages.options import OptionSet, settings_table_rst

        path = self.arguments[0].strip()
        where = f"{self.env.docname}.rst, line {self.lineno}"
        try:
            cls: Any = import_string(path)
        except Exception as exc:
            raise ExtensionError(
                f"storages-settings in {where}: cannot import {path!r} ({type(exc).__name__}: "
                f"{exc}). Install the package that provides it in the docs environment."
            ) from exc
        options = getattr(cls, "options", None)
        if not isinstance(options, OptionSet):
            raise ExtensionError(
                f"storages-settings in {where}: {path} has no OptionSet 'options' to document."
            )
        source = inspect.getsourcefile(cls)
        if source:
            self.env.note_dependency(source)
        table = settings_table_rst(options, self.options.get("title", ""))
        container = nodes.container(classes=["storages-settings"])
        self.state.nested_parse(
            StringList(table.splitlines(), source=f"<storages-settings {path}>"),
            self.content_offset,
            container,
        )
        return list(container.children)


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("storages-settings", StoragesSettingsDirective)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
