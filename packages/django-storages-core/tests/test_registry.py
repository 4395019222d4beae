"""Entry-point discovery, aliases and the missing-provider message."""

from __future__ import annotations

from importlib import metadata
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from storages import registry
from storages.exceptions import BackendNotInstalledError, DuplicateAliasError


class FakeDist:
    def __init__(self, name: str, version: str = "1.0") -> None:
        self.metadata = {"Name": name}
        self.version = version


def fake_entry_point(alias: str, value: str, dist: str) -> Any:
    entry_point = metadata.EntryPoint(alias, value, registry.ENTRY_POINT_GROUP)
    return entry_point._for(FakeDist(dist))  # type: ignore[attr-defined]


@pytest.fixture
def entry_points(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    points: list[Any] = []
    monkeypatch.setattr(registry, "_entry_points", lambda: points)
    registry.clear_cache()
    yield points
    registry.clear_cache()


def test_lists_installed_backends_without_importing_them(entry_points: list[Any]) -> None:
    entry_points.append(fake_entry_point("fake", "not_importable_module:FakeStorage", "django-storages-fake"))
    [backend] = registry.backends()
    assert (backend.alias, backend.class_path, backend.distribution) == (
        "fake",
        "not_importable_module.FakeStorage",
        "django-storages-fake",
    )


def test_alias_resolves_to_class_and_works_as_a_dotted_path(entry_points: list[Any]) -> None:
    entry_points.append(fake_entry_point("memory", "memory_provider:MemoryStorage", "tests"))
    from memory_provider import MemoryStorage

    assert registry.resolve("memory") == "memory_provider.MemoryStorage"
    assert registry.get_class("memory") is MemoryStorage
    assert import_string("storages.aliases.memory") is MemoryStorage


def test_first_party_alias_not_installed_names_the_distribution(entry_points: list[Any]) -> None:
    with pytest.raises(BackendNotInstalledError) as caught:
        import_string("storages.aliases.s3")
    assert "pip install django-storages-s3" in str(caught.value)
    assert "Installed storage aliases: none" in str(caught.value)
    assert isinstance(caught.value, ImproperlyConfigured)


def test_unknown_alias_lists_installed_ones(entry_points: list[Any]) -> None:
    entry_points.append(fake_entry_point("memory", "memory_provider:MemoryStorage", "tests"))
    with pytest.raises(ImproperlyConfigured, match="Installed storage aliases: memory"):
        registry.get_backend("nope")


def test_two_distributions_claiming_one_alias_is_an_error(entry_points: list[Any]) -> None:
    entry_points.append(fake_entry_point("s3", "a:S3", "django-storages-s3"))
    entry_points.append(fake_entry_point("s3", "b:S3", "other-s3-storage"))
    with pytest.raises(DuplicateAliasError) as caught:
        registry.backends()
    assert "django-storages-s3" in str(caught.value) and "other-s3-storage" in str(caught.value)
