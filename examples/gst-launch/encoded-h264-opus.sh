#!/usr/bin/env bash
# Encoded H.264 + Opus: the encoders are the application's, golivekitsink
# publishes what they produce. Settings: see common.sh.
source "$(dirname "$0")/common.sh"
launch \
  videotestsrc is-live=true ! video/x-raw,width=640,height=360,framerate=30/1 \
  ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=60 bitrate=1000 ! "${SINK[@]}" \
  audiotestsrc is-live=true wave=sine ! audio/x-raw,rate=48000,channels=2 ! opusenc ! lk.
