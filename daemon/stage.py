"""A stage: one job of the pipeline (ear, asr, brain, voice, face) as a plain object.

A stage is given messages (`handle`) and commands (`command`), and gives messages, events and status
through the port it was built with. It never touches a ring, the bus, a signal or a heartbeat: in the
kiosk the worker runner (daemon/worker.py) is its port, one process per stage; in a test or an offline
render `LocalPort` is, and stages run in one process, on a clock that the caller advances (`clock`).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
import time
from collections import deque
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any, Protocol

from daemon.commands import Command, Interrupt, Report, Start, Status, encode
from daemon.config import Config
from daemon.events import Event
from daemon.messages import Message

_LIBC = ctypes.util.find_library("c")
_malloc_trim = getattr(ctypes.CDLL(_LIBC), "malloc_trim", None) if _LIBC else None  # glibc only


class Clock(Protocol):
    def now_ns(self) -> int: ...

    def sleep_until(self, t_ns: int) -> None: ...


class RealClock:
    """The monotonic clock: what the kiosk runs on."""

    def now_ns(self) -> int:
        return time.monotonic_ns()

    def sleep_until(self, t_ns: int) -> None:
        delay = t_ns - time.monotonic_ns()
        if delay > 0:
            time.sleep(delay / 1e9)


@dataclass
class ManualClock:
    """A clock that moves only when told: `sleep_until` jumps to the time asked, so a face renders as
    fast as the machine can and its recording still shows every frame at its place."""

    t_ns: int = 0

    def now_ns(self) -> int:
        return self.t_ns

    def sleep_until(self, t_ns: int) -> None:
        self.t_ns = max(self.t_ns, t_ns)


class Port(Protocol):
    """What a stage gives to, and takes from, the rest of the kiosk."""

    def send(self, msg: Message) -> bool: ...

    def report(self, msg: Report | Status) -> None:
        """An event or a status line for the supervisor."""
        ...

    def pending(self) -> Iterator[Message]:
        """Input messages already waiting, without blocking: a stage that must see all of them at once
        (the newest speculation, every echo reference piece before the audio) drains them."""
        ...

    def poll(self, stage: Stage) -> None:
        """Deliver waiting commands to `stage` now: a long step calls this between its pieces so an
        interrupt lands at once."""
        ...

    def long_step(self) -> AbstractContextManager[None]:
        """Around one step that cannot come up for air (one native call): keep the stage known alive."""
        ...


class Stage:
    #: how long the runner waits for input before running `tick` again
    wait_s = 0.05

    def __init__(self, config: Config, port: Port, options: dict[str, Any] | None = None,
                 clock: Clock | None = None) -> None:
        # A stage is known by its class's name (Ear -> "ear"): the worker table's row names match them.
        self.name = type(self).__name__.lower()
        self.config = config
        self.port = port
        self.options = options or {}
        self.clock: Clock = clock or RealClock()
        self.log = logging.getLogger(f"kioskd.{self.name}")
        self.dropped_upto = 0
        self.started = False

    # -- overridable -------------------------------------------------------------------------
    def setup(self) -> None:
        """Load models; runs before the stage reports ready."""

    def handle(self, msg: Message) -> None:
        """Process one input message."""

    def tick(self) -> None:
        """Runs every loop iteration, input or not."""

    def on_command(self, cmd: Command) -> None:
        """A command other than the common ones."""

    def on_interrupt(self, turn: int) -> None:
        """Drop in-flight work of `turn` and earlier."""

    def teardown(self) -> None:
        """Release devices and files; runs on every exit path."""

    # -- what the runner calls ---------------------------------------------------------------
    def command(self, cmd: Command) -> None:
        match cmd:
            case Start():
                self.started = True
            case Interrupt(turn=turn):
                self.dropped_upto = max(self.dropped_upto, turn)
                self.on_interrupt(self.dropped_upto)
            case _:
                self.on_command(cmd)

    def is_stale(self, turn: int) -> bool:
        """Interrupted work; turn 0 marks messages that belong to no turn (the echo reference)."""
        return 0 < turn <= self.dropped_upto

    # -- services for stages -----------------------------------------------------------------
    def emit(self, event: Event, turn: int | None = None, t_ns: int | None = None, **fields: Any) -> None:
        self.port.report(Report(self.name, event, turn, t_ns if t_ns is not None else self.clock.now_ns(), fields))

    def status(self, text: str, problem: bool = False) -> None:
        """A human sentence about this stage's condition, for kioskctl status and the log; a problem is
        also shown on screen until the stage reports a status that is not one."""
        self.port.report(Status(self.name, text, problem))

    def send(self, msg: Message) -> bool:
        ok = self.port.send(msg)
        if not ok:
            self.log.warning("output full: dropped %s of turn %s", msg.body.kind, msg.turn)
        return ok

    def poll_commands(self) -> None:
        self.port.poll(self)

    def long_step(self) -> AbstractContextManager[None]:
        return self.port.long_step()

    def release_memory(self) -> None:
        """Run the cyclic collector and give free heap pages back to the system; call it when a reply
        is done. Native libraries leave their freed buffers in glibc's arenas, so without the trim a
        process's memory follows the longest sentence it has seen."""
        gc.collect()
        if _malloc_trim is not None:
            _malloc_trim(0)


@dataclass
class LocalPort:
    """A port in the same process: what a stage sends and reports is kept in lists (reports as the bus
    would carry them), input waiting for `pending` is put in `inbox`, and commands wait in `commands`
    until the stage polls."""

    reported: list[dict[str, Any]] = field(default_factory=list)
    sent: list[Message] = field(default_factory=list)
    inbox: deque[Message] = field(default_factory=deque)
    commands: deque[Command] = field(default_factory=deque)

    def send(self, msg: Message) -> bool:
        self.sent.append(msg)
        return True

    def report(self, msg: Report | Status) -> None:
        self.reported.append(encode(msg))

    def pending(self) -> Iterator[Message]:
        while self.inbox:
            yield self.inbox.popleft()

    def poll(self, stage: Stage) -> None:
        while self.commands:
            stage.command(self.commands.popleft())

    def long_step(self) -> AbstractContextManager[None]:
        return nullcontext()

    def take(self) -> list[Message]:
        """What was sent since the last take."""
        out, self.sent = self.sent, []
        return out
