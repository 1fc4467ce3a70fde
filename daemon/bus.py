"""Event bus: small JSON datagrams over unix sockets between the supervisor and its workers.

Workers send events, heartbeats and readiness to the supervisor's socket; the supervisor sends commands
(start, interrupt, say, status text, stop) to each worker's socket. The data path uses rings instead:
the bus carries only low-rate control traffic, so JSON is plenty fast. What it carries is the vocabulary
of daemon/commands.py, through its codec.
"""

from __future__ import annotations

import json
import logging
import select
import socket
import time
from pathlib import Path

from daemon.commands import Command, UnknownCommand, decode, encode

log = logging.getLogger("kioskd.bus")


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

    def send(self, to: Path, cmd: Command, wait_s: float = 0.0) -> bool:
        """Send one datagram. A peer that is gone loses it. A peer whose queue is full (Linux queues only
        net.unix.max_dgram_qlen = 10 datagrams per socket) loses it too, unless `wait_s` allows retrying:
        events and commands must arrive, heartbeats need not."""
        data = json.dumps(encode(cmd), separators=(",", ":")).encode()
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

    def recv(self, timeout: float = 0.0) -> Command | None:
        """The next message; one outside the vocabulary is logged and skipped (a sender's bug, not a reason
        to stop the supervisor)."""
        if timeout > 0:
            ready, _, _ = select.select([self._sock], [], [], timeout)
            if not ready:
                return None
        while True:
            try:
                data = self._sock.recv(1 << 20)
            except BlockingIOError:
                return None
            try:
                return decode(json.loads(data))
            except (UnknownCommand, ValueError) as exc:
                log.warning("dropped a bus message: %s", exc)

    def close(self) -> None:
        self._sock.close()
        Path(self.path).unlink(missing_ok=True)
