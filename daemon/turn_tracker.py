"""The turns in flight, as a pure state machine: the supervisor hands it the workers' events and the time,
and it answers with what to do (tell a worker, interrupt and close turns, finish the run). No I/O and no
clock of its own, so tests drive it with a synthetic one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from daemon.commands import Command as BusCommand
from daemon.commands import Visitor, Words
from daemon.events import Event

LINGER_S = 0.6  # keep the face on screen a moment after the last reply, so recordings end calmly
# Event -> what the face should show about the visitor's turn.
VISITOR_STATE = {Event.SPEECH_START: "listening", Event.SPEECH_END: "thinking", Event.SPEECH_DISCARDED: "idle",
                 Event.PLAYBACK_START: "idle", Event.TURN_END: "idle"}
# Event -> what the kiosk as a whole is doing, for an operator (kioskctl status, /v1/status).
ACTIVITY = {**VISITOR_STATE, Event.PLAYBACK_START: "speaking"}


@dataclass(frozen=True)
class Tell:
    """A command for one worker, if it is running."""

    worker: str
    cmd: BusCommand


@dataclass(frozen=True)
class Interrupt:
    """Every worker drops the turns up to `upto` (the face falls silent at once)."""

    upto: int


@dataclass(frozen=True)
class TurnClosed:
    """An open turn that nobody will answer now: the supervisor writes its unanswered turn_end."""

    turn: int
    reason: str


@dataclass(frozen=True)
class Finish:
    reason: str
    code: int = 0


Command = Tell | Interrupt | TurnClosed | Finish


class TurnTracker:
    def __init__(self, turns_wanted: int | None = None) -> None:
        self.turns_wanted = turns_wanted  # finish once this many turns are answered (tests, bench)
        self.open: set[int] = set()  # heard to the end, not yet answered or given up
        self.answered = 0
        self.activity = "idle"  # listening, thinking, speaking (ACTIVITY)
        self._input_end_at: float | None = None
        self._finish: tuple[float, str] | None = None  # when, and why

    def on_event(self, ev: dict[str, Any], now: float) -> list[Command]:
        name, turn = ev["event"], ev.get("turn")
        out: list[Command] = []
        self.activity = ACTIVITY.get(name, self.activity)
        if name == Event.PLAYBACK_STOP and self.activity == "speaking":  # not when the visitor spoke over it
            self.activity = "idle"
        if name in VISITOR_STATE:
            # The face shows that it is listening, then thinking, until the reply plays.
            out.append(Tell("face", Visitor(VISITOR_STATE[name])))
        if name == Event.BARGE_IN:
            out += self.interrupt(turn - 1, "the visitor spoke over the reply")
        elif name == Event.SPEECH_RESUMED:
            out += self.interrupt(turn - 1, "the visitor carried on: answered as one turn with the next")
        elif name == Event.ASR_SPECULATIVE:
            out.append(Tell("ear", Words(turn, ev["finished"], ev["pause_ns"], ev.get("sure", False))))
        elif name == Event.SPEECH_END:
            self.open.add(turn)
        elif name == Event.TURN_END:
            self.open.discard(turn)
            if ev.get("answered"):
                self.answered += 1
                if self.turns_wanted is not None and self.answered >= self.turns_wanted:
                    self._finish_after_linger(f"{self.answered} turn(s) answered", now)
        elif name == Event.INPUT_END:
            self._input_end_at = now
        if self._input_end_at is not None and not self.open:
            self._finish_after_linger("audio input ended and every turn is answered", now)
        return out

    def interrupt(self, upto: int, reason: str) -> list[Command]:
        """Drop every turn up to `upto`, closing those still open: nobody else will."""
        closed = sorted(t for t in self.open if t <= upto)
        self.open -= set(closed)
        return [Interrupt(upto), *(TurnClosed(t, reason) for t in closed)]

    def worker_lost(self, why: str) -> list[Command]:
        """A worker died or hung: whatever it was doing is lost, so the open turns close and the next
        visitor is answered."""
        return self.interrupt(max(self.open), why) if self.open else []

    def due(self, now: float, drain_s: float) -> list[Command]:
        if self._finish is not None and now >= self._finish[0]:
            return [Finish(self._finish[1])]
        if self._input_end_at is not None and now - self._input_end_at > drain_s:
            return [Finish(f"audio input ended but turn(s) {sorted(self.open)} were not answered within "
                           f"{drain_s:g} s", 1)]
        return []

    def _finish_after_linger(self, reason: str, now: float) -> None:
        if self._finish is None:
            self._finish = (now + LINGER_S, reason)
