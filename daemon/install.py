"""`kioskctl install` and `kioskctl uninstall`: this checkout as an appliance.

install writes the kioskd system user (sysusers.d), both systemd units pointed at this checkout, a
starter site config (never overwritten: it is the operator's), the state and cache directories owned by
the user, enables the chosen session (the boot-to-kiosk console, or the service on an existing X
display) and builds the start-up caches there, so the first boot is as quick as every later one. It is
idempotent: a second run rewrites nothing that is already right. uninstall disables and removes the
units and the sysusers entry; --purge also removes the site config, state and caches. --root DIR does
everything inside DIR (a test tree, or an image being built) and starts or stops nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from daemon.config import CONFIG_DIR

REPO = CONFIG_DIR.parent
USER = "kioskd"
SESSIONS = {"console": "kioskd-console.service", "display": "kioskd.service"}
UNIT_DIR = "/etc/systemd/system"
SYSUSERS = "/usr/lib/sysusers.d/kioskd.conf"
CONFIG_HOME = "/etc/kioskd"
SITE = f"{CONFIG_HOME}/kioskd.yaml"
STATE, CACHE = "/var/lib/kioskd", "/var/cache/kioskd"
SHIPPED_APP = "/opt/kioskd"  # where the units in systemd/ expect the checkout

Say = Callable[[str], None]


class InstallError(Exception):
    """Why nothing (more) was installed; the message says what to do."""


@dataclass(frozen=True)
class Target:
    root: Path  # "/" for this machine
    app: Path  # the checkout whose .venv runs the kiosk

    def at(self, path: str) -> Path:
        return self.root / path.lstrip("/")

    @property
    def live(self) -> bool:
        """Installing onto the running machine, with systemd as its init: units are reloaded and stopped."""
        return self.root == Path("/") and Path("/run/systemd/system").is_dir()


def this_checkout() -> Path:
    """The checkout holding the virtualenv this kioskctl runs in (./kiosk.sh run makes it)."""
    app = Path(sys.prefix).parent
    if not (app / "kiosk.sh").is_file() or not (Path(sys.prefix) / "bin" / "kioskd").is_file():
        raise InstallError(f"kioskctl install runs from a kioskd checkout's .venv (./kiosk.sh run sets it up); "
                           f"{sys.prefix} is not one")
    return app


def unit_text(name: str, app: Path) -> str:
    return (REPO / "systemd" / name).read_text().replace(SHIPPED_APP, str(app))


def _put(path: Path, data: bytes, mode: int, say: Say) -> None:
    if path.is_file() and path.read_bytes() == data and path.stat().st_mode & 0o7777 == mode:
        say(f"unchanged {path}")
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.new")
    tmp.write_bytes(data)
    tmp.chmod(mode)
    os.replace(tmp, path)
    say(f"wrote     {path}")


def _run(*cmd: str) -> str:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise InstallError(f"{' '.join(cmd)} failed: {(done.stderr or done.stdout).strip()}")
    return done.stdout


def _systemctl(target: Target, *args: str) -> str:
    return _run("systemctl", *([] if target.root == Path("/") else [f"--root={target.root}"]), *args)


def user_ids(root: Path) -> tuple[int, int]:
    """The kioskd user's uid and gid, as that root's /etc/passwd has them."""
    for line in (root / "etc" / "passwd").read_text().splitlines():
        fields = line.split(":")
        if fields[0] == USER:
            return int(fields[2]), int(fields[3])
    raise InstallError(f"systemd-sysusers did not create the {USER} user in {root / 'etc' / 'passwd'}")


def _own(path: Path, uid: int, gid: int, mode: int) -> None:
    path.chmod(mode)
    if os.geteuid() == 0:  # a tree built without root keeps its builder as owner
        os.chown(path, uid, gid)


def _preflight(target: Target) -> None:
    if target.root == Path("/") and os.geteuid() != 0:
        raise InstallError("installing onto this machine writes /etc, /usr/lib and /var: run it as root "
                           "(sudo), or give --root DIR for a tree of its own; nothing was changed")
    for tool in ("systemctl", "systemd-sysusers"):
        if shutil.which(tool) is None:
            raise InstallError(f"{tool} is not installed (Debian package systemd); nothing was changed")


def install(target: Target, session: str, say: Say, warm: Callable[[Path, Path], None] | None) -> None:
    """Everything above, in an order where a failure part-way leaves what was done consistent: the user
    before the files it owns, the files before the units are enabled, the caches last."""
    _preflight(target)
    target.at("/etc").mkdir(parents=True, exist_ok=True)  # where sysusers writes passwd and group
    _put(target.at(SYSUSERS), (REPO / "systemd" / "kioskd.sysusers.conf").read_bytes(), 0o644, say)
    _run("systemd-sysusers", *([] if target.root == Path("/") else [f"--root={target.root}"]),
         str(target.at(SYSUSERS)))
    uid, gid = user_ids(target.root)
    for name in SESSIONS.values():
        _put(target.at(UNIT_DIR) / name, unit_text(name, target.app).encode(), 0o644, say)
    target.at(CONFIG_HOME).mkdir(parents=True, exist_ok=True)
    site = target.at(SITE)
    if site.exists():
        say(f"kept      {site} (the site's own)")
    else:
        _put(site, (CONFIG_DIR / "site-template.yaml").read_bytes(), 0o640, say)
        if os.geteuid() == 0:
            os.chown(site, 0, gid)  # readable by the kiosk, writable only by root
    for folder in (STATE, CACHE):
        target.at(folder).mkdir(parents=True, exist_ok=True)
        _own(target.at(folder), uid, gid, 0o750)
    if target.live:
        _systemctl(target, "daemon-reload")
    for name in SESSIONS.values():
        if name != SESSIONS[session]:
            _systemctl(target, "disable", "--quiet", name)
    _systemctl(target, "enable", "--quiet", SESSIONS[session])
    say(f"enabled   {SESSIONS[session]}")
    if warm is not None:
        warm(site, target.at(CACHE))
        for path in [target.at(CACHE), *target.at(CACHE).rglob("*")]:
            if os.geteuid() == 0:
                os.chown(path, uid, gid)
        say(f"built     start-up caches in {target.at(CACHE)}")


def uninstall(target: Target, purge: bool, say: Say) -> None:
    _preflight(target)
    present = [name for name in SESSIONS.values() if (target.at(UNIT_DIR) / name).exists()]
    if target.live and present:
        _systemctl(target, "stop", *present)
    for name in present:
        _systemctl(target, "disable", "--quiet", name)
        (target.at(UNIT_DIR) / name).unlink()
        say(f"removed   {target.at(UNIT_DIR) / name}")
    if target.at(SYSUSERS).exists():
        target.at(SYSUSERS).unlink()
        say(f"removed   {target.at(SYSUSERS)}")
    if target.live:
        _systemctl(target, "daemon-reload")
    kept = [target.at(p) for p in (CONFIG_HOME, STATE, CACHE) if target.at(p).exists()]
    for path in kept:
        if purge:
            shutil.rmtree(path)
            say(f"removed   {path}")
    if kept and not purge:
        say(f"kept      {', '.join(map(str, kept))} (--purge removes them)")
    say(f"the {USER} user stays, as Debian leaves system users; `userdel {USER}` removes it")
