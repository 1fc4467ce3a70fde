"""Where kioskd keeps its runtime files (sockets, worker specs) and its output by default."""

from __future__ import annotations

import os
from pathlib import Path


def runtime_dir() -> Path:
    """$KIOSKD_RUNTIME_DIR, else /run/kioskd for root, else $XDG_RUNTIME_DIR/kioskd, else /tmp/kioskd-UID."""
    env = os.environ.get("KIOSKD_RUNTIME_DIR")
    if env:
        return Path(env)
    if os.geteuid() == 0:
        return Path("/run/kioskd")
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    if xdg:
        return Path(xdg) / "kioskd"
    return Path(f"/tmp/kioskd-{os.getuid()}")


def control_socket(run_dir: Path) -> Path:
    return run_dir / "control.sock"
