"""`kioskctl`: validate a config file, and talk to a running kioskd over its control socket."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from daemon import config as config_mod
from daemon.control import ControlError, request
from daemon.events import read_jsonl, turn_reports
from daemon.paths import control_socket, runtime_dir


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kioskctl", description="Control a running kioskd.")
    p.add_argument("--runtime-dir", type=Path, help="kioskd's runtime directory (default: /run/kioskd or XDG)")
    sub = p.add_subparsers(dest="command", required=True)
    v = sub.add_parser("validate", help="check a site config file layered on the default")
    v.add_argument("file", type=Path)
    v.add_argument("--profile", help="profile the file is layered on")
    sub.add_parser("status", help="each worker's state and pid")
    s = sub.add_parser("say", help="make the face speak TEXT now")
    s.add_argument("text", nargs="+")
    r = sub.add_parser("report", help="per-turn transcript, reply and latency from a kioskd --events file")
    r.add_argument("events", type=Path)
    return p


def _validate(args: argparse.Namespace) -> int:
    try:
        cfg = config_mod.load(profile=args.profile, site=args.file)
    except config_mod.ConfigError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"{args.file}: valid (site {cfg.site!r})")
    return 0


def _status(sock: Path) -> int:
    reply = request(sock, {"cmd": "status"})
    print(f"kioskd: {'ready' if reply['ready'] else 'starting'}")
    print(f"{'worker':8} {'state':9} {'pid':>7} {'uptime':>8}  status")
    for w in reply["workers"]:
        print(f"{w['name']:8} {w['state']:9} {w['pid']:>7} {w['uptime_s']:>7.1f}s  {w['status']}")
    return 0


def _say(sock: Path, text: str) -> int:
    reply = request(sock, {"cmd": "say", "text": text})
    if not reply.get("ok"):
        print(f"kioskctl: {reply.get('error')}", file=sys.stderr)
        return 1
    print(f"speaking (turn {reply['turn']})")
    return 0


def _report(path: Path) -> int:
    try:
        reports = turn_reports(read_jsonl(path))
    except (OSError, ValueError, KeyError) as exc:
        print(f"kioskctl: {path}: not a kioskd events file ({exc})", file=sys.stderr)
        return 1
    if not reports:
        print(f"{path}: no answered turn")
        return 1
    for r in reports:
        print(f"turn {r['turn']}: heard {r['heard']!r}")
        print(f"  replied ({r.get('source', '?')}): {' '.join(r['said'])}")
        steps = ", ".join(f"{name} +{ms} ms" for name, ms in r["ms"].items())
        print(f"  after the last voiced sample: {steps}")
        print(f"  voice-to-voice latency: {r['ms']['playback_start']} ms")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "validate":
        return _validate(args)
    if args.command == "report":
        return _report(args.events)
    sock = control_socket(args.runtime_dir or runtime_dir())
    try:
        if args.command == "status":
            return _status(sock)
        return _say(sock, " ".join(args.text))
    except ControlError as exc:
        print(f"kioskctl: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
