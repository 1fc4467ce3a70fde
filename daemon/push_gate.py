"""The kiosk's SSH forced command for `kioskctl push`: a key given only to pushes may run the kioskctl calls a
push makes (`release ...` on one releases root, and `reload`) and nothing else; no shell ever sees the
request.

In ~kioskd-push/.ssh/authorized_keys (README "Pushing configuration"):

    command="/opt/kioskd/.venv/bin/python -m daemon.push_gate --root /etc/kioskd",restrict ssh-ed25519 AAAA...

The requested command is in $SSH_ORIGINAL_COMMAND, as `kioskctl ARGS...` (the push's --remote-kioskctl
name is ignored: the gate runs its own kioskctl, or the one --kioskctl names)."""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import shlex
import sys
from pathlib import Path

ALLOWED = {"release", "reload"}


def requested(command: str | None, root: str | None = None) -> list[str]:
    """The kioskctl arguments of an allowed request; ValueError saying why one is refused. With `root`, a
    release call must name that root."""
    if not command:
        raise ValueError("this key only runs kioskctl for pushes; no interactive login")
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise ValueError(f"cannot parse the command: {exc}") from None
    if len(argv) < 2 or os.path.basename(argv[0]) != "kioskctl" or argv[1] not in ALLOWED:
        raise ValueError(f"not allowed: {command!r} (only kioskctl {', '.join(sorted(ALLOWED))})")
    from daemon.cli_kioskctl import parser  # read as kioskctl will read it: the last --root is the one used

    try:
        with contextlib.redirect_stderr(io.StringIO()):
            args = parser().parse_args(argv[1:])
    except SystemExit:
        raise ValueError(f"not a kioskctl command: {command!r}") from None
    if root is not None and args.command == "release" and Path(args.root).resolve() != Path(root).resolve():
        raise ValueError(f"releases live in {root} on this kiosk, not elsewhere")
    return argv[1:]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="kioskd-push-gate", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--kioskctl", help="run this kioskctl instead of this installation's")
    p.add_argument("--root", help="the only releases root a push may name (e.g. /etc/kioskd)")
    args = p.parse_args(argv)
    try:
        rest = requested(os.environ.get("SSH_ORIGINAL_COMMAND"), args.root)
    except ValueError as exc:
        print(f"kioskd push gate: {exc}", file=sys.stderr)
        return 1
    if args.kioskctl:
        os.execv(args.kioskctl, [args.kioskctl, *rest])
    from daemon.cli_kioskctl import main as kioskctl

    return kioskctl(rest)


if __name__ == "__main__":
    sys.exit(main())
