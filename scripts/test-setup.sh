#!/usr/bin/env bash
# What `npm test` needs beyond npm: the Debian packages of scripts/test-packages.txt (installed when
# run as root on Debian; otherwise the exact command is printed), /run/sshd, and VS Code's server
# (scripts/setup-vscode.sh), and the agent's runtime in .tools/cache. Does nothing that is already
# done, so it is cheap to run every time.
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
# the agent's Node runtime for linux-x64, once, through npm (checked against its pinned sha256);
# the tests deploy it to hosts without node. The arm64 one is fetched by its own test, without npm.
FLEET_CACHE_DIR="${FLEET_CACHE_DIR:-$PWD/.tools/cache}" node_modules/.bin/tsx cli/bin.ts agent fetch-runtime --target linux-x64 >/dev/null
