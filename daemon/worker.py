"""Worker runner: one stage (daemon/stage.py) in its own process, wired to the rest of the kiosk.

The runner is the stage's port: it reads the input ring and hands each message to the stage, writes
what the stage sends to the output ring, forwards its events and status to the supervisor over the bus,
heartbeats, and delivers bus commands (`stop` ends the loop; `interrupt(turn)` makes the stage drop every
message of that turn or an earlier one).
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from daemon.bus import Bus
from daemon.commands import Heartbeat, Ready, Report, Status, Stop
from daemon.config import Config
from daemon.messages import Message
from daemon.ring import Ring
from daemon.stage import Stage

HEARTBEAT_S = 0.5
LONG_STEP_S = 30.0  # the longest a step may go without its own heartbeats (see WorkerPort.long_step)
# Events drive turn bookkeeping and measurements: wait this long for room in a busy supervisor's queue
# rather than lose one (heartbeats are sent without waiting: the next one will do).
EVENT_WAIT_S = 2.0


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


class WorkerPort:
    """The port of a stage that runs as a worker process: rings for data, the bus for the rest."""

    def __init__(self, spec: WorkerSpec) -> None:
        self.name = spec.name
        self.bus = Bus(bus_path(spec.runtime_dir, spec.name))
        self._supervisor = bus_path(spec.runtime_dir, "supervisor")
        self.ring_in = Ring.attach(spec.ring_in, "consumer") if spec.ring_in else None
        self.ring_out = Ring.attach(spec.ring_out, "producer") if spec.ring_out else None
        self.running = True
        self._last_beat = 0.0

    def send(self, msg: Message) -> bool:
        assert self.ring_out is not None, f"{self.name} has no output ring"
        return self.ring_out.put(msg.encode())

    def report(self, msg: Report | Status) -> None:
        self.bus.send(self._supervisor, msg, wait_s=EVENT_WAIT_S)

    def ready(self, setup_ms: int) -> None:
        self.bus.send(self._supervisor, Ready(self.name, setup_ms), wait_s=EVENT_WAIT_S)

    def pending(self) -> Iterator[Message]:
        if self.ring_in is not None:
            while (data := self.ring_in.get_nowait()) is not None:
                yield Message.decode(data)

    def next(self, timeout: float) -> Message | None:
        data = self.ring_in.get(timeout=timeout) if self.ring_in is not None else None
        return Message.decode(data) if data is not None else None

    def heartbeat(self, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._last_beat >= HEARTBEAT_S:
            self._last_beat = now
            self.bus.send(self._supervisor, Heartbeat(self.name, time.monotonic_ns()))

    def poll(self, stage: Stage) -> None:
        self.heartbeat()
        while (cmd := self.bus.recv()) is not None:
            if isinstance(cmd, Stop):
                self.running = False
            else:
                stage.command(cmd)

    @contextmanager
    def long_step(self, limit_s: float = LONG_STEP_S) -> Iterator[None]:
        """Heartbeat from a helper thread while the stage is in a step that cannot heartbeat itself
        (llama.cpp evaluating a prompt is one native call: on a loaded machine it outlasts the hang
        limit). Bounded: a step stuck for longer than `limit_s` is taken for a hang after all, and a
        stopped process (SIGSTOP) stops this thread too."""
        done = threading.Event()

        def beat() -> None:
            end = time.monotonic() + limit_s
            while not done.wait(HEARTBEAT_S) and time.monotonic() < end:
                self.heartbeat(force=True)

        helper = threading.Thread(target=beat, name=f"{self.name}-heartbeat", daemon=True)
        helper.start()
        try:
            yield
        finally:
            done.set()
            helper.join()

    def close(self) -> None:
        for ring in (self.ring_in, self.ring_out):
            if ring is not None:
                ring.close()
        self.bus.close()


def run_worker(stage_class: type[Stage], spec: WorkerSpec) -> int:
    """Build the stage on a worker port and run it until told to stop (a bus `stop` or SIGTERM)."""
    port = WorkerPort(spec)

    def stop(*_: object) -> None:
        port.running = False

    signal.signal(signal.SIGTERM, stop)
    # Ctrl-C reaches the whole process group; the supervisor decides the shutdown order.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    stage = stage_class(Config.model_validate(spec.config), port, spec.options)
    try:
        began = time.monotonic()
        stage.setup()
        port.ready(round((time.monotonic() - began) * 1000))
        while port.running:
            port.poll(stage)
            if port.ring_in is not None:
                msg = port.next(stage.wait_s)
                if msg is not None and not stage.is_stale(msg.turn):
                    stage.handle(msg)
            elif stage.wait_s:
                time.sleep(stage.wait_s)
            stage.tick()
    finally:
        stage.teardown()
        port.close()
    return 0
