"""One kioskd per runtime directory: an exclusive lock on `kioskd.lock` held for the supervisor's life.

A second kioskd started on the same directory (an operator trying a config beside the service) would
take over its sockets and buses, and the first kiosk would declare all its workers hung. The lock is
the kernel's (flock), so it goes with the process that held it, however that process ended; the pid in
the file only names the holder in the refusal.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path


class Held(RuntimeError):
    """Another kioskd holds the runtime directory."""


@contextlib.contextmanager
def hold(run_dir: Path) -> Iterator[None]:
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / "kioskd.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)  # not inherited across exec (PEP 446)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            raise Held(f"another kioskd (pid {holder}) is running on {run_dir}; stop it first, or give this one "
                       "its own --runtime-dir") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)
