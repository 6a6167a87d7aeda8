#!/usr/bin/env bash
# viewer-serve.sh — serve viewer/dist on 127.0.0.1 with a freshly minted
# subscriber token and print the page URL ("viewer: http://…"). Runs until
# interrupted. Environment (defaults are the demo's):
#   LIVEKIT_URL (ws://127.0.0.1:7880), LIVEKIT_API_KEY (devkey),
#   LIVEKIT_API_SECRET (required), ROOM (demo), VIEWER_LISTEN (127.0.0.1:0)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
export PATH="$PATH:/usr/local/go/bin" GOFLAGS="${GOFLAGS:--mod=mod}"
[[ -f "$ROOT/viewer/dist/index.html" ]] || "$ROOT/scripts/viewer-build.sh" >&2
bin="${TMPDIR:-/tmp}/golivekit-viewer-serve.$$"
(cd "$ROOT" && go build -o "$bin" ./viewer/serve)
trap 'rm -f "$bin"' EXIT
"$bin" -dir "$ROOT/viewer/dist" -listen "${VIEWER_LISTEN:-127.0.0.1:0}" "$@" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f "$bin"' EXIT INT TERM
wait $pid
