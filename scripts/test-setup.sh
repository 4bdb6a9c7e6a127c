#!/usr/bin/env bash
# What `npm test` needs beyond npm: the Debian packages of scripts/test-packages.txt (installed when
# run as root on Debian; otherwise the exact command is printed), /run/sshd, and VS Code's server
# (scripts/setup-vscode.sh). Does nothing that is already done, so it is cheap to run every time.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t packages < <(grep -v '^\s*#' scripts/test-packages.txt | grep -v '^\s*$')

if ! command -v dpkg-query >/dev/null; then
  echo "test setup: this is not a Debian-like system; the tests need these Debian packages (or their equivalents): ${packages[*]}" >&2
  exit 1
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "test setup: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
  else
    echo "test setup: missing Debian packages: ${missing[*]}" >&2
    echo "  install them with: sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
fi
if [ "$(id -u)" != 0 ]; then
  echo "test setup: the tests start sshd on 127.x addresses, network namespaces and mounts: run npm test as root (a container or VM)" >&2
  exit 1
fi
mkdir -p /run/sshd
bash scripts/setup-vscode.sh
