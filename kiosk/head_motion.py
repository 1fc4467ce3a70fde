"""How the head moves: breathing, a slow drift that never repeats, and nods.

A still head reads as a photo. A seated person's head rises and falls with each breath (12-20 a minute),
drifts and tilts by a degree or two, and nods: small "mm-hm" nods while listening, a nod on a stressed
word or at a sentence end while speaking. Amplitudes are in face heights (brow to chin) and degrees, so
they look the same on any portrait and screen.

Functions of time with seeded phases and explicit nod start times: tests drive them with a synthetic
clock.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

BREATH_HZ = 0.23  # ~14 breaths a minute
BREATH_RISE = 0.004  # face heights
DRIFT_SHIFT = 0.008  # face heights, each axis
DRIFT_ROLL = 1.2  # degrees
# Incommensurate frequencies (Hz): their sum drifts without a period anyone would notice.
DRIFT_HZ = (0.053, 0.089, 0.131)
NOD_S = 0.55  # one nod, down and back up


@dataclass(frozen=True)
class Head:
    x: float = 0.0  # face heights, to the portrait's right
    y: float = 0.0  # face heights, down
    roll: float = 0.0  # degrees, clockwise on screen
    nod: float = 0.0  # pitch, 0 level .. 1 a clear nod (the face drops and foreshortens)

    def __add__(self, other: Head) -> Head:
        return Head(self.x + other.x, self.y + other.y, self.roll + other.roll, self.nod + other.nod)


class Sway:
    """Breathing and drift: always on, so the face never stands still."""

    def __init__(self, seed: int | None = None) -> None:
        rng = random.Random(seed)
        self._phases = [[rng.uniform(0, 2 * math.pi) for _ in DRIFT_HZ] for _ in range(3)]
        self._breath_phase = rng.uniform(0, 2 * math.pi)

    def _drift(self, axis: int, t: float) -> float:
        """-1..1, smooth: three sines with falling weights."""
        return sum(w * math.sin(2 * math.pi * f * t + p)
                   for w, f, p in zip((0.55, 0.3, 0.15), DRIFT_HZ, self._phases[axis], strict=True))

    def at(self, t: float) -> Head:
        breath = 0.5 * (1 - math.cos(2 * math.pi * BREATH_HZ * t + self._breath_phase))
        return Head(x=DRIFT_SHIFT * self._drift(0, t),
                    y=DRIFT_SHIFT * 0.5 * self._drift(1, t) - BREATH_RISE * breath,
                    roll=DRIFT_ROLL * self._drift(2, t))


@dataclass(frozen=True)
class Nod:
    start: float
    depth: float  # 0..1
    duration: float = NOD_S

    def at(self, t: float) -> float:
        u = (t - self.start) / self.duration
        if not 0.0 <= u <= 1.0:
            return 0.0
        # Down faster than back up: the head drops and then settles.
        return self.depth * math.sin(math.pi * u ** 0.8) ** 2


class Nods:
    """The nods under way; `at` sums them (a double nod is two that overlap a little)."""

    def __init__(self) -> None:
        self._nods: list[Nod] = []

    def add(self, nod: Nod) -> None:
        self._nods.append(nod)

    def double(self, start: float, depth: float) -> None:
        """The listener's "mm-hm": a nod and a smaller one after it."""
        self.add(Nod(start, depth, 0.45))
        self.add(Nod(start + 0.38, 0.6 * depth, 0.45))

    def at(self, t: float) -> float:
        self._nods = [n for n in self._nods if t <= n.start + n.duration]
        return sum(n.at(t) for n in self._nods)
