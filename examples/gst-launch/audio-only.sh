#!/usr/bin/env bash
# One Opus track and no video. Settings: see common.sh.
source "$(dirname "$0")/common.sh"
launch \
  audiotestsrc is-live=true wave=ticks ! audio/x-raw,rate=48000,channels=2 ! opusenc ! "${SINK[@]}"
