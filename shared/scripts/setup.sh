#!/usr/bin/env bash
# Install what the tests, the demo and the benchmarks need on a fresh Debian machine:
# hatch (from PyPI), OpenSSH's sshd (SFTP tests) and Azurite from npm (Azure tests; Node.js from
# Debian when the machine has none). Python test servers come with the hatch environments.
# Idempotent; safe to re-run.
set -euo pipefail

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

if ! command -v hatch >/dev/null 2>&1; then
  python3 -m pip install --quiet "hatch>=1.16"
fi

if [ ! -x /usr/sbin/sshd ] || ! command -v ssh-keygen >/dev/null 2>&1; then
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssh-server openssh-client >/dev/null
fi

# Azurite (the Azure Blob emulator, from npm) for the Azure tests, demo and benchmark; the
# version is pinned by shared/testservers/npm/package-lock.json.
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi
if [ ! -x "$REPO/shared/testservers/npm/node_modules/.bin/azurite-blob" ]; then
  npm ci --prefix "$REPO/shared/testservers/npm" --no-audit --no-fund --loglevel=error
fi

echo "setup: hatch $(hatch --version | awk '{print $NF}'), $(/usr/sbin/sshd -V 2>&1 | head -n1 || true), node $(node --version), azurite $("$REPO/shared/testservers/npm/node_modules/.bin/azurite-blob" --version)"
