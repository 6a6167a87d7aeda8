#!/usr/bin/env bash
# viewer-build.sh — install the viewer's npm packages (pinned in
# viewer/package-lock.json) and bundle viewer/src into viewer/dist.
# Skips npm when node_modules already matches the lock file.
set -euo pipefail
cd "$(dirname "$0")/../viewer"
command -v npm >/dev/null || { echo "viewer-build: npm not found (install nodejs/npm)" >&2; exit 1; }
# npm records what it installed in node_modules/.package-lock.json.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
npm run --silent build >/dev/null
echo "viewer-build: $(pwd)/dist"
