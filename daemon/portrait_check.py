"""The portrait a config names, checked before the kiosk uses it: at start, on a reload and by
`kioskctl validate`. The check runs `python -m kiosk.portrait` in a process of its own, so the landmark
model never loads into the supervisor."""

from __future__ import annotations

import subprocess
import sys

from daemon.config import ConfigError

EMBEDDED_ASTRONAUT = "embedded:astronaut"  # as kiosk/portrait.py names it (importing it would load the model)

CHECK_TIMEOUT_S = 8.0  # the supervisor waits for it: well inside systemd's watchdog (15 s)


def check_portrait(setting: str) -> list[str]:
    """Notes on the portrait (several faces in it); ConfigError naming `face.portrait` and the reason when
    the kiosk could not animate it. The embedded portrait ships with the kiosk and is tested with it."""
    if setting == EMBEDDED_ASTRONAUT:
        return []
    try:
        out = subprocess.run([sys.executable, "-m", "kiosk.portrait", setting], capture_output=True, text=True,
                             timeout=CHECK_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise ConfigError(f"face.portrait: checking {setting} took over {CHECK_TIMEOUT_S:.0f} s") from None
    if out.returncode != 0:
        reason = out.stderr.strip().splitlines()[-1] if out.stderr.strip() else f"check exited {out.returncode}"
        raise ConfigError(f"face.portrait: {reason}")
    return out.stdout.splitlines()
