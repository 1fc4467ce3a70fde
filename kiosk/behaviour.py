"""Life in the face: blinks at natural intervals and mouth motion smoothed like real muscles.

Pure functions of time (seconds) and targets, so tests drive them with a synthetic clock.
"""

from __future__ import annotations

import math
import random

from models.visemes import Viseme

BLINK_CLOSE_S, BLINK_HOLD_S, BLINK_OPEN_S = 0.07, 0.04, 0.10


class Blinker:
    """Blinks every 2-6 s (people blink roughly 15 times a minute), each lasting about 0.2 s."""

    def __init__(self, seed: int | None = None, first_at: float = 1.5) -> None:
        self._rng = random.Random(seed)
        self._next = first_at

    def value(self, t: float) -> float:
        """Eyelid closure at time t: 0 open .. 1 closed."""
        dt = t - self._next
        if dt < 0:
            return 0.0
        if dt < BLINK_CLOSE_S:
            return dt / BLINK_CLOSE_S
        if dt < BLINK_CLOSE_S + BLINK_HOLD_S:
            return 1.0
        if dt < BLINK_CLOSE_S + BLINK_HOLD_S + BLINK_OPEN_S:
            return 1.0 - (dt - BLINK_CLOSE_S - BLINK_HOLD_S) / BLINK_OPEN_S
        self._next = t + self._rng.uniform(2.0, 6.0)
        return 0.0


class MouthSmoother:
    """First-order approach to the target pose: the mouth opens fast (25 ms) and closes a little slower (45 ms)."""

    def __init__(self, attack_s: float = 0.025, release_s: float = 0.045) -> None:
        self.attack_s, self.release_s = attack_s, release_s
        self.jaw = 0.0
        self.width = 0.0

    def step(self, target: Viseme, dt: float) -> Viseme:
        jaw_t, width_t = target
        tau = self.attack_s if jaw_t > self.jaw else self.release_s
        self.jaw += (jaw_t - self.jaw) * (1.0 - math.exp(-dt / tau))
        self.width += (width_t - self.width) * (1.0 - math.exp(-dt / self.attack_s))
        return self.jaw, self.width
