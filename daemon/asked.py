"""Questions typed with `kioskctl ask`: what the kiosk answered, for the operator who asked.

The supervisor notes each asked turn and follows its events (the brain's `reply` decision, its
`sentence`s, `reply_end`); `kioskctl ask` polls until the reply is complete. Only the last few asked
turns are kept, in memory: they are the operator's words, not a visitor's.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Any

from daemon.events import Event

KEPT = 16


class AskedTurns:
    def __init__(self) -> None:
        self._turns: OrderedDict[int, dict[str, Any]] = OrderedDict()

    def open(self, turn: int) -> None:
        self._turns[turn] = {"t0_ns": time.monotonic_ns(), "source": None, "sentences": [],
                             "first_sentence_ms": None, "done": False}
        while len(self._turns) > KEPT:
            self._turns.popitem(last=False)

    def on_event(self, ev: dict[str, Any]) -> None:
        rec = self._turns.get(ev.get("turn") or 0)
        if rec is None:
            return
        name = ev["event"]
        if name == Event.REPLY:
            rec["source"] = ev.get("source")
        elif name == Event.SENTENCE:
            if rec["first_sentence_ms"] is None:
                rec["first_sentence_ms"] = round((ev["t_ns"] - rec["t0_ns"]) / 1e6, 1)
            rec["sentences"].append(ev.get("text", ""))
        elif name in (Event.REPLY_END, Event.TURN_END):
            rec["done"] = True

    def answer(self, turn: int) -> dict[str, Any] | None:
        rec = self._turns.get(turn)
        if rec is None:
            return None
        return {"done": rec["done"], "source": rec["source"], "text": " ".join(rec["sentences"]),
                "first_sentence_ms": rec["first_sentence_ms"]}
