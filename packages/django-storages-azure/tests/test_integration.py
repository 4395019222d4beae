"""Azure through Django's machinery: the management command, a SAS-token credential, archives,
and the test server's CI rule."""

from __future__ import annotations

import datetime
import io
import zipfile
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.test import override_settings

from shared.testservers.azurite import AzuriteServer
from storages.backends.azure_storage import AzureStorage


def test_storages_show_and_check_keep_secrets_out(azurite: AzuriteServer, container_name: str) -> None:
    entry = {
        "BACKEND": "storages.backends.azure_storage.AzureStorage",
        "OPTIONS": {"connection_string": azurite.connection_string, "azure_container": container_name},
    }
    out = io.StringIO()
    with override_settings(STORAGES={"default": entry, "staticfiles": entry}):
        call_command("storages", "show", "default", stdout=out)
        call_command("storages", "check", "default", "--write", stdout=out)
    text = out.getvalue()
    assert "azure_container" in text
    assert azurite.account_key not in text
    assert "AccountKey" not in text


def test_sas_token_credential(
    azurite: AzuriteServer, container_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from azure.storage.blob import ContainerSasPermissions, generate_container_sas

    token = generate_container_sas(
        azurite.account_name,
        container_name,
        account_key=azurite.account_key,
        permission=ContainerSasPermissions(read=True, write=True, delete=True, list=True),
        expiry=datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1),
    )
    monkeypatch.setattr(AzureStorage, "_account_url", lambda self: azurite.blob_endpoint)
    storage = AzureStorage(
        account_name=azurite.account_name,
        sas_token=token,
        azure_container=container_name,
        overwrite_files=True,
    )
    storage.save("by-sas/file.txt", ContentFile(b"through a SAS token"))
    with storage.open("by-sas/file.txt") as f:
        assert f.read() == b"through a SAS token"
    assert storage.listdir("by-sas") == ([], ["file.txt"])
    storage.delete("by-sas/file.txt")
    assert not storage.exists("by-sas/file.txt")
    assert token not in repr(storage)


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("backup.tgz", "application/gzip"),
        ("site.tar.gz", "application/gzip"),
        ("bundle.zip", "application/zip"),
    ],
)
def test_archives_are_stored_and_read_as_they_are(
    make_storage: Callable[..., Any], name: str, content_type: str
) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a.txt", "a" * 5000)
    payload = buffer.getvalue()
    storage = make_storage()
    saved = storage.save(name, ContentFile(payload))
    settings = storage.client.get_blob_client(saved).get_blob_properties().content_settings
    assert (settings.content_type, settings.content_encoding or None) == (content_type, None)
    with storage.open(saved) as f:
        assert f.read() == payload


@pytest.mark.parametrize(
    ("name", "content_type", "encoding"),
    [
        ("icon.svgz", "image/svg+xml", "gzip"),
        ("app.js.gz", "text/javascript", "gzip"),
        ("site.css.br", "text/css", "br"),
    ],
)
def test_compressed_web_files_keep_their_type_and_encoding(
    make_storage: Callable[..., Any], name: str, content_type: str, encoding: str
) -> None:
    # As in 1.x: browsers decode them when the blob is served with its Content-Encoding.
    storage = make_storage()
    payload = b"compressed bytes, stored and read as they are"
    saved = storage.save(name, ContentFile(payload))
    settings = storage.client.get_blob_client(saved).get_blob_properties().content_settings
    assert (settings.content_type, settings.content_encoding) == (content_type, encoding)
    with storage.open(saved) as f:
        assert f.read() == payload


def test_missing_azurite_fails_under_ci(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    from shared.testservers import azurite as helper
    from shared.testservers import serve

    monkeypatch.setattr(helper, "LOCAL_BINARY", tmp_path / "no-azurite")
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("AZURITE_BLOB", raising=False)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="azurite-blob not found"):
        next(serve(helper.azurite_server()))
    monkeypatch.setenv("CI", "")
    with pytest.raises(pytest.skip.Exception, match="npm ci"):
        next(serve(helper.azurite_server()))
