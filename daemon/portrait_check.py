"""The portrait a config names, checked before the kiosk uses it: at start, on a reload and by
`kioskctl validate`. The check runs `python -m kiosk.portrait` in a process of its own, so the landmark
model never loads into the supervisor."""

from __future__ import annotations

import subprocess
import sys

from daemon.config import ConfigError

CHECK_TIMEOUT_S = 120.0


def check_portrait(setting: str) -> list[str]:
    """Notes on the portrait (several faces in it); ConfigError naming `face.portrait` and the reason when
    the kiosk could not animate it. The embedded portraits ship with the kiosk and are tested with it."""
    if setting.startswith("embedded:"):
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
