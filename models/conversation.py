"""The visitor's conversation so far: what a follow-up ("and on Sunday?") refers to.

A kiosk's visitors come and go without saying so; a conversation idle for longer than its timeout is
over, and the next question starts a new one. The clock is injected so the timing is tested without
waiting.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from models.llm_prompt import Exchange

KEPT = 1  # a follow-up refers to the exchange just before it


class Conversation:
    def __init__(self, timeout_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.timeout_s = timeout_s
        self._clock = clock
        self._exchanges: list[Exchange] = []
        self._turns: list[int] = []  # the turn of each exchange
        self._asked = 0  # questions in this conversation
        self._last = 0.0

    def expire(self) -> bool:
        """End the conversation if it has been idle too long; True when it ended now."""
        if self._exchanges and self._clock() - self._last > self.timeout_s:
            self._exchanges, self._turns, self._asked = [], [], 0
            return True
        return False

    @property
    def history(self) -> list[Exchange]:
        self.expire()
        return self._exchanges[-KEPT:]

    @property
    def previous_question(self) -> str | None:
        history = self.history
        return history[-1].question if history else None

    def add(self, question: str, answer: str, turn: int) -> None:
        self.expire()
        self._exchanges.append(Exchange(question, answer))
        self._turns.append(turn)
        self._asked += 1
        # A visitor's words are kept no longer than a follow-up needs them (one more, should the last be withdrawn).
        del self._exchanges[: -(KEPT + 1)], self._turns[: -(KEPT + 1)]
        self._last = self._clock()

    def withdraw(self, turn: int) -> None:
        """Forget the exchange of `turn`: the visitor had not finished it (they carried on in the next)."""
        if turn and turn in self._turns:
            i = self._turns.index(turn)
            del self._exchanges[i], self._turns[i]
            self._asked -= 1

    def describe(self) -> str:
        if not self._exchanges:
            return "waiting for a visitor (no conversation)"
        idle = self._clock() - self._last
        return (f"in a conversation: {self._asked} question(s), last {idle:.0f} s ago "
                f"(a new one starts after {self.timeout_s:.0f} s idle)")
