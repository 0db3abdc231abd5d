#!/usr/bin/env bash
# Start a headless PulseAudio with a null sink "vsink" (a real sound server with no hardware) and print the
# environment to use it: eval "$(bash scripts/pulse-null-sink.sh)". Recipe and gotchas: docs/audio-ci.md.
set -euo pipefail
PA_DIR=$(mktemp -d /tmp/broadcaster-pulse.XXXXXX); chmod 700 "$PA_DIR"
export PULSE_RUNTIME_PATH="$PA_DIR" PULSE_STATE_PATH="$PA_DIR" PULSE_SERVER="unix:$PA_DIR/native"
pulseaudio --daemonize=yes --exit-idle-time=-1 --disallow-exit --disable-shm=yes -n \
  --log-target=file:"$PA_DIR/pulse.log" \
  --load="module-native-protocol-unix socket=$PA_DIR/native auth-anonymous=1" \
  --load="module-null-sink sink_name=vsink rate=44100 channels=2" \
  --load="module-null-source source_name=silence rate=44100 channels=2" \
  --load="module-loopback source=silence sink=vsink latency_msec=20" </dev/null >/dev/null 2>&1
for _ in $(seq 50); do pactl info >/dev/null 2>&1 && break; sleep 0.1; done
pactl set-default-sink vsink >/dev/null; pactl set-default-source vsink.monitor >/dev/null
echo "export PULSE_RUNTIME_PATH=$PA_DIR PULSE_STATE_PATH=$PA_DIR PULSE_SERVER=unix:$PA_DIR/native"
