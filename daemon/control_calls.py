"""The control socket's calls that take more than one request (ask and wait for the answer, a screenshot,
a reload that waits for the restarted workers), shared by `kioskctl` and the HTTP API. Each raises
ControlError with a sentence saying what went wrong."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any

from daemon.control import ControlError, request

POLL_S = 0.05


class Refused(ControlError):
    """kioskd understood the request and said no (its reason is the message)."""


def call(sock: Path, req: dict[str, Any], timeout: float = 5.0) -> dict[str, Any]:
    """One request whose refusal (`ok: false`) becomes a ControlError carrying kioskd's reason."""
    reply = request(sock, req, timeout=timeout)
    if not reply.get("ok"):
        raise Refused(str(reply.get("error", "refused without a reason")))
    return reply


def ask(sock: Path, text: str, timeout: float = 30.0) -> dict[str, Any]:
    """Ask `text` as a visitor would and wait until its answer has been spoken:
    {"source", "text", "first_sentence_ms"}, what `kioskctl ask --json` and POST /v1/ask give."""
    turn = call(sock, {"cmd": "ask", "text": text})["turn"]
    deadline = time.monotonic() + timeout
    while True:
        answer = call(sock, {"cmd": "answer", "turn": turn})
        if answer["done"]:
            return {k: answer[k] for k in ("source", "text", "first_sentence_ms")}
        if time.monotonic() > deadline:
            raise ControlError(f"no complete answer after {timeout:g} s (so far: {answer['text']!r})")
        time.sleep(POLL_S)


def screenshot(sock: Path, timeout: float = 5.0) -> bytes:
    """A PNG of what the screen shows now (the face saves it into the runtime directory)."""
    path = Path(call(sock, {"cmd": "screenshot"})["path"])
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise ControlError(f"the face saved no screenshot within {timeout:g} s")
        time.sleep(POLL_S)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ControlError(f"cannot read the screenshot {path}: {exc.strerror}") from None
    with contextlib.suppress(OSError):  # not ours to remove (another user): kioskd removes it when it stops
        path.unlink()
    return data


def wait_running(sock: Path, timeout: float) -> dict[str, Any]:
    """Wait until kioskd is ready and every worker RUNNING; the last status. A worker that cannot get there
    (BACKOFF, FATAL) within `timeout` is named with its reason."""
    deadline = time.monotonic() + timeout
    while True:
        status = call(sock, {"cmd": "status"})
        down = [w for w in status["workers"] if w["state"] != "RUNNING"]
        if status["ready"] and not down:
            return status
        fatal = [w for w in down if w["state"] == "FATAL"]
        if fatal:
            raise ControlError("; ".join(f"{w['name']} failed for good: {w['status']}" for w in fatal))
        if time.monotonic() > deadline:
            names = "; ".join(f"{w['name']} {w['state']}: {w['status']}" for w in down) or "kioskd not ready"
            raise ControlError(f"not running after {timeout:g} s: {names}")
        time.sleep(POLL_S * 4)
