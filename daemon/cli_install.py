"""`kioskctl install` and `kioskctl uninstall` (daemon/install.py does the work)."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path
from typing import Any

from daemon.install import SESSIONS, InstallError, Target, install, this_checkout, uninstall


def add_parsers(sub: Any) -> None:
    i = sub.add_parser("install", help="install this checkout as an appliance: user, units, site config, caches")
    i.add_argument("--root", type=Path, default=Path("/"), help="install into this tree instead of the machine")
    i.add_argument("--session", choices=sorted(SESSIONS), default="console",
                   help="console: boot into the kiosk on tty1 (cage, no desktop; the default); "
                        "display: the service on an existing X display :0")
    i.add_argument("--no-warm", action="store_true", help="leave the start-up caches to the first boot")
    u = sub.add_parser("uninstall", help="disable and remove what install wrote (the site config, state and caches "
                       "stay unless --purge)")
    u.add_argument("--root", type=Path, default=Path("/"))
    u.add_argument("--purge", action="store_true", help="also remove /etc/kioskd, /var/lib/kioskd, /var/cache/kioskd")


def _warm(site: Path, cache: Path) -> None:
    print("building start-up caches (about a minute on two cores) ...", flush=True)
    done = subprocess.run([sys.executable, "-m", "daemon.warm_caches", "--config", str(site), "--cache-dir", str(cache)])
    if done.returncode != 0:
        raise InstallError("building the start-up caches failed (above); the kiosk will build them on its first boot")


def run(args: argparse.Namespace) -> int:
    try:
        target = Target(args.root.resolve(), this_checkout())
        if args.command == "install":
            install(target, args.session, print, None if args.no_warm else _warm)
        else:
            uninstall(target, args.purge, print)
    except (InstallError, OSError) as exc:
        print(f"kioskctl {args.command}: {exc}", file=sys.stderr)
        return 1
    return 0
