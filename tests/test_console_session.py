"""Boot-to-kiosk: the console unit's own command line (cage, then kioskd) runs in a real headless cage,
kioskd draws through SDL's Wayland driver, and a screenshot of the compositor (grim) shows the face,
fullscreen. The screenshot is kept in out/test-artefacts/ to be looked at. Not exercised here: systemd
itself, the login session (PAM, logind) and the watchdog through cage (tests/test_service_unit.py holds
the rule kioskd feeds it by)."""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from kiosk.portrait import PortraitError, load
from tests.test_end_to_end import wait_ready

ROOT = Path(__file__).resolve().parent.parent
UNIT = ROOT / "systemd" / "kioskd-console.service"
ARTEFACTS = ROOT / "out" / "test-artefacts"
HEADLESS = {"WLR_BACKENDS": "headless", "WLR_RENDERER": "pixman", "WLR_LIBINPUT_NO_DEVICES": "1"}
SCREEN = (1280, 720)  # wlroots' headless output


def unit_values(key: str) -> list[str]:
    return [line.split("=", 1)[1] for line in UNIT.read_text().splitlines() if line.startswith(f"{key}=")]


def as_user() -> list[str]:
    """cage refuses to run as root: as root, run it as an ordinary user of a user namespace."""
    if os.geteuid() != 0:
        return []
    prefix = ["unshare", "--user", "--map-user=1000"]
    if subprocess.run([*prefix, "true"], capture_output=True, timeout=30).returncode != 0:
        pytest.skip("cage cannot run as root and this machine allows no user namespace to run it in")
    return prefix


def session_command(run_dir: Path) -> list[str]:
    """The unit's ExecStart, pointed at this checkout's kioskd, with no microphone and no HTTP API."""
    (exec_start,) = unit_values("ExecStart")
    argv = [a.replace("/opt/kioskd/.venv/bin", str(Path(sys.executable).parent)) for a in shlex.split(exec_start)]
    return [*argv, "--audio-in", "none", "--runtime-dir", str(run_dir), "-o", "api.listen=null"]


def session_env(xdg: Path) -> dict[str, str]:
    env = {**os.environ, **HEADLESS, "XDG_RUNTIME_DIR": str(xdg), "HOME": str(xdg), "SDL_AUDIODRIVER": "dummy"}
    for pair in shlex.split(" ".join(unit_values("Environment"))):
        key, value = pair.split("=", 1)
        if "%" not in value:  # the unit's own directories (%t, %C, %S) are systemd's to give
            env[key] = value
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    return env


def grab(xdg: Path, out: Path) -> np.ndarray | None:
    sockets = [p.name for p in xdg.glob("wayland-*") if not p.name.endswith(".lock")]
    if not sockets:
        return None
    done = subprocess.run(["grim", str(out)], env={**os.environ, "XDG_RUNTIME_DIR": str(xdg),
                                                   "WAYLAND_DISPLAY": sockets[0]}, capture_output=True, timeout=30)
    return cv2.imread(str(out)) if done.returncode == 0 else None


def gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


def stop(proc: subprocess.Popen, run_dir: Path) -> None:
    """kioskd first (its pid is in its lock), so that it stops its workers, and until it has; then whatever is
    left of the session."""
    lock = run_dir / "kioskd.lock"
    if lock.exists() and lock.read_text().strip():
        pid = int(lock.read_text())
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        assert gone(pid, 30), "kioskd did not stop within 30 s of SIGTERM"
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
            proc.wait(timeout=15)
            return
        except (ProcessLookupError, subprocess.TimeoutExpired):
            continue


@pytest.mark.timeout(240)
def test_cage_shows_the_face_fullscreen(tmp_path: Path) -> None:
    for tool in ("cage", "grim"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (scripts/setup.sh installs it)")
    prefix = as_user()
    xdg, run_dir = tmp_path / "xdg", tmp_path / "run"
    xdg.mkdir(mode=0o700)
    log = tmp_path / "session.log"
    with log.open("w") as out:
        proc = subprocess.Popen([*prefix, *session_command(run_dir)], env=session_env(xdg), stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_ready(run_dir, timeout=180, proc=proc, log=log)
        shot = tmp_path / "console.png"
        face = None
        deadline = time.monotonic() + 30
        while face is None and time.monotonic() < deadline:
            time.sleep(1)
            assert proc.poll() is None, log.read_text()[-3000:]
            picture = grab(xdg, shot)
            if picture is not None:
                try:
                    face = load(str(shot))
                except PortraitError:
                    continue
        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        if shot.exists():
            shutil.copy(shot, ARTEFACTS / "console-session.png")
        assert face is not None, f"no face on the compositor's screen; {log.read_text()[-3000:]}"
        assert picture is not None and picture.shape[1::-1] == SCREEN
        # Fullscreen at the output's size: the face is framed as on any kiosk screen, not a small window.
        height = float(np.ptp(face.landmarks[:, 1]))
        assert 0.3 * SCREEN[1] < height < 0.6 * SCREEN[1], height
    finally:
        stop(proc, run_dir)
