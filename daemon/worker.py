"""Worker runtime: the loop every worker process runs.

A worker reads its input ring, hands each message to its stage, writes its output ring, heartbeats, and
obeys bus commands. `interrupt(turn)` makes it drop every message of that turn or an earlier one.
Stages subclass `Worker` and implement `setup` (load models) and `handle` (one message).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from daemon.bus import Bus
from daemon.config import Config
from daemon.messages import Message
from daemon.ring import Ring

HEARTBEAT_S = 0.5
LONG_STEP_S = 30.0  # the longest a step may go without its own heartbeats (see Worker.long_step)
# Events drive turn bookkeeping and measurements: wait this long for room in a busy supervisor's queue
# rather than lose one (heartbeats are sent without waiting: the next one will do).
EVENT_WAIT_S = 2.0
_LIBC = ctypes.util.find_library("c")
_malloc_trim = getattr(ctypes.CDLL(_LIBC), "malloc_trim", None) if _LIBC else None  # glibc only


@dataclass
class WorkerSpec:
    """Everything a worker process needs, passed from the supervisor as JSON."""

    name: str
    runtime_dir: Path
    config: dict[str, Any]
    ring_in: str | None = None
    ring_out: str | None = None
    options: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "runtime_dir": str(self.runtime_dir),
            "config": self.config,
            "ring_in": self.ring_in,
            "ring_out": self.ring_out,
            "options": self.options,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WorkerSpec:
        return cls(**{**data, "runtime_dir": Path(data["runtime_dir"])})


def bus_path(runtime_dir: Path, name: str) -> Path:
    return runtime_dir / f"{name}.bus"


class Worker:
    name = "worker"
    #: how long the loop waits for input before running `tick` again
    wait_s = 0.05

    def __init__(self, spec: WorkerSpec) -> None:
        self.spec = spec
        self.config = Config.model_validate(spec.config)
        self.options = spec.options
        self.log = logging.getLogger(f"kioskd.{self.name}")
        self.bus = Bus(bus_path(spec.runtime_dir, self.name))
        self._supervisor = bus_path(spec.runtime_dir, "supervisor")
        self.ring_in = Ring.attach(spec.ring_in, "consumer") if spec.ring_in else None
        self.ring_out = Ring.attach(spec.ring_out, "producer") if spec.ring_out else None
        self.dropped_upto = 0
        self.running = True
        self.started = False
        self._last_beat = 0.0

    # -- overridable -------------------------------------------------------------------------
    def setup(self) -> None:
        """Load models; runs before the worker reports ready."""

    def handle(self, msg: Message) -> None:
        """Process one input message."""

    def tick(self) -> None:
        """Runs every loop iteration, input or not."""

    def on_command(self, cmd: dict[str, Any]) -> None:
        """A bus command other than the common ones."""

    def on_interrupt(self, turn: int) -> None:
        """Drop in-flight work of `turn` and earlier."""

    def teardown(self) -> None:
        """Release devices and files; runs on every exit path."""

    # -- services for stages -----------------------------------------------------------------
    def emit(self, event: str, turn: int | None = None, t_ns: int | None = None, **fields: Any) -> None:
        self.bus.send(
            self._supervisor,
            {"type": "event", "worker": self.name, "event": event, "turn": turn,
             "t_ns": t_ns if t_ns is not None else time.monotonic_ns(), **fields},
            wait_s=EVENT_WAIT_S,
        )

    def status(self, text: str, problem: bool = False) -> None:
        """A human sentence about this worker's condition, for kioskctl status and the log; a problem is
        also shown on screen until the worker reports a status that is not one."""
        self.bus.send(self._supervisor, {"type": "status", "worker": self.name, "text": text, "problem": problem},
                      wait_s=EVENT_WAIT_S)

    def send(self, msg: Message) -> bool:
        assert self.ring_out is not None, f"{self.name} has no output ring"
        ok = self.ring_out.put(msg.encode())
        if not ok:
            self.log.warning("output ring full: dropped %s of turn %s", msg.kind, msg.turn)
        return ok

    @contextmanager
    def long_step(self, limit_s: float = LONG_STEP_S) -> Iterator[None]:
        """Heartbeat from a helper thread while this thread is in a step that cannot heartbeat itself
        (llama.cpp evaluating a prompt is one native call: on a loaded machine it outlasts the hang
        limit). Bounded: a step stuck for longer than `limit_s` is taken for a hang after all, and a
        stopped process (SIGSTOP) stops this thread too."""
        done = threading.Event()

        def beat() -> None:
            end = time.monotonic() + limit_s
            while not done.wait(HEARTBEAT_S) and time.monotonic() < end:
                self.bus.send(self._supervisor, {"type": "heartbeat", "worker": self.name, "t_ns": time.monotonic_ns()})

        helper = threading.Thread(target=beat, name=f"{self.name}-heartbeat", daemon=True)
        helper.start()
        try:
            yield
        finally:
            done.set()
            helper.join()

    def release_memory(self) -> None:
        """Run the cyclic collector and give free heap pages back to the system; call it when a reply
        is done. Native libraries leave their freed buffers in glibc's arenas, so without the trim a
        worker's memory follows the longest sentence it has seen (the voice: 170-300 MB, trimmed: 108)."""
        gc.collect()
        if _malloc_trim is not None:
            _malloc_trim(0)

    def is_stale(self, turn: int) -> bool:
        """Interrupted work; turn 0 marks messages that belong to no turn (the echo reference)."""
        return 0 < turn <= self.dropped_upto

    # -- loop --------------------------------------------------------------------------------
    def _heartbeat(self) -> None:
        now = time.monotonic()
        if now - self._last_beat >= HEARTBEAT_S:
            self._last_beat = now
            self.bus.send(self._supervisor, {"type": "heartbeat", "worker": self.name, "t_ns": time.monotonic_ns()})

    def poll_commands(self) -> None:
        """Obey pending bus commands and heartbeat; long-running stages call this between steps so an
        interrupt lands at once and the supervisor does not take a long generation for a hang."""
        self._heartbeat()
        while (cmd := self.bus.recv()) is not None:
            kind = cmd.get("type")
            if kind == "stop":
                self.running = False
            elif kind == "start":
                self.started = True
            elif kind == "interrupt":
                self.dropped_upto = max(self.dropped_upto, int(cmd["turn"]))
                self.on_interrupt(self.dropped_upto)
            else:
                self.on_command(cmd)

    def _stop(self, *_: object) -> None:
        self.running = False

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self._stop)
        # Ctrl-C reaches the whole process group; the supervisor decides the shutdown order.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            began = time.monotonic()
            self.setup()
            setup_ms = round((time.monotonic() - began) * 1000)
            self.bus.send(self._supervisor, {"type": "ready", "worker": self.name, "setup_ms": setup_ms},
                          wait_s=EVENT_WAIT_S)
            while self.running:
                self.poll_commands()
                self._heartbeat()
                if self.ring_in is not None:
                    data = self.ring_in.get(timeout=self.wait_s)
                    if data is not None:
                        msg = Message.decode(data)
                        if not self.is_stale(msg.turn):
                            self.handle(msg)
                elif self.wait_s:
                    time.sleep(self.wait_s)
                self.tick()
        finally:
            self.teardown()
            for ring in (self.ring_in, self.ring_out):
                if ring is not None:
                    ring.close()
            self.bus.close()
        return 0
