"""`kioskctl release ...`: the kiosk's side of `kioskctl push`, run there over SSH, one step per call
(daemon/releases.py holds the rules). Each prints one JSON line on success; on failure a sentence on
stderr and exit 1, having changed nothing but what the step's own docstring says.

    kioskctl release show                   current release, its files' sha256, its config's text
    kioskctl release receive ID < files.tar  unpack an upload into releases/ID
    kioskctl release carry ID NAME...       keep files of the current release
    kioskctl release seal ID                validate it as the kiosk will load it; write its manifest
    kioskctl release switch ID              make it current (atomic); prints the one it replaced
    kioskctl release check                  the health gate: healthy for N s, a question answered
    kioskctl release prune                  drop incomplete releases and all but the newest few
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from daemon import config as config_mod
from daemon import control_calls
from daemon.control import ControlError
from daemon.releases import CONFIG, KEEP, ReleaseError, Releases
from models.faq import FaqError, load_faq

DEFAULT_ROOT = Path("/etc/kioskd")


def add_parser(sub: Any) -> None:
    r = sub.add_parser("release", help="the kiosk side of `kioskctl push` (configuration releases)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    r.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="releases live in ROOT/releases, the site file "
                   "is ROOT/current/kioskd.yaml (default /etc/kioskd)")
    ops = r.add_subparsers(dest="op", required=True)
    ops.add_parser("show")
    ops.add_parser("receive").add_argument("id")
    carry = ops.add_parser("carry")
    carry.add_argument("id")
    carry.add_argument("names", nargs="+")
    ops.add_parser("seal").add_argument("id")
    ops.add_parser("switch").add_argument("id")
    check = ops.add_parser("check")
    check.add_argument("--healthy-s", type=float, default=10.0, help="seconds the kiosk must stay healthy with no "
                       "worker restarting (default 10)")
    check.add_argument("--question", help="asked once healthy; must be answered (default: the first question of "
                       "the current FAQ, which must get its FAQ answer)")
    ops.add_parser("prune").add_argument("--keep", type=int, default=KEEP)


def run(args: argparse.Namespace, sock: Path) -> int:
    releases = Releases(args.root)
    try:
        out = _op(args, releases, sock)
    except (ReleaseError, config_mod.ConfigError, ControlError, OSError) as exc:
        print(f"kioskctl release {args.op}: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(out, ensure_ascii=False))
    return 0


def _op(args: argparse.Namespace, releases: Releases, sock: Path) -> dict[str, Any]:
    match args.op:
        case "show":
            return releases.show()
        case "receive":
            return {"received": releases.receive(args.id, sys.stdin.buffer)}
        case "carry":
            releases.carry(args.id, args.names)
            return {"carried": args.names}
        case "seal":
            return {"sealed": args.id, "notes": releases.seal(args.id)}
        case "switch":
            return {"current": args.id, "previous": releases.switch(args.id)}
        case "check":
            return check_health(sock, releases, args.healthy_s, args.question)
        case _:
            return {"pruned": releases.prune(args.keep)}


def check_health(sock: Path, releases: Releases, healthy_s: float, question: str | None) -> dict[str, Any]:
    """The push's health gate: kioskd healthy, with no worker restarting, for `healthy_s`; then a question
    answered (the FAQ's first, answered from the FAQ, unless one is given). ControlError says what failed."""
    expect_faq = question is None
    if question is None:
        question = _first_question(releases)
    first = control_calls.call(sock, {"cmd": "status"})
    restarts = {w["name"]: w["restarts"] for w in first["workers"]}
    deadline = time.monotonic() + healthy_s
    while True:
        status = control_calls.call(sock, {"cmd": "status"})
        if not status["healthy"]:
            raise ControlError(f"not healthy: {status['reason']}")
        again = [w["name"] for w in status["workers"] if w["restarts"] != restarts.get(w["name"])]
        if again:
            raise ControlError(f"{', '.join(again)} restarted during the health check")
        if time.monotonic() >= deadline:
            break
        time.sleep(0.5)
    answer = control_calls.ask(sock, question)
    if not answer["text"].strip() or (expect_faq and answer["source"] != "faq"):
        raise ControlError(f"the test question {question!r} got a {answer['source']} answer, not its FAQ answer")
    return {"healthy_s": healthy_s, "question": question, "source": answer["source"],
            "first_sentence_ms": answer["first_sentence_ms"]}


def _first_question(releases: Releases) -> str:
    try:
        cfg = config_mod.load(site=releases.current_link / CONFIG)
        return load_faq(config_mod.resolve(cfg.brain.faq))[0].questions[0]
    except FaqError as exc:
        raise ControlError(f"no test question: {exc}") from None
