"""Each wheel installed alone in a fresh virtual environment.

Core alone must import with no cloud SDK and explain how to install a missing provider; each
provider wheel (with core) must import under its historical path and be discovered by alias.
These build real wheels and install them with pip, as a user would.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGES = REPO / "packages"
PROVIDERS = sorted(
    p.name for p in PACKAGES.iterdir() if p.name != "django-storages-core" and (p / "pyproject.toml").exists()
)


@pytest.fixture(scope="module")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheels")
    # All packages build at once: each build sets up its own isolated build environment, and
    # one after the other the eight took most of a minute.
    builds = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "pip",
                "wheel",
                "--no-deps",
                "--quiet",
                "-w",
                str(out),
                str(PACKAGES / package),
            ]
        )
        for package in ["django-storages-core", *PROVIDERS]
    ]
    failed = [build.args for build in builds if build.wait() != 0]
    assert failed == [], f"wheel builds failed: {failed}"
    return out


def fresh_env(path: Path) -> Path:
    # Without a pip of its own (ensurepip took 5-10 s per environment): install() runs this
    # process's pip with --python, which installs into the new environment just the same.
    venv.create(path, with_pip=False)
    return path / "bin" / "python"


def wheel(wheelhouse: Path, distribution: str) -> str:
    [path] = wheelhouse.glob(distribution.replace("-", "_") + "-*.whl")
    return str(path)


def install(python: Path, wheelhouse: Path, *distributions: str) -> None:
    # Wheel files by path, never names: an unrelated "django-storages-s3" exists on PyPI with a
    # higher version, and pip would prefer it to the wheel built here.
    files = [wheel(wheelhouse, "django-storages-core"), *(wheel(wheelhouse, d) for d in distributions)]
    pip = [sys.executable, "-m", "pip", "--python", str(python)]
    subprocess.run([*pip, "install", "--quiet", "--no-compile", *dict.fromkeys(files)], check=True)


def run(python: Path, code: str) -> dict[str, object]:
    result = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


CORE_PROBE = """
import json, importlib.util, os
import django
from django.conf import settings
settings.configure()
django.setup()
import storages.base, storages.registry, storages.utils, storages.files, storages.compress
from django.utils.module_loading import import_string
from django.core.exceptions import ImproperlyConfigured
try:
    import_string("storages.aliases.s3")
    message = None
except ImproperlyConfigured as exc:
    message = str(exc)
print(json.dumps({
    "message": message,
    "sdks": [m for m in ("boto3", "paramiko", "azure", "google.cloud", "dropbox", "libcloud") if importlib.util.find_spec(m.split(".")[0])],
    "init_files": [d for d in storages.__path__ if os.path.exists(os.path.join(d, "__init__.py"))],
}))
"""


def test_core_wheel_installs_alone(wheelhouse: Path, tmp_path: Path) -> None:
    python = fresh_env(tmp_path / "core")
    install(python, wheelhouse, "django-storages-core")
    result = run(python, CORE_PROBE)
    assert result["sdks"] == []
    assert result["init_files"] == []
    assert "pip install django-storages-s3" in str(result["message"])


@pytest.mark.parametrize("package", PROVIDERS)
def test_provider_wheel_installs_with_core_only(wheelhouse: Path, tmp_path: Path, package: str) -> None:
    pyproject = tomllib.loads((PACKAGES / package / "pyproject.toml").read_text())
    entry_points = pyproject["project"]["entry-points"]["django_storages.backends"]
    python = fresh_env(tmp_path / package)
    install(python, wheelhouse, package)
    probe = """
import json
import django
from django.conf import settings
settings.configure()
django.setup()
from importlib import metadata
from storages import registry
from django.utils.module_loading import import_string
found = {b.alias: b.class_path for b in registry.backends()}
loaded = {alias: import_string("storages.aliases." + alias).__name__ for alias in found}
dists = sorted(d.metadata["Name"] for d in metadata.distributions() if d.metadata["Name"].startswith("django-storages"))
print(json.dumps({"found": found, "loaded": loaded, "dists": dists}))
"""
    result = run(python, probe)
    expected = {alias: value.replace(":", ".") for alias, value in entry_points.items()}
    assert result["found"] == expected
    assert set(result["loaded"]) == set(expected)  # type: ignore[arg-type]
    assert result["dists"] == sorted(["django-storages-core", package])
