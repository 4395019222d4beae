"""The example Django project driven through manage.py, as a user would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parent / "example_project"


def manage(*args: str, storages: dict[str, object] | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(PROJECT)}
    if storages is not None:
        env["EXAMPLE_STORAGES"] = json.dumps(storages)
    return subprocess.run(
        [sys.executable, str(PROJECT / "manage.py"), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=PROJECT,
        timeout=120,
        check=False,
    )


def test_check_reports_misspelt_option_with_id_and_closest_option() -> None:
    result = manage(
        "check",
        storages={
            "default": {
                "BACKEND": "storages.backends.s3.S3Storage",
                "OPTIONS": {"bukcet_name": "media", "secret_key": "do-not-print-me"},
            },
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "storages.E001" in output
    assert "Did you mean 'bucket_name'?" in output
    assert "do-not-print-me" not in output


def test_check_passes_on_a_valid_configuration() -> None:
    result = manage("check")
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_unknown_alias_is_a_check_error_naming_the_installed_ones() -> None:
    # Every first-party provider is installed here; packaging/test_wheels.py checks the
    # "pip install django-storages-<name>" message in an environment with core alone.
    result = manage(
        "check",
        storages={
            "default": {"BACKEND": "storages.aliases.nosuchprovider"},
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "storages.E003" in output
    assert "nosuchprovider" in output
    assert "sftp" in output  # an installed alias is listed


def test_storages_command_lists_installed_providers() -> None:
    result = manage("storages", "list")
    assert result.returncode == 0, result.stderr
    for alias in ("s3", "s3_static", "s3_manifest", "sftp"):
        assert alias in result.stdout
