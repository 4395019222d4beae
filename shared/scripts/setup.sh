#!/usr/bin/env bash
# Install what the tests, the demo and the benchmarks need on a fresh Debian machine:
# hatch (from PyPI) and OpenSSH's sshd (for the SFTP tests). Idempotent; safe to re-run.
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

echo "setup: hatch $(hatch --version | awk '{print $NF}'), $(/usr/sbin/sshd -V 2>&1 | head -n1 || true)"
