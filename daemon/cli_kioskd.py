"""`kioskd`: load and validate the config, then run the supervisor until Ctrl-C, SIGTERM or the end of input."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from daemon import config as config_mod
from daemon import config_options, instance_lock, log_setup
from daemon.model_check import problems as model_problems
from daemon.paths import runtime_dir
from daemon.portrait_check import check_portrait
from daemon.supervisor import RunOptions, Supervisor
from kiosk.audio_sources import AudioInputError, decode_file


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kioskd", description="Offline talking-head kiosk supervisor.")
    config_options.add_options(p)
    p.add_argument("--audio-in", metavar="FILE.wav|mic|none",
                   help="audio input: a file fed at real-time pace as if it were the microphone, the mic, or none")
    p.add_argument("--display", choices=["offscreen", "window", "fullscreen"], help="where the face is shown")
    p.add_argument("--record", type=Path, metavar="OUT.mp4", help="record what the screen showed and the speaker played")
    p.add_argument("--events", type=Path, metavar="OUT.jsonl", help="write one JSON event per line")
    p.add_argument("--turns", type=int, metavar="N", help="exit cleanly after N answered turns")
    p.add_argument("--runtime-dir", type=Path, help="sockets and worker files (default: /run/kioskd or XDG)")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    log_setup.configure("kioskd", logging.DEBUG if args.verbose else logging.INFO)
    log = logging.getLogger("kioskd")
    try:
        cfg = config_options.load(args)
        for note in check_portrait(cfg.face.portrait):
            log.warning("%s", note)
    except config_mod.ConfigError as exc:
        print(f"kioskd: bad config:\n{exc}", file=sys.stderr)
        return 1
    damaged = model_problems(cfg)
    if damaged:
        print("kioskd: embedded model files are damaged:\n" + "\n".join(f"  {line}" for line in damaged),
              file=sys.stderr)
        return 1
    if args.turns is not None and args.turns < 1:
        print("kioskd: --turns must be at least 1", file=sys.stderr)
        return 2
    audio_in = args.audio_in or cfg.audio_in.source
    if audio_in not in ("mic", "none"):
        # Check the file before any worker starts, so a typo is one clear line and not five stack traces.
        try:
            decode_file(Path(audio_in))
        except AudioInputError as exc:
            print(f"kioskd: {exc}", file=sys.stderr)
            return 1
        audio_in = str(Path(audio_in).resolve())
    options = RunOptions(
        runtime_dir=args.runtime_dir or runtime_dir(),
        audio_in=audio_in,
        display=args.display,
        record=args.record.resolve() if args.record else None,
        events=args.events,
        turns=args.turns,
        site=args.config,
        reload=lambda: config_options.load(args),
    )
    try:
        with instance_lock.hold(options.runtime_dir):
            code = Supervisor(cfg, options).run()
    except instance_lock.Held as exc:
        print(f"kioskd: {exc}", file=sys.stderr)
        return 1
    log.info("kioskd exits with code %d", code)
    return code


if __name__ == "__main__":
    sys.exit(main())
