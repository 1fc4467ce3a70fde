"""The face's side of a neural face driver: asks it for each speaking frame's mouth, and says when to fall back.

The driver runs in a process of its own (daemon/face_driver_process.py), so a slow or crashing model can never
stall the frame loop. Each frame the face writes a request (the voice's mel window and the face crop)
into a latest-wins mailbox and takes the newest answer from another. An answer older than `max_lag`
frames, or none at all, means the rig draws the mouth (a driver that is slow, stopped or dead costs
lip detail, never a frozen face). A driver that exits is started again after a growing pause
(1 s doubling to 30 s, back to 1 s once one has run for `HEALTHY_S`); a model it cannot load is
reported once and not retried.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from typing import IO

import numpy as np

from accel.settings import AccelSettings
from daemon.face_driver_process import ANSWER, FRAME
from daemon.mailbox import Mailbox

RESTART_S = (1.0, 2.0, 4.0, 8.0, 16.0, 30.0)
HEALTHY_S = 30.0
BAD_MODEL = 2  # the driver process's exit status for a model it cannot use
_names = itertools.count()


@dataclass(frozen=True)
class Change:
    """The driver's state changed: "running", "failed" (with the reason) or "given up" (a bad model)."""

    state: str
    reason: str = ""


class NeuralMouth:
    def __init__(self, model: str, max_lag: int, accel: AccelSettings) -> None:
        self.model, self.max_lag = model, max_lag
        self.accel = accel.to_json()  # the driver's process chooses its backend itself (onnxruntime is imported there)
        prefix = f"kioskd.{os.getpid()}.driver{next(_names)}"
        self.requests = Mailbox.create(f"{prefix}.ask", FRAME.itemsize)
        self.answers = Mailbox.create(f"{prefix}.answer", ANSWER.itemsize)
        self.proc: subprocess.Popen[bytes] | None = None
        # Its stderr goes to a file, read when it exits: a pipe nobody reads would block a chatty driver.
        self.stderr: IO[bytes] | None = None
        self.started_s = 0.0
        self.failures = 0
        self.restart_at = 0.0
        self.given_up = False
        self.latest: np.void | None = None  # the newest answer: frame, ms, crop
        self.ms = 0.0  # the driver's recent time per answer

    def poll(self, now_s: float) -> Change | None:
        """Start the driver when it is due; report when it has died."""
        if self.given_up:
            return None
        if self.proc is not None and self.proc.poll() is not None:
            status, said = self.proc.returncode, self._last_words()
            self.proc = None
            self.latest = None
            self.answers.read()  # an answer it wrote just before it died is not shown after its death
            if status == BAD_MODEL:
                self.given_up = True
                return Change("given up", said or f"exit status {status}")
            self.restart_at = now_s + RESTART_S[min(self.failures, len(RESTART_S) - 1)]
            self.failures += 1
            return Change("failed", f"exit status {status}" + (f": {said}" if said else ""))
        if self.proc is not None and self.failures and now_s - self.started_s >= HEALTHY_S:
            self.failures = 0
        if self.proc is None and now_s >= self.restart_at:
            self.stderr = tempfile.TemporaryFile()  # noqa: SIM115 (kept open for the driver's life, closed on its exit)
            self.proc = subprocess.Popen([sys.executable, "-m", "daemon.face_driver_process", self.model,
                                          self.requests.name, self.answers.name, self.accel], stderr=self.stderr)
            self.started_s = now_s
            return Change("running")
        return None

    def _last_words(self) -> str:
        """The last line the exited driver wrote to stderr."""
        if self.stderr is None:
            return ""
        self.stderr.seek(0)
        lines = self.stderr.read().decode(errors="replace").strip().splitlines()
        self.stderr.close()
        self.stderr = None
        return lines[-1] if lines else ""

    def ask(self, frame: int, window: np.ndarray, crop: np.ndarray) -> None:
        request = np.zeros(1, FRAME)
        request["frame"], request["mel"], request["crop"] = frame, window, crop
        self.requests.write(request.tobytes())

    def answer(self, frame: int) -> np.ndarray | None:
        """The newest mouth crop, if it answers a request at most `max_lag` frames before `frame`."""
        got = self.answers.read()
        if got is not None:
            self.latest = np.frombuffer(got[1], ANSWER, count=1)[0]
            self.ms = float(self.latest["ms"])
        if self.latest is None or frame - int(self.latest["frame"]) > self.max_lag:
            return None
        return self.latest["crop"]

    def close(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
        self._last_words()
        for box in (self.requests, self.answers):
            box.close()
            box.unlink()
