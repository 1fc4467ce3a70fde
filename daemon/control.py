"""Control socket: one JSON request line, one JSON reply line, over a unix stream socket.

Requests: {"cmd": "status"}, {"cmd": "say", "text": "..."}, {"cmd": "ask", "text": "..."} (a typed
question; answers {"turn": N}), {"cmd": "answer", "turn": N} (what was answered so far, and whether
it is complete), {"cmd": "hear", "path": "/abs/file.wav"}, {"cmd": "reload"}. Replies carry "ok" and either the result
or "error" with a sentence saying what was wrong.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

MAX_REQUEST = 64 * 1024
MAX_REPLY = 8 * 1024 * 1024  # /metrics text and status grow with the workers and histograms, not with visitors

Handler = Callable[[dict[str, Any]], dict[str, Any]]


class ControlError(RuntimeError):
    """kioskd is not reachable, or answered with an error."""


class ControlServer:
    def __init__(self, path: Path, handler: Handler) -> None:
        self.path = path
        self._handler = handler
        if path.exists():
            path.unlink()
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.bind(str(path))
        os.chmod(path, 0o660)
        self._sock.listen(8)
        self._sock.setblocking(False)

    def fileno(self) -> int:
        return self._sock.fileno()

    def serve_pending(self) -> None:
        """Answer every connection waiting now; a slow or bad client costs at most one second."""
        while True:
            try:
                conn, _ = self._sock.accept()
            except BlockingIOError:
                return
            with conn:
                conn.settimeout(1.0)
                try:
                    reply = self._answer(_read_line(conn, MAX_REQUEST))
                    conn.sendall(json.dumps(reply).encode() + b"\n")
                except (OSError, TimeoutError):
                    continue

    def _answer(self, line: bytes) -> dict[str, Any]:
        try:
            request = json.loads(line)
        except ValueError:
            return {"ok": False, "error": "request is not JSON"}
        if not isinstance(request, dict) or not isinstance(request.get("cmd"), str):
            return {"ok": False, "error": "request must be an object with a string 'cmd'"}
        return self._handler(request)

    def close(self) -> None:
        self._sock.close()
        self.path.unlink(missing_ok=True)


def _read_line(conn: socket.socket, limit: int) -> bytes:
    data = b""
    while not data.endswith(b"\n"):
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
        if len(data) > limit:
            raise OSError(f"message larger than {limit} bytes")
    return data


def request(path: Path, obj: dict[str, Any], timeout: float = 5.0) -> dict[str, Any]:
    """Send one request to a running kioskd and return its reply."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(str(path))
    except (FileNotFoundError, ConnectionRefusedError):
        raise ControlError(f"kioskd is not running (no control socket at {path})") from None
    except OSError as exc:  # no permission, or a backlog full while the supervisor is busy
        raise ControlError(f"cannot reach kioskd at {path}: {exc.strerror or exc}") from None
    with sock:
        try:
            sock.sendall(json.dumps(obj).encode() + b"\n")
            line = _read_line(sock, MAX_REPLY)
        except TimeoutError:
            raise ControlError(f"kioskd did not answer within {timeout:g} s") from None
        except OSError as exc:
            raise ControlError(f"kioskd's control socket failed: {exc}") from None
    if not line:
        raise ControlError("kioskd closed the connection without a reply")
    try:
        reply: dict[str, Any] = json.loads(line)
    except ValueError:
        raise ControlError("kioskd's reply is not JSON") from None
    return reply
