#!/usr/bin/env bash
# setup.sh — bring a Debian 12 machine to the state the build and the tests need.
# Idempotent and quiet: on a machine that has everything it only checks and returns.
#   - Debian packages (installed only when dpkg-query says they are missing)
#   - pinned livekit-server builds in $CACHE/livekit-server/<version>/server
#   - Go module downloads for the root and tests modules
# Environment: LIVEKIT_VERSIONS (default "v1.9.11 v1.13.5"), GOLIVEKIT_CACHE
# (default ~/.cache/golivekitsink), SETUP_VERBOSE=1 for chatter.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${GOLIVEKIT_CACHE:-$HOME/.cache/golivekitsink}"
LIVEKIT_VERSIONS="${LIVEKIT_VERSIONS:-v1.9.11 v1.13.5}"
export GOFLAGS="${GOFLAGS:+$GOFLAGS }-mod=mod"

log() { if [[ "${SETUP_VERBOSE:-}" == 1 ]]; then echo "setup: $*" >&2; fi; }
say() { echo "setup: $*" >&2; }

PACKAGES=(
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev gstreamer1.0-tools
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
  gstreamer1.0-plugins-ugly gstreamer1.0-libav gstreamer1.0-x
  meson ninja-build pkg-config nftables iproute2 python3-gi gir1.2-gstreamer-1.0
  # python3-gst-1.0: GStreamer elements written in Python for tests (tests/faults/testdata/unknown_encoder.py)
  python3-gst-1.0
  # the bench's webrtcbin publisher (tests/cmd/benchtables/whippub.py): webrtcbin's
  # typelib for Python, and libnice's GStreamer elements that webrtcbin needs
  gir1.2-gst-plugins-bad-1.0 gstreamer1.0-nice
  # packaging (tests/packaging), examples/c, and chromium for tests/viewer
  dpkg-dev debhelper fakeroot build-essential chromium git
  # the cluster test world (tests/cluster): Redis, a balancer, a test CA
  redis-server haproxy openssl
  # NFQUEUE rules for the jitter fault (tests/harness/jitter.go): this kernel has no netem
  iptables
)

# --- Debian packages -------------------------------------------------------
missing=()
for p in "${PACKAGES[@]}"; do
  st="$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)"
  [[ "$st" == installed ]] || missing+=("$p")
done
# npm only when there is none on PATH (NodeSource's nodejs bundles its own and
# conflicts with Debian's npm package).
command -v npm >/dev/null 2>&1 || missing+=(npm)
if ((${#missing[@]})); then
  say "installing Debian packages: ${missing[*]}"
  SUDO=()
  if [[ $(id -u) -ne 0 ]]; then SUDO=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  "${SUDO[@]}" apt-get update -qq
  "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- Go --------------------------------------------------------------------
if ! command -v go >/dev/null 2>&1; then
  if [[ -x /usr/local/go/bin/go ]]; then export PATH="/usr/local/go/bin:$PATH"; else
    say "Go is not installed (expected /usr/local/go, Go >= 1.26)"; exit 1
  fi
fi

# --- livekit-server builds -------------------------------------------------
mkdir -p "$CACHE/livekit-server"
for v in $LIVEKIT_VERSIONS; do
  dir="$CACHE/livekit-server/$v"
  [[ -x "$dir/server" ]] && { log "livekit-server $v present"; continue; }
  # One builder at a time per version (make demo and make test may race).
  exec {lock}>"$CACHE/livekit-server/.$v.lock"
  flock "$lock"
  if [[ ! -x "$dir/server" ]]; then
    say "building livekit-server $v (a few minutes on 2 cores)"
    tmp="$(mktemp -d "$CACHE/livekit-server/.build-$v.XXXXXX")"
    # Built outside any module so the root go.mod does not interfere.
    if ! (cd "$tmp" && GOFLAGS= GOBIN="$tmp" go install "github.com/livekit/livekit-server/cmd/server@$v"); then
      rm -rf "$tmp"; say "building livekit-server $v failed"; exit 1
    fi
    mkdir -p "$dir"
    mv "$tmp/server" "$dir/server.new" && mv "$dir/server.new" "$dir/server"
    rm -rf "$tmp"
  fi
  exec {lock}>&-
done

# --- Go modules --------------------------------------------------------------
(cd "$ROOT" && go mod download)
(cd "$ROOT/tests" && go mod download)
log "done"

