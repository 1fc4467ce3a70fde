"""Where kioskd keeps its runtime files (sockets, worker specs) and its start-up caches."""

from __future__ import annotations

import os
from pathlib import Path


def _choose(env: str, for_root: str, for_user: Path) -> Path:
    """The folder named by $env, else for_root when running as root, else for_user."""
    chosen = os.environ.get(env)
    if chosen:
        return Path(chosen)
    return Path(for_root) if os.geteuid() == 0 else for_user


def runtime_dir() -> Path:
    """$KIOSKD_RUNTIME_DIR, else /run/kioskd for root, else $XDG_RUNTIME_DIR/kioskd, else /tmp/kioskd-UID."""
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    return _choose("KIOSKD_RUNTIME_DIR", "/run/kioskd", Path(xdg) / "kioskd" if xdg else Path(f"/tmp/kioskd-{os.getuid()}"))


def cache_dir() -> Path:
    """$KIOSKD_CACHE_DIR, else /var/cache/kioskd for root, else $XDG_CACHE_HOME/kioskd (~/.cache/kioskd)."""
    return _choose("KIOSKD_CACHE_DIR", "/var/cache/kioskd",
                   Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "kioskd")


def state_dir() -> Path:
    """$KIOSKD_STATE_DIR, else /var/lib/kioskd for root, else $XDG_STATE_HOME/kioskd (~/.local/state/kioskd)."""
    return _choose("KIOSKD_STATE_DIR", "/var/lib/kioskd",
                   Path(os.environ.get("XDG_STATE_HOME", Path.home() / ".local" / "state")) / "kioskd")


def control_socket(run_dir: Path) -> Path:
    return run_dir / "control.sock"
