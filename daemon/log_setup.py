"""Logging for kioskd and each worker: structured journal records when systemd's journal is on stderr
(the service), plain lines on a terminal. A record's `extra` fields in upper case (TURN, SOURCE,
LATENCY_MS, WORKER, RESTARTS, ...) become journal fields, so `journalctl -u kioskd TURN=42` or
`journalctl -u kioskd -o json` finds them without parsing messages."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from typing import Any


def under_journal() -> bool:
    """systemd names the journal stream it connected to stderr in $JOURNAL_STREAM (device:inode)."""
    named = os.environ.get("JOURNAL_STREAM", "")
    dev, _, ino = named.partition(":")
    if not (dev.isdigit() and ino.isdigit()):
        return False
    try:
        st = os.fstat(sys.stderr.fileno())
    except (OSError, ValueError):
        return False
    return (st.st_dev, st.st_ino) == (int(dev), int(ino))


def configure(name: str, level: int = logging.INFO, send: Callable[..., Any] | None = None) -> None:
    """Log as `name` (kioskd, or the worker's name). `send` replaces the journal's sender (tests)."""
    label = "%(name)s" if name == "kioskd" else name  # the supervisor's loggers: kioskd, kioskd.events
    if send is not None or under_journal():
        from systemd.journal import JournalHandler
        from systemd.journal import send as journal_send

        handler: logging.Handler = JournalHandler(sender_function=send or journal_send, SYSLOG_IDENTIFIER="kioskd",
                                                  KIOSKD_PROCESS=name)
        handler.setFormatter(logging.Formatter("%(message)s"))  # the journal keeps the time, level and process
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(f"%(asctime)s {label:<5} %(levelname)s %(message)s"))
    logging.basicConfig(level=level, handlers=[handler], force=True)
