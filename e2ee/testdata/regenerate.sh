#!/bin/sh
# Regenerates livekit-client-vectors.json with livekit-client's own frame
# cryptor under Node (>= 18 for WebCrypto). Needs npm and the npm registry.
set -eu
version=2.23.0
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
npm init -y >/dev/null
npm install --silent "livekit-client@$version" esbuild@0.28.2 >/dev/null
cp "$here/vectors.ts" .
npx esbuild vectors.ts --bundle --platform=node --format=esm --log-level=warning --outfile=vectors.mjs
LK_VERSION=$version node vectors.mjs >"$here/livekit-client-vectors.json"
