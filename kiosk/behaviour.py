"""Life in the face: what it does in each state of the conversation, blinks, and mouth motion smoothed
like real muscles.

`Behaviour` turns the kiosk's state (idle, listening, thinking, speaking, degraded), the mood of the
sentence being spoken and the time into a `Look`: head pose, gaze, blink and expression. Everything is
a function of the time it is given (seconds) with seeded randomness, so tests drive it with a synthetic
clock; a change of state or mood eases in, never jumps.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from kiosk.gaze import Gaze, GazeMode
from kiosk.head_motion import Head, Nod, Nods, Sway
from kiosk.rig import Pose
from models.mood import Mood
from models.visemes import Viseme

BLINK_CLOSE_S, BLINK_HOLD_S, BLINK_OPEN_S = 0.07, 0.04, 0.10


class Blinker:
    """Blinks every 2-6 s (people blink roughly 15 times a minute), each lasting about 0.2 s, and on a
    gaze shift when asked (`trigger`)."""

    def __init__(self, seed: int | None = None, first_at: float = 1.5) -> None:
        self._rng = random.Random(seed)
        self._next = first_at
        self._last = -math.inf  # when the latest blink began

    def trigger(self, t: float) -> None:
        """Blink at t, unless a blink began less than a second ago (or is under way)."""
        if t - self._last > 1.0 and t < self._next:
            self._next = t

    def value(self, t: float) -> float:
        """Eyelid closure at time t: 0 open .. 1 closed."""
        dt = t - self._next
        if dt < 0:
            return 0.0
        self._last = self._next
        if dt < BLINK_CLOSE_S:
            return dt / BLINK_CLOSE_S
        if dt < BLINK_CLOSE_S + BLINK_HOLD_S:
            return 1.0
        if dt < BLINK_CLOSE_S + BLINK_HOLD_S + BLINK_OPEN_S:
            return 1.0 - (dt - BLINK_CLOSE_S - BLINK_HOLD_S) / BLINK_OPEN_S
        self._next = t + self._rng.uniform(2.0, 6.0)
        return 0.0


class MouthSmoother:
    """First-order approach to the target pose: the mouth opens fast (25 ms) and closes a little slower
    (45 ms), but lips pressed together for an m, b or p (a target of 0) meet at once (12 ms)."""

    def __init__(self, attack_s: float = 0.025, release_s: float = 0.045, press_s: float = 0.012) -> None:
        self.attack_s, self.release_s, self.press_s = attack_s, release_s, press_s
        self.jaw = 0.0
        self.width = 0.0

    def step(self, target: Viseme, dt: float) -> Viseme:
        jaw_t, width_t = target
        tau = self.attack_s if jaw_t > self.jaw else self.press_s if jaw_t == 0 else self.release_s
        self.jaw += (jaw_t - self.jaw) * (1.0 - math.exp(-dt / tau))
        self.width += (width_t - self.width) * (1.0 - math.exp(-dt / self.attack_s))
        return self.jaw, self.width


class FaceState(StrEnum):
    IDLE = "idle"  # nobody talking: a calm attract loop, glancing round the room
    LISTENING = "listening"  # a visitor is speaking: eye contact, small nods
    THINKING = "thinking"  # their turn ended, the reply is not out yet: gaze away, a slight tilt
    SPEAKING = "speaking"  # a reply is playing: eye contact, a nod at each sentence
    DEGRADED = "degraded"  # a worker is down: calm, still alive


@dataclass(frozen=True)
class Expression:
    brow: float = 0.0  # brows raised, 0..1
    smile: float = 0.0  # 0..1, on top of the photo's own expression
    concern: float = 0.0  # inner brows up, mouth corners down, 0..1


@dataclass(frozen=True)
class Look:
    """Everything but the mouth, for one frame."""

    head: Head
    gaze: tuple[float, float]
    blink: float
    expression: Expression

    def pose(self, jaw: float, width: float) -> Pose:
        """The rig's pose: this look with the mouth's jaw and width."""
        e = self.expression
        return Pose(jaw=jaw, width=width, blink=self.blink, gaze_x=self.gaze[0], gaze_y=self.gaze[1], brow=e.brow,
                    smile=e.smile, concern=e.concern, head=self.head)


GAZE = {FaceState.IDLE: GazeMode.WANDER, FaceState.LISTENING: GazeMode.CONTACT, FaceState.THINKING: GazeMode.AVERT,
        FaceState.SPEAKING: GazeMode.CONTACT, FaceState.DEGRADED: GazeMode.WANDER}
EXPRESSION = {
    FaceState.IDLE: Expression(smile=0.3),
    FaceState.LISTENING: Expression(brow=0.35, smile=0.15),
    FaceState.THINKING: Expression(brow=0.1, concern=0.15),
    FaceState.DEGRADED: Expression(smile=0.1),
}
SPEAKING = {Mood.NEUTRAL: Expression(brow=0.1, smile=0.2), Mood.SMILE: Expression(brow=0.3, smile=0.7),
            Mood.CONCERN: Expression(concern=0.7)}
# Held head offsets per state: thinking tilts the head and lifts the chin a little.
POSTURE = {FaceState.THINKING: Head(roll=3.5, y=-0.006)}
EXPRESSION_TAU_S = 0.25  # a smile takes about half a second to spread
POSTURE_TAU_S = 0.5
_Eased = TypeVar("_Eased", Expression, Head)
SACCADE_BLINK = 0.35  # a gaze jump at least this big (eye travel) may bring a blink
LISTEN_NOD_S = (1.8, 4.5)  # between a listener's nods


class Behaviour:
    """The face's behaviour: set the state and each sentence's mood as they happen, ask for the `Look` at
    each frame's time."""

    def __init__(self, seed: int | None = None) -> None:
        self._rng = random.Random(seed)
        # One seed each, so blinks, glances and sway do not draw the same numbers in step.
        self.blinker, self.gaze, self.sway = (kind(None if seed is None else seed * 4 + k)
                                              for k, kind in enumerate((Blinker, Gaze, Sway), start=1))
        self.nods = Nods()
        self.state = FaceState.IDLE
        self.mood = Mood.NEUTRAL
        self._t: float | None = None
        self._expression = EXPRESSION[FaceState.IDLE]
        self._posture = Head()
        self._next_nod = math.inf

    def set_state(self, state: FaceState, t: float) -> None:
        if state is self.state:
            return
        self.state = state
        self.gaze.set_mode(GAZE[state], t)
        self._next_nod = t + self._rng.uniform(0.8, 2.0) if state is FaceState.LISTENING else math.inf
        if state is not FaceState.SPEAKING:
            self.mood = Mood.NEUTRAL

    def sentence(self, t: float, mood: Mood, stresses: Sequence[float] = ()) -> None:
        """A sentence starts being spoken: its mood shows, the head marks it with a nod and then nods less
        on its stressed words (`stresses`: seconds from its start, kiosk/emphasis.py)."""
        self.set_state(FaceState.SPEAKING, t)
        self.mood = mood
        self.nods.add(Nod(t + 0.1, self._rng.uniform(0.45, 0.7)))
        for s in stresses:
            # The head leads the voice a little: the nod's lowest point lands on the stressed syllable.
            self.nods.add(Nod(t + s - 0.2, self._rng.uniform(0.2, 0.35)))

    def sentence_end(self, t: float) -> None:
        """The small settling nod at a sentence's end."""
        self.nods.add(Nod(t, self._rng.uniform(0.25, 0.4)))

    def at(self, t: float) -> Look:
        dt = 0.0 if self._t is None else max(t - self._t, 0.0)
        self._t = t
        if t >= self._next_nod:
            self.nods.double(t, self._rng.uniform(0.35, 0.6))
            self._next_nod = t + self._rng.uniform(*LISTEN_NOD_S)
        gaze = self.gaze.at(t)
        for s in self.gaze.take_saccades():
            if s.amplitude >= SACCADE_BLINK and self._rng.random() < 0.6:
                self.blinker.trigger(s.start)
        target = SPEAKING[self.mood] if self.state is FaceState.SPEAKING else EXPRESSION[self.state]
        self._expression = _approach(self._expression, target, dt, EXPRESSION_TAU_S)
        self._posture = _approach(self._posture, POSTURE.get(self.state, Head()), dt, POSTURE_TAU_S)
        head = self.sway.at(t) + self._posture + Head(nod=self.nods.at(t))
        return Look(head, gaze, self.blinker.value(t), self._expression)


def _approach(now: _Eased, target: _Eased, dt: float, tau: float) -> _Eased:
    """`now` moved towards `target` by a first-order step of dt seconds."""
    k = 1.0 - math.exp(-dt / tau)
    fields = {f: getattr(now, f) + (getattr(target, f) - getattr(now, f)) * k for f in now.__dataclass_fields__}
    return type(now)(**fields)
