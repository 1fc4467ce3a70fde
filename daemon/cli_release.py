"""`kioskctl release ...`: the kiosk's side of `kioskctl push`, run there over SSH, one step per call
(daemon/releases.py holds the rules). Each prints one JSON line on success; on failure a sentence on
stderr and exit 1, having changed nothing but what the step's own docstring says.

    kioskctl release show                   current release, its files' sha256, its config's text
    kioskctl release receive ID < files.tar  unpack an upload into releases/ID
    kioskctl release carry ID NAME...       keep files of the current release
    kioskctl release seal ID                validate it as the kiosk will load it; write its manifest
    kioskctl release activate ID            switch to it, reload, health-gate it; switch back on failure
    kioskctl release switch ID              make it current (atomic), nothing more; prints the one it replaced
    kioskctl release prune                  drop incomplete releases and all but the newest few

`activate` runs to its end on the kiosk even if the push that started it is killed or its connection
drops, so a release goes live only through its health gate.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
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
GATE_ASKS = 3  # the test question is asked again when something cut it off


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
    activate = ops.add_parser("activate")
    activate.add_argument("id")
    activate.add_argument("--healthy-s", type=float, default=10.0, help="seconds the kiosk must stay healthy with "
                          "no worker restarting (default 10)")
    activate.add_argument("--reload-timeout", type=float, default=120.0, help="seconds the reload may take")
    ops.add_parser("prune").add_argument("--keep", type=int, default=KEEP)


def run(args: argparse.Namespace, sock: Path) -> int:
    releases = Releases(args.root)
    try:
        out = _op(args, releases, sock)
    except (ReleaseError, config_mod.ConfigError, ControlError, OSError) as exc:
        print(f"kioskctl release {args.op}: {exc}", file=sys.stderr)
        return 1
    with contextlib.suppress(BrokenPipeError):  # the push that asked is gone; what it asked for is done
        print(json.dumps(out, ensure_ascii=False), flush=True)
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
        case "activate":
            return activate(sock, releases, args.id, args.healthy_s, args.reload_timeout)
        case _:
            return {"pruned": releases.prune(args.keep)}


def activate(sock: Path, releases: Releases, rid: str, healthy_s: float, reload_timeout_s: float) -> dict[str, Any]:
    """Switch to `rid`, reload and health-gate it; kept (and marked as having passed), or, on any failure,
    back to the last release that passed its gate (none: to the site file written by hand) and reloaded.
    The outcome is "kept" or "rolled_back"; an exception means the way back failed too."""
    # The push's client may die (sshd hangs up) or its session be torn down: the kiosk must not be left
    # between the switch and the gate, so this carries on to its end.
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    previous = releases.switch(rid)
    try:
        _reload(sock, reload_timeout_s)
        gate = check_health(sock, releases, rid, healthy_s)
    except Exception as exc:  # whatever failed, the kiosk must not stay on a release that did not pass
        reason = str(exc) if isinstance(exc, ControlError) else f"{type(exc).__name__}: {exc}"
        back = releases.fallback(rid, previous)
        if back is None:
            releases.unset()
        else:
            releases.switch(back)
        _reload(sock, reload_timeout_s)
        return {"outcome": "rolled_back", "current": back, "reason": reason}
    releases.mark_gated(rid)
    return {"outcome": "kept", "current": rid, "previous": previous, **gate}


def _reload(sock: Path, timeout: float) -> None:
    control_calls.call(sock, {"cmd": "reload"}, timeout=60.0)
    control_calls.wait_running(sock, timeout)


def check_health(sock: Path, releases: Releases, rid: str, healthy_s: float) -> dict[str, Any]:
    """The health gate: kioskd runs release `rid` and stays healthy, with no worker restarting, for
    `healthy_s`; then the first question of its FAQ gets its FAQ answer (spoken aloud, like a sound check).
    ControlError says what failed."""
    question = _first_question(releases)
    first = control_calls.call(sock, {"cmd": "status"})
    if first.get("release") != rid:
        raise ControlError(f"kioskd runs {first.get('site_file')}, not release {rid}: start it with "
                           f"{releases.current_link / CONFIG} as its site file (or restart a kioskd older "
                           "than this kioskctl)")
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
    for _ in range(GATE_ASKS):
        answer = control_calls.ask(sock, question)
        if answer["source"] is not None and answer["text"].strip():
            break  # else a visitor (or an operator) spoke over it: ask again
    if answer["source"] != "faq" or not answer["text"].strip():
        raise ControlError(f"the test question {question!r} got a {answer['source']} answer, not its FAQ answer")
    return {"healthy_s": healthy_s, "question": question, "first_sentence_ms": answer["first_sentence_ms"]}


def _first_question(releases: Releases) -> str:
    try:
        cfg = config_mod.load(site=releases.current_link / CONFIG)
        return load_faq(config_mod.resolve(cfg.brain.faq))[0].questions[0]
    except FaqError as exc:
        raise ControlError(f"no test question: {exc}") from None
