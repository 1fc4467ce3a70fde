"""`kioskctl bench` (also `python -m bench`): the command line of the whole-kiosk benchmark (bench/runner.py).
kioskctl hands its arguments here, so the daemon's own code never imports the bench."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from rich.console import Console

from bench.runner import BenchError, BenchOptions, bundled_questions, print_table, run
from daemon import config as config_mod


def parser() -> argparse.ArgumentParser:
    b = argparse.ArgumentParser(prog="kioskctl bench", description="Run a headless kioskd on recorded questions "
                                "and measure it from its events, its recording and /proc.")
    b.add_argument("--audio", type=Path, action="append", default=[], metavar="FILE.wav",
                   help="one spoken question per file, cycled through (default: configs/samples/*.wav)")
    b.add_argument("--questions", type=Path, metavar="FILE.yaml",
                   help="written questions (a labelled set or a YAML list), spoken in voices the bundled samples "
                        "do not use (espeak-ng; Chinese ones by the Mandarin test voice), instead of --audio")
    b.add_argument("--turn-set", type=Path, metavar="DIR",
                   help="real recordings of one turn each, some paused mid-sentence (python -m bench.turn_set DIR), "
                        "instead of --audio: adds false cut-offs to the figures")
    b.add_argument("--kinds", default="paraphrase,grounded,unanswerable",
                   help="with a labelled set: which kinds of question to ask (default paraphrase,grounded,unanswerable)")
    b.add_argument("--split", default="tune", help="with a labelled set or a turn set: which half to ask, or 'all' "
                   "(default tune: the holdout half stays unread)")
    b.add_argument("--turns", type=int, default=20, help="questions to ask (default 20)")
    b.add_argument("--json", type=Path, metavar="OUT.json", help="write the figures as JSON")
    b.add_argument("--soak", type=_duration, metavar="DURATION", help="keep asking for this long (90s, 45m, 2h)")
    b.add_argument("--barge-ins", type=int, default=5, help="times to speak over a reply after the turns (default 5)")
    b.add_argument("--no-baseline", action="store_true", help="skip the naive sequential pipeline")
    b.add_argument("--display", choices=("offscreen", "fullscreen"), default="offscreen",
                   help="where the face is drawn: offscreen at face.size, or fullscreen at this display's own "
                   "resolution (xvfb-run -s '-screen 0 1920x1080x24' on a headless machine)")
    b.add_argument("--no-record", action="store_true",
                   help="no recording of the face (as a live kiosk runs): frame times without the encoder, no lip-sync")
    b.add_argument("--workdir", type=Path, help="keep the recording, events and log here")
    b.add_argument("-o", dest="overrides", action="append", default=[], metavar="KEY.PATH=VALUE",
                   help="config override for the benchmarked kioskd (repeatable)")
    return b


def _duration(text: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600}
    try:
        if text[-1:] in units:
            return float(text[:-1]) * units[text[-1]]
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration (e.g. 90s, 45m, 2h)") from None


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.turns < 1:
        print("kioskctl bench: --turns must be at least 1", file=sys.stderr)
        return 2
    console = Console()
    audio = args.audio or bundled_questions()
    if args.questions:
        from bench.spoken_questions import read_questions, speak_all

        try:
            texts = read_questions(args.questions, set(args.kinds.split(",")),
                                   None if args.split == "all" else args.split)
            folder = (args.workdir or Path(tempfile.mkdtemp(prefix="kioskd-questions-"))) / "questions"
            with console.status(f"speaking {len(texts)} questions"):
                audio = speak_all(texts, folder)
        except (OSError, ValueError) as exc:  # the Mandarin test voice not set up, among them
            print(f"kioskctl bench: {exc}", file=sys.stderr)
            return 2
    paused: set[Path] = set()
    if args.turn_set:
        from bench.turn_set import read_manifest

        try:
            items = read_manifest(args.turn_set, None if args.split == "all" else args.split)
        except (OSError, ValueError) as exc:
            print(f"kioskctl bench: {exc}", file=sys.stderr)
            return 2
        audio = [args.turn_set / item["wav"] for item in items]
        paused = {args.turn_set / item["wav"] for item in items if item["kind"] == "paused"}
    opts = BenchOptions(audio=audio, turns=args.turns, paused=paused,
                        soak_s=args.soak, barge_ins=0 if args.soak else args.barge_ins,
                        baseline=not args.no_baseline, workdir=args.workdir, overrides=args.overrides,
                        display=args.display, record=not args.no_record)
    try:
        result = run(opts, console)
    except (BenchError, config_mod.ConfigError) as exc:
        print(f"kioskctl bench: {exc}", file=sys.stderr)
        return 1
    print_table(result, console)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
        console.print(f"figures written to {args.json}")
    return 0
