"""systemd notifications (READY, STATUS, STOPPING); a no-op without NOTIFY_SOCKET or systemd-python."""

from __future__ import annotations

import os

try:
    from systemd import daemon as _sd
except ImportError:  # systemd-python is optional on development machines
    _sd = None


def notify(**fields: str) -> bool:
    """notify(READY="1", STATUS="...") sends one datagram; returns whether it was sent."""
    if _sd is None or not os.environ.get("NOTIFY_SOCKET"):
        return False
    return bool(_sd.notify("\n".join(f"{k}={v}" for k, v in fields.items())))
