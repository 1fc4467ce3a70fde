"""`kioskctl`: validate a config file, say where each model will run, and talk to a running kioskd over its control
socket."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from daemon import cli_doctor, cli_install, cli_release, cli_render, cli_studio, control_calls, push
from daemon import config as config_mod
from daemon.control import ControlError, request
from daemon.events import read_jsonl, turns
from daemon.paths import control_socket, runtime_dir
from daemon.site_check import check_site


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kioskctl", description="Control a running kioskd.")
    p.add_argument("--runtime-dir", type=Path, help="kioskd's runtime directory (default: /run/kioskd or XDG)")
    sub = p.add_subparsers(dest="command", required=True)
    v = sub.add_parser("validate", help="check a site config file layered on the default")
    v.add_argument("file", type=Path)
    v.add_argument("--profile", help="profile the file is layered on")
    cli_doctor.add_parser(sub)
    st = sub.add_parser("status", help="each worker's state and pid")
    st.add_argument("--json", action="store_true", help="print kioskd's whole status as JSON (health, release, "
                    "recent turn timings)")
    shot = sub.add_parser("screenshot", help="save what the screen shows now as a PNG")
    shot.add_argument("out", type=Path, metavar="OUT.png")
    s = sub.add_parser("say", help="make the face speak TEXT now")
    s.add_argument("text", nargs="+")
    a = sub.add_parser("ask", help="ask TEXT as if a visitor had said it; print the answer once it is spoken")
    a.add_argument("text", nargs="+")
    a.add_argument("--json", action="store_true", help='print {"source", "text", "first_sentence_ms"} as JSON')
    a.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for the whole answer (default 30)")
    rl = sub.add_parser("reload", help="validate the config again and restart the workers whose sections changed")
    rl.add_argument("--wait", action="store_true", help="return once every restarted worker runs again (exit 1 "
                    "if one does not within --timeout)")
    rl.add_argument("--timeout", type=float, default=120.0, help="seconds --wait allows (default 120)")
    h = sub.add_parser("hear", help="play an audio file into the ear now, as if spoken into the microphone")
    h.add_argument("file", type=Path)
    # The bench is its own program (bench/cli.py): daemon/ never imports bench/, so it is handed the rest.
    sub.add_parser("bench", add_help=False, help="run a headless kioskd on recorded questions and measure it "
                   "(kioskctl bench --help)")
    cli_release.add_parser(sub)
    cli_install.add_parsers(sub)
    push.add_parser(sub)
    cli_render.add_parser(sub)
    cli_studio.add_parser(sub)
    r = sub.add_parser("report", help="per-turn transcript, reply and latency from a kioskd --events file")
    r.add_argument("events", type=Path)
    return p


def _hand_to_bench(rest: list[str]) -> int:
    try:
        os.execv(sys.executable, [sys.executable, "-m", "bench", *rest])
    except OSError as exc:
        print(f"kioskctl bench: cannot start the bench ({exc})", file=sys.stderr)
    return 1


def _validate(args: argparse.Namespace) -> int:
    try:
        cfg = config_mod.load(profile=args.profile, site=args.file)
        notes = check_site(cfg)
    except config_mod.ConfigError as exc:
        print(f"{args.file}: {exc}", file=sys.stderr)
        return 1
    for note in notes:
        print(f"{args.file}: warning: {note}")
    print(f"{args.file}: valid (site {cfg.site!r})")
    return 0


def _status(sock: Path, as_json: bool) -> int:
    reply = request(sock, {"cmd": "status"})
    if as_json:
        print(json.dumps({k: v for k, v in reply.items() if k != "ok"}, ensure_ascii=False, indent=2))
        return 0
    print(f"kioskd: {'healthy' if reply['healthy'] else reply['reason']}, {reply['activity']}, "
          f"{reply['opening']['note']}"
          + (f", release {reply['release']}" if reply["release"] else ""))
    print(f"{'worker':8} {'state':9} {'pid':>7} {'restarts':>8} {'uptime':>8}  status")
    for w in reply["workers"]:
        print(f"{w['name']:8} {w['state']:9} {w['pid']:>7} {w['restarts']:>8} {w['uptime_s']:>7.1f}s  {w['status']}")
    return 0


def _ask(sock: Path, req: dict[str, Any], refused: str = "", timeout: float = 5.0) -> dict[str, Any] | None:
    """Send one request; on a refusal print kioskd's reason and return None."""
    reply = request(sock, req, timeout=timeout)
    if not reply.get("ok"):
        print(f"kioskctl: {refused}{reply.get('error')}", file=sys.stderr)
        return None
    return reply


def _say(sock: Path, text: str) -> int:
    reply = _ask(sock, {"cmd": "say", "text": text})
    if reply is None:
        return 1
    print(f"speaking (turn {reply['turn']})")
    return 0


def _ask_question(sock: Path, text: str, as_json: bool, timeout: float) -> int:
    result = control_calls.ask(sock, text, timeout)
    if as_json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print(f"({result['source']}, first sentence after {result['first_sentence_ms']} ms) {result['text']}")
    return 0


def _reload(sock: Path, wait: bool, timeout: float) -> int:
    reply = _ask(sock, {"cmd": "reload"}, "reload refused, the running configuration is kept:\n", timeout=60)
    if reply is None:
        return 1
    print(f"reloaded: changed {', '.join(reply['changed']) or 'nothing'}; "
          f"restarted {', '.join(reply['restarted']) or 'no worker'}")
    if wait:
        control_calls.wait_running(sock, timeout)
        print("every worker is running")
    return 0


def _screenshot(sock: Path, out: Path) -> int:
    png = control_calls.screenshot(sock)
    try:
        out.write_bytes(png)
    except OSError as exc:
        print(f"kioskctl: cannot write {out}: {exc.strerror}", file=sys.stderr)
        return 1
    print(f"saved {out} ({len(png)} bytes)")
    return 0


def _hear(sock: Path, path: Path) -> int:
    if _ask(sock, {"cmd": "hear", "path": str(path.resolve())}) is None:
        return 1
    print(f"playing {path} into the ear")
    return 0


def _report(path: Path) -> int:
    try:
        reports = turns(read_jsonl(path))
    except (OSError, ValueError, KeyError) as exc:
        print(f"kioskctl: {path}: not a kioskd events file ({exc})", file=sys.stderr)
        return 1
    if not reports:
        print(f"{path}: no answered turn")
        return 1
    for r in reports:
        print(f"turn {r['turn']}: heard {r['transcript']!r}")
        print(f"  replied ({r['source'] or '?'}): {' '.join(r['said'])}")
        print("  stages: " + ", ".join(f"{name} {ms:.0f} ms" for name, ms in r["stages_ms"].items()))
        print(f"  voice-to-voice latency: {r['voice_to_voice_ms']:.0f} ms")
    return 0


def main(argv: list[str] | None = None) -> int:
    p = parser()
    args, rest = p.parse_known_args(argv)
    if args.command == "bench":
        return _hand_to_bench(rest)
    if rest:
        p.error(f"unrecognized arguments: {' '.join(rest)}")
    if args.command == "validate":
        return _validate(args)
    if args.command == "doctor":
        return cli_doctor.run(args)
    if args.command == "report":
        return _report(args.events)
    if args.command == "render":
        return cli_render.run(args)
    if args.command == "studio":
        return cli_studio.run(args)
    if args.command == "push":
        return push.run(args)
    if args.command in ("install", "uninstall"):
        return cli_install.run(args)
    sock = control_socket(args.runtime_dir or runtime_dir())
    if args.command == "release":
        return cli_release.run(args, sock)
    try:
        if args.command == "status":
            return _status(sock, args.json)
        if args.command == "screenshot":
            return _screenshot(sock, args.out)
        if args.command == "hear":
            return _hear(sock, args.file)
        if args.command == "reload":
            return _reload(sock, args.wait, args.timeout)
        if args.command == "ask":
            return _ask_question(sock, " ".join(args.text), args.json, args.timeout)
        return _say(sock, " ".join(args.text))
    except ControlError as exc:
        print(f"kioskctl: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
