#!/usr/bin/env bash
# VP8 video (realtime settings: deadline=1) with Opus audio. Settings: see common.sh.
source "$(dirname "$0")/common.sh"
launch \
  videotestsrc is-live=true pattern=ball ! video/x-raw,width=640,height=360,framerate=30/1 \
  ! vp8enc deadline=1 cpu-used=8 keyframe-max-dist=60 target-bitrate=1000000 ! "${SINK[@]}" \
  audiotestsrc is-live=true ! audio/x-raw,rate=48000,channels=2 ! opusenc ! lk.
