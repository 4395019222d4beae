"""Map a release tag to its package and check the tag against the package version.

``python shared/scripts/release_check.py django-storages-s3-v0.2.0`` prints ``package=...`` and
``version=...`` (for ``$GITHUB_OUTPUT``) or exits non-zero with the reason.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def main(tag: str) -> int:
    match = re.fullmatch(r"(django-storages-[a-z0-9]+)-v(\d+\.\d+\.\d+(?:[a-z0-9.]*)?)", tag)
    if not match:
        print(f"tag {tag!r} is not django-storages-<name>-v<version>", file=sys.stderr)
        return 1
    package, version = match.groups()
    pyproject = REPO / "packages" / package / "pyproject.toml"
    if not pyproject.exists():
        print(f"no package {package} in packages/", file=sys.stderr)
        return 1
    declared = tomllib.loads(pyproject.read_text())["project"]["version"]
    if declared != version:
        print(f"tag says {version} but {package} is at {declared}", file=sys.stderr)
        return 1
    print(f"package={package}")
    print(f"version={version}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
