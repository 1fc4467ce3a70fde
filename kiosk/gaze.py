"""Where the eyes look: fixations held for a while, joined by quick saccades, chosen by what the face is doing.

People shift their gaze every 1-3 s; a saccade takes 20-80 ms, longer for a bigger jump. Listening and
speaking hold eye contact with the visitor (small shifts around the centre), thinking looks away (up and
to one side, as people do when they recall something), idle wanders over the room. Gaze is in eye
travel units: (0, 0) straight ahead at the visitor, x -1..1 from the portrait's left to its right, y -1
(up) .. 1 (down).

A function of time and of the mode set at a time, with seeded randomness: tests drive it with a synthetic
clock and get the same saccades every run.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from enum import StrEnum


class GazeMode(StrEnum):
    CONTACT = "contact"  # at the visitor, with small shifts around them
    AVERT = "avert"  # away, up and to one side: recalling, thinking
    WANDER = "wander"  # over the room, coming back to the middle now and then


@dataclass(frozen=True)
class Saccade:
    start: float  # s
    origin: tuple[float, float]
    target: tuple[float, float]

    @property
    def amplitude(self) -> float:
        return math.dist(self.origin, self.target)

    @property
    def duration(self) -> float:
        """Bigger jumps take longer (the main sequence): ~25 ms for a glance, ~70 ms across the eye."""
        return 0.025 + 0.045 * min(self.amplitude, 1.0)

    def at(self, t: float) -> tuple[float, float]:
        u = min(max((t - self.start) / self.duration, 0.0), 1.0)
        u = u * u * (3 - 2 * u)  # fast in the middle, settling at the end
        return (self.origin[0] + (self.target[0] - self.origin[0]) * u,
                self.origin[1] + (self.target[1] - self.origin[1]) * u)


# How long each mode holds a fixation (s), and where it looks next.
FIXATION_S = {GazeMode.CONTACT: (1.2, 3.0), GazeMode.AVERT: (0.8, 2.0), GazeMode.WANDER: (1.0, 3.0)}


class Gaze:
    def __init__(self, seed: int | None = None) -> None:
        self._rng = random.Random(seed)
        self._mode = GazeMode.WANDER
        self._saccade = Saccade(0.0, (0.0, 0.0), (0.0, 0.0))
        self._next = 0.5
        self._side = 1.0  # thinking looks to one side and stays there for the thought
        self.saccades: list[Saccade] = []  # since the last take_saccades(): the blinker listens to them

    def set_mode(self, mode: GazeMode, t: float) -> None:
        """A new mode moves the eyes at once (the visitor starts talking: look at them)."""
        if mode is self._mode:
            return
        self._mode = mode
        if mode is GazeMode.AVERT:
            self._side = self._rng.choice((-1.0, 1.0))
        self._shift(t)

    def at(self, t: float) -> tuple[float, float]:
        """Gaze at time t (monotonic across calls)."""
        if t >= self._next:
            self._shift(t)
        return self._saccade.at(t)

    def take_saccades(self) -> list[Saccade]:
        out, self.saccades = self.saccades, []
        return out

    def _shift(self, t: float) -> None:
        self._saccade = Saccade(t, self._saccade.at(t), self._target())
        self.saccades.append(self._saccade)
        lo, hi = FIXATION_S[self._mode]
        self._next = t + self._saccade.duration + self._rng.uniform(lo, hi)

    def _target(self) -> tuple[float, float]:
        r = self._rng
        if self._mode is GazeMode.CONTACT:
            return r.uniform(-0.12, 0.12), r.uniform(-0.08, 0.08)
        if self._mode is GazeMode.AVERT:
            return self._side * r.uniform(0.45, 0.7), r.uniform(-0.6, -0.35)
        middle = math.hypot(*self._saccade.target) < 0.2
        if not middle and r.random() < 0.35:  # back to the room's middle, where a visitor would come from
            return r.uniform(-0.1, 0.1), r.uniform(-0.05, 0.1)
        return r.choice((-1, 1)) * r.uniform(0.25, 0.75), r.uniform(-0.25, 0.3)  # then off round the room
