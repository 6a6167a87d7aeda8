#!/usr/bin/env bash
# Two video tracks (H.264 and VP8, each on its own video_%u pad) and one audio
# track from one element. Settings: see common.sh.
source "$(dirname "$0")/common.sh"
launch \
  "${SINK[@]}" \
  videotestsrc is-live=true ! video/x-raw,width=640,height=360,framerate=30/1 \
  ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=60 ! lk.video_%u \
  videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=30/1 \
  ! vp8enc deadline=1 cpu-used=8 keyframe-max-dist=60 ! lk.video_%u \
  audiotestsrc is-live=true ! audio/x-raw,rate=48000,channels=2 ! opusenc ! lk.audio_%u
