#!/usr/bin/env bash
# kioskd's single entry point.
#   ./kiosk.sh run [kioskd options]   set everything up, then run the kiosk on the embedded default
#   ./kiosk.sh test [pytest options]  set everything up, then run the test suite
# With a display, `run` opens the fullscreen kiosk on the microphone. Without one (a server, CI), it
# answers the bundled spoken question offscreen, records it to out/demo.mp4 and prints the latency.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"
cmd="${1:-}"
shift || true

case "$cmd" in
  run)
    scripts/setup.sh
    if [[ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]]; then
      exec .venv/bin/kioskd --display fullscreen --audio-in mic "$@"
    fi
    echo "==> no display: answering the bundled question offscreen (configs/samples/opening-hours.wav)"
    mkdir -p out
    # The question is the project's own recording, not a visitor's: its words may be shown.
    SDL_AUDIODRIVER="${SDL_AUDIODRIVER:-dummy}" .venv/bin/kioskd --display offscreen -o privacy.log_transcripts=true \
      --audio-in configs/samples/opening-hours.wav --record out/demo.mp4 --events out/demo.events.jsonl "$@"
    .venv/bin/kioskctl report out/demo.events.jsonl
    echo "recording: $ROOT/out/demo.mp4"
    ;;
  test)
    scripts/setup.sh --test
    exec .venv/bin/python -m pytest "$@"
    ;;
  *)
    echo "usage: ./kiosk.sh run [kioskd options] | ./kiosk.sh test [pytest options]" >&2
    exit 2
    ;;
esac
