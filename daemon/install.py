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
HIDDEN = ("/home", "/root", "/run/user")  # ProtectHome= hides these from the service

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
    def root_flag(self) -> list[str]:
        """systemctl's and systemd-sysusers' way of being told to work on this tree."""
        return [] if self.root == Path("/") else [f"--root={self.root}"]

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
    return _run("systemctl", *target.root_flag, *args)


def user_ids(root: Path) -> tuple[int, int]:
    """The kioskd user's uid and gid, as that root's /etc/passwd has them."""
    for line in (root / "etc" / "passwd").read_text().splitlines():
        fields = line.split(":")
        if fields[0] == USER:
            return int(fields[2]), int(fields[3])
    raise InstallError(f"systemd-sysusers did not create the {USER} user in {root / 'etc' / 'passwd'}")


def _own_tree(top: Path, uid: int, gid: int) -> None:
    """The folder and all in it to the kiosk's user: a set-up run as root (./kiosk.sh run) may have left
    files of root's there, and systemd fixes a StateDirectory's owner only when the folder's own is wrong."""
    top.chmod(0o750)
    if os.geteuid() != 0:  # a tree built without root keeps its builder as owner
        return
    for path in [top, *top.rglob("*")]:
        os.lchown(path, uid, gid)


def _reachable(app: Path) -> None:
    """The service runs as the kiosk's user with ProtectHome=: it must see the checkout."""
    hidden = next((h for h in HIDDEN if app == Path(h) or Path(h) in app.parents), None)
    if hidden:
        why = f"{hidden} is hidden from the service (ProtectHome=)"
    else:
        closed = next((p for p in [app, *app.parents] if not p.stat().st_mode & 0o001), None)
        if closed is None:
            return
        why = f"{closed} is closed to other users"
    raise InstallError(f"the kiosk's user could not run {app}: {why}; move the checkout to {SHIPPED_APP} "
                       f"(or another folder open to all) and run install from there; nothing was changed")


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
    _reachable(target.app)
    target.at("/etc").mkdir(parents=True, exist_ok=True)  # where sysusers writes passwd and group
    _put(target.at(SYSUSERS), (REPO / "systemd" / "kioskd.sysusers.conf").read_bytes(), 0o644, say)
    _run("systemd-sysusers", *target.root_flag, str(target.at(SYSUSERS)))
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
        _own_tree(target.at(folder), uid, gid)
    if target.live:
        _systemctl(target, "daemon-reload")
    for name in SESSIONS.values():
        if name != SESSIONS[session]:  # the two conflict: the other one stops too
            _systemctl(target, "disable", "--quiet", *(["--now"] if target.live else []), name)
    _systemctl(target, "enable", "--quiet", SESSIONS[session])
    say(f"enabled   {SESSIONS[session]}")
    if warm is not None:
        try:
            warm(site, target.at(CACHE))
        finally:
            _own_tree(target.at(CACHE), uid, gid)
        say(f"built     start-up caches in {target.at(CACHE)}")


def uninstall(target: Target, purge: bool, say: Say) -> None:
    _preflight(target)
    present = [name for name in SESSIONS.values() if (target.at(UNIT_DIR) / name).exists()]
    if target.live and present:
        _systemctl(target, "stop", *present)
        if SESSIONS["console"] in present:
            # The console's login prompt again (best effort: a site may have masked it).
            subprocess.run(["systemctl", "start", "getty@tty1.service"], capture_output=True, timeout=60)
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
