"""Event bus: small JSON datagrams over unix sockets between the supervisor and its workers.

Workers send events, heartbeats and readiness to the supervisor's socket; the supervisor sends commands
(start, interrupt, say, status text, stop) to each worker's socket. The data path uses rings instead:
the bus carries only low-rate control traffic, so JSON is plenty fast.
"""

from __future__ import annotations

import json
import select
import socket
import time
from pathlib import Path
from typing import Any


class Bus:
    def __init__(self, path: Path) -> None:
        self.path = path
        if path.exists():
            path.unlink()
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.bind(str(path))
        self._sock.setblocking(False)

    def fileno(self) -> int:
        return self._sock.fileno()

    def send(self, to: Path, obj: dict[str, Any], wait_s: float = 0.0) -> bool:
        """Send one datagram. A peer that is gone loses it. A peer whose queue is full (Linux queues only
        net.unix.max_dgram_qlen = 10 datagrams per socket) loses it too, unless `wait_s` allows retrying:
        events and commands must arrive, heartbeats need not."""
        data = json.dumps(obj, separators=(",", ":")).encode()
        deadline = time.monotonic() + wait_s
        while True:
            try:
                self._sock.sendto(data, str(to))
                return True
            except (FileNotFoundError, ConnectionRefusedError):
                return False
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return False
                time.sleep(0.001)

    def recv(self, timeout: float = 0.0) -> dict[str, Any] | None:
        if timeout > 0:
            ready, _, _ = select.select([self._sock], [], [], timeout)
            if not ready:
                return None
        try:
            data = self._sock.recv(1 << 20)
        except BlockingIOError:
            return None
        obj: dict[str, Any] = json.loads(data)
        return obj

    def close(self) -> None:
        self._sock.close()
        Path(self.path).unlink(missing_ok=True)
