# Sourced by the example scripts: connection settings and how to run gst-launch.
#   LIVEKIT_URL        (default ws://127.0.0.1:7880, livekit-server --dev)
#   LIVEKIT_API_KEY    (default devkey)
#   LIVEKIT_API_SECRET (default: scripts/demo.sh's secret)
#   ROOM               (default demo)
#   IDENTITY           (default gst-<script name>)
#   DURATION           seconds to run, then EOS (default: until Ctrl-C)
# The plugin is taken from GST_PLUGIN_PATH, else from the repository's build/
# when it was built there, else from the system (the Debian package).
set -euo pipefail
LIVEKIT_URL="${LIVEKIT_URL:-ws://127.0.0.1:7880}"
LIVEKIT_API_KEY="${LIVEKIT_API_KEY:-devkey}"
LIVEKIT_API_SECRET="${LIVEKIT_API_SECRET:-golivekitsink-demo-secret-0123456789abcdef}"
ROOM="${ROOM:-demo}"
IDENTITY="${IDENTITY:-gst-$(basename "$0" .sh)}"
_build="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build"
if [[ -z "${GST_PLUGIN_PATH:-}" && -f "$_build/libgstgolivekit.so" ]]; then
  export GST_PLUGIN_PATH="$_build"
fi

# The element and its connection settings, named lk so more pads can link to lk.
SINK=(golivekitsink name=lk
  "signaller::ws-url=$LIVEKIT_URL" "signaller::api-key=$LIVEKIT_API_KEY"
  "signaller::secret-key=$LIVEKIT_API_SECRET" "signaller::room-name=$ROOM"
  "signaller::identity=$IDENTITY")

# launch ARGS...: gst-launch-1.0 -m (prints the golivekitsink-connection
# messages) -e (Ctrl-C sends EOS). With DURATION, SIGINT after that long.
launch() {
  if [[ -n "${DURATION:-}" ]]; then
    local rc=0
    timeout -k 10 -s INT "$DURATION" gst-launch-1.0 -m -e "$@" || rc=$?
    # 124: timeout had to interrupt, which is how a timed run ends.
    [[ $rc -eq 124 ]] && rc=0
    return $rc
  fi
  exec gst-launch-1.0 -m -e "$@"
}
