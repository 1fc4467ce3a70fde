"""A worker's lifecycle as a pure state machine (no processes, no clock of its own), after supervisord:

    STARTING --ready--> RUNNING --exit/hang--> BACKOFF --delay--> STARTING ...
    any fast failure x FATAL_AFTER in a row --> FATAL (stays down, reason kept)

A failure is "fast" when the worker died before it was ready or within HEALTHY_S of it; the back-off
doubles from BACKOFF_MIN_S to BACKOFF_MAX_S and resets once the worker has run HEALTHY_S. A RUNNING
worker whose heartbeats stop for HANG_S is declared hung (the supervisor kills it, which is an exit
whose back-off counts from the last heartbeat).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class State(Enum):
    STARTING = "STARTING"
    RUNNING = "RUNNING"
    BACKOFF = "BACKOFF"
    FATAL = "FATAL"


BACKOFF_MIN_S = 0.5
BACKOFF_MAX_S = 30.0
HEALTHY_S = 60.0
HANG_S = 3.0
FATAL_AFTER = 5


@dataclass
class Lifecycle:
    name: str
    state: State = State.STARTING
    started_at: float = 0.0
    ready_at: float | None = None
    last_beat: float = 0.0
    restart_at: float | None = None
    restarts: int = 0
    fast_failures: int = 0
    backoff_s: float = BACKOFF_MIN_S
    reason: str = ""

    def spawned(self, now: float) -> None:
        self.state = State.STARTING
        self.started_at = self.last_beat = now
        self.ready_at = self.restart_at = None

    def ready(self, now: float) -> None:
        self.state = State.RUNNING
        self.ready_at = self.last_beat = now
        self.reason = ""

    def beat(self, at: float) -> None:
        self.last_beat = max(self.last_beat, at)

    def hung(self, now: float) -> bool:
        """True when a RUNNING worker has been silent too long (the caller kills it)."""
        return self.state is State.RUNNING and now - self.last_beat > HANG_S

    def exited(self, now: float, why: str, hung: bool = False) -> None:
        """The process is gone: schedule its restart, or give up after repeated fast failures. A hung
        worker has been down since its last heartbeat, so its back-off counts from then: the HANG_S of
        silence already spent is back-off enough for the first few hangs."""
        healthy = self.ready_at is not None and now - self.ready_at >= HEALTHY_S
        if healthy:
            self.fast_failures = 0
            self.backoff_s = BACKOFF_MIN_S
        else:
            self.fast_failures += 1
        self.reason = why
        if self.fast_failures >= FATAL_AFTER:
            self.state = State.FATAL
            self.reason = f"{why}; gave up after {self.fast_failures} failures in a row"
            self.restart_at = None
            return
        self.state = State.BACKOFF
        self.restart_at = max(now, (self.last_beat if hung else now) + self.backoff_s)
        self.backoff_s = min(self.backoff_s * 2, BACKOFF_MAX_S)

    def due(self, now: float) -> bool:
        """True when a BACKOFF worker should be started again (the caller spawns it, then `spawned`)."""
        if self.state is State.BACKOFF and self.restart_at is not None and now >= self.restart_at:
            self.restarts += 1
            return True
        return False
