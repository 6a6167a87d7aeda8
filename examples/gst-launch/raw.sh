#!/usr/bin/env bash
# Raw video and audio straight into the element, as livekitwebrtcsink README
# pipelines do: golivekitsink picks and configures the encoders itself.
# Settings: see common.sh.
source "$(dirname "$0")/common.sh"
launch \
  "${SINK[@]}" \
  videotestsrc is-live=true ! video/x-raw,width=640,height=360,framerate=30/1 ! timeoverlay \
  ! videoconvert ! queue ! lk. \
  audiotestsrc is-live=true ! audioconvert ! audioresample ! queue ! lk.
