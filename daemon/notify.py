"""systemd notifications (READY, STATUS, WATCHDOG, RELOADING, STOPPING); a no-op without NOTIFY_SOCKET or
systemd-python."""

from __future__ import annotations

import os
import time

try:
    from systemd import daemon as _sd
except ImportError:  # systemd-python is optional on development machines
    _sd = None


def notify(**fields: str) -> bool:
    """notify(READY="1", STATUS="...") sends one datagram; returns whether it was sent."""
    if _sd is None or not os.environ.get("NOTIFY_SOCKET"):
        return False
    return bool(_sd.notify("\n".join(f"{k}={v}" for k, v in fields.items())))


def watchdog_interval() -> float | None:
    """Seconds between WATCHDOG=1 pings (half of WatchdogSec=), or None when systemd is not watching us.
    systemd watches the service's main process: kioskd itself, or in the console session the cage
    compositor that started it, whose health is kioskd's to report (the unit has NotifyAccess=all)."""
    usec = os.environ.get("WATCHDOG_USEC")
    pid = os.environ.get("WATCHDOG_PID")
    if not usec or (pid and int(pid) not in (os.getpid(), os.getppid())):
        return None
    return int(usec) / 2e6


def monotonic_usec() -> str:
    """CLOCK_MONOTONIC in microseconds, as RELOADING=1 wants it in MONOTONIC_USEC=."""
    return str(time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000)
