#!/usr/bin/env bash
# demo.sh — publish a test pattern and a tone into a local LiveKit server with
# golivekitsink, while a subscriber counts the frames that arrive and decode.
#   DEMO_SECONDS (default 20), LIVEKIT_VERSION (default v1.13.5),
#   DEMO_OUT (default: a temp dir; holds the server log, config and received media)
# Exit status: non-zero if the subscriber decoded no video frame.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${GOLIVEKIT_CACHE:-$HOME/.cache/golivekitsink}"
VERSION="${LIVEKIT_VERSION:-v1.13.5}"
SECONDS_TO_RUN="${DEMO_SECONDS:-20}"
SERVER="$CACHE/livekit-server/$VERSION/server"
PLUGIN_DIR="${GOLIVEKIT_PLUGIN_DIR:-$ROOT/build}"
OUT="${DEMO_OUT:-$(mktemp -d /tmp/golivekit-demo.XXXXXX)}"
KEY=devkey
SECRET=golivekitsink-demo-secret-0123456789abcdef
export PATH="$PATH:/usr/local/go/bin" GOFLAGS=-mod=mod

[[ -x "$SERVER" ]] || { echo "demo: $SERVER missing: run scripts/setup.sh" >&2; exit 1; }
[[ -f "$PLUGIN_DIR/libgstgolivekit.so" ]] || { echo "demo: $PLUGIN_DIR/libgstgolivekit.so missing: run make plugin" >&2; exit 1; }
mkdir -p "$OUT"

pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  sleep 0.5
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
}
trap cleanup EXIT INT TERM

# Three free loopback ports: signalling, ICE/TCP, ICE/UDP.
read -r PORT TCP_PORT UDP_PORT < <(python3 - <<'PY'
import socket
socks, ports = [], []
while len(ports) < 3:
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try: u.bind(("127.0.0.1", p))
    except OSError: s.close(); continue
    socks += [s, u]; ports.append(p)
print(*ports)
PY
)

cat > "$OUT/livekit.yaml" <<YAML
port: $PORT
bind_addresses: [127.0.0.1]
rtc:
  tcp_port: $TCP_PORT
  udp_port: $UDP_PORT
  node_ip: 127.0.0.1
  use_external_ip: false
  enable_loopback_candidate: true
  # LiveKit hands out Google's STUN servers unless it has its own: keep the
  # demo's traffic on this machine.
  stun_servers: [127.0.0.1:3478]
  ips:
    includes: [127.0.0.1/32]
keys:
  $KEY: $SECRET
room:
  auto_create: true
logging:
  level: info
YAML

echo "demo: livekit-server $VERSION on ws://127.0.0.1:$PORT (log: $OUT/livekit.log)"
"$SERVER" --config "$OUT/livekit.yaml" >"$OUT/livekit.log" 2>&1 &
pids+=($!)
ready=
for _ in $(seq 1 150); do
  if python3 -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:$PORT/', timeout=1).read().strip()==b'OK' else 1)" 2>/dev/null; then
    ready=1; break
  fi
  sleep 0.2
done
[[ -n "$ready" ]] || { echo "demo: server not ready; log tail:" >&2; tail -20 "$OUT/livekit.log" >&2; exit 1; }

# --- browser viewer (viewer/, scripts/viewer-serve.sh) -----------------------
# Serves viewer/dist on 127.0.0.1 with a minted subscriber token and prints the
# page URL. DEMO_VIEWER=0 skips it; failing to start it does not stop the demo.
if [[ "${DEMO_VIEWER:-1}" == 1 ]]; then
  LIVEKIT_URL="ws://127.0.0.1:$PORT" LIVEKIT_API_KEY="$KEY" LIVEKIT_API_SECRET="$SECRET" ROOM=demo \
    "$ROOT/scripts/viewer-serve.sh" >"$OUT/viewer.log" 2>&1 &
  pids+=($!)
  viewer_url=
  for _ in $(seq 1 600); do  # up to 60 s: npm ci and a go build on first use
    viewer_url="$(sed -n 's/^viewer: //p' "$OUT/viewer.log" | head -1)"
    [[ -n "$viewer_url" ]] && break
    kill -0 "${pids[-1]}" 2>/dev/null || break
    sleep 0.1
  done
  if [[ -n "$viewer_url" ]]; then echo "demo: watch in a browser: $viewer_url"
  else echo "demo: viewer not started (log: $OUT/viewer.log)" >&2; fi
fi
# --- end browser viewer ---------------------------------------------------------

echo "demo: building the subscriber (tests/cmd/lksub)"
(cd "$ROOT/tests" && go build -o "$OUT/lksub" ./cmd/lksub)
"$OUT/lksub" -url "ws://127.0.0.1:$PORT" -key "$KEY" -secret "$SECRET" -room demo \
  -out "$OUT/media" -seconds $((SECONDS_TO_RUN + 60)) >"$OUT/lksub.log" 2>&1 &
SUB=$!
pids+=($SUB)
sleep 1

echo "demo: publishing for ${SECONDS_TO_RUN}s (gst log: $OUT/gst-launch.log)"
set +e
GST_PLUGIN_PATH="$PLUGIN_DIR" GST_REGISTRY="$OUT/registry.bin" GST_DEBUG="${GST_DEBUG:-golivekit*:4}" \
timeout -k 10 -s INT "$SECONDS_TO_RUN" gst-launch-1.0 -e \
  videotestsrc is-live=true ! video/x-raw,width=640,height=360,framerate=30/1 \
  ! x264enc tune=zerolatency key-int-max=60 ! golivekitsink name=lk \
    signaller::ws-url="ws://127.0.0.1:$PORT" signaller::api-key="$KEY" signaller::secret-key="$SECRET" \
    signaller::room-name=demo signaller::identity=demo-cam \
  audiotestsrc is-live=true ! opusenc ! lk. >"$OUT/gst-launch.log" 2>&1
gst_rc=$?
set -e
# timeout exits 124 when it had to send SIGINT: that is the normal end here.
if [[ $gst_rc -ne 0 && $gst_rc -ne 124 ]]; then
  echo "demo: gst-launch-1.0 failed (exit $gst_rc):" >&2
  grep -E -A3 '^(ERROR|WARNING)' "$OUT/gst-launch.log" >&2 || tail -20 "$OUT/gst-launch.log" >&2
fi

sleep 1
kill -INT "$SUB" 2>/dev/null || true
set +e
wait "$SUB"
sub_rc=$?
set -e
cat "$OUT/lksub.log"
echo "demo: files in $OUT"
if [[ $gst_rc -ne 0 && $gst_rc -ne 124 ]]; then exit 1; fi
exit $sub_rc
