#!/usr/bin/env bash
# Installs VS Code's server and web workbench (npm's code-server 4.100.3 = VS Code 1.100.3, the newest whose
# engines accept Node 20) into .tools/code-server, for the extension tests. Cached: does nothing when present.
# The plain `npm install code-server` fails here (postinstalls download from GitHub); see shared/vscode-testing.md.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=.tools/code-server
marker=$dest/.fleet-ready
[ -f "$marker" ] && exit 0
command -v rg >/dev/null || { echo "setup-vscode: ripgrep is missing: apt-get install -y ripgrep" >&2; exit 1; }
mkdir -p "$dest"
cd "$dest"
[ -f package.json ] || echo '{"private":true}' > package.json
npm install --no-audit --no-fund --ignore-scripts code-server@4.100.3
vs=node_modules/code-server/lib/vscode
(cd "$vs" && npm install --no-audit --no-fund --omit=dev --ignore-scripts)
mkdir -p "$vs/node_modules/@vscode/ripgrep/bin"
ln -sf "$(command -v rg)" "$vs/node_modules/@vscode/ripgrep/bin/rg"
(cd "$vs" && npm rebuild native-watchdog @vscode/spdlog @vscode/deviceid)
touch .fleet-ready
echo "setup-vscode: VS Code server ready in $dest"
