"""The face's behaviour on a synthetic clock: gaze, head motion, blinks and expression per state, and the
mood a reply sentence is said with."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kiosk.behaviour import EXPRESSION, Behaviour, Blinker, FaceState, Look
from kiosk.emphasis import stressed
from kiosk.gaze import Gaze, GazeMode
from kiosk.head_motion import Nods, Sway
from models.mood import Mood, mood_of

FPS = 30


def run(b: Behaviour, start: float, seconds: float) -> list[Look]:
    return [b.at(start + k / FPS) for k in range(int(seconds * FPS))]


def test_gaze_wanders_in_fixations_and_quick_saccades() -> None:
    g = Gaze(seed=3)
    positions = [g.at(k / 1000) for k in range(20_000)]  # 20 s at 1 ms
    saccades = g.take_saccades()
    gaps = np.diff([s.start for s in saccades])
    assert 7 <= len(saccades) <= 20  # a shift every 1-3 s
    assert gaps.min() >= 1.0 and gaps.max() <= 3.1
    assert all(0.025 <= s.duration <= 0.07 for s in saccades)
    assert max(abs(x) for x, _ in positions) <= 0.75 and max(abs(y) for _, y in positions) <= 0.3
    # Between saccades the eyes hold still: most 1 ms steps move nothing.
    steps = np.abs(np.diff(np.array(positions), axis=0)).sum(axis=1)
    assert (steps == 0).mean() > 0.9


def test_contact_looks_at_the_visitor_and_avert_looks_up_and_away() -> None:
    g = Gaze(seed=5)
    g.set_mode(GazeMode.CONTACT, 0.0)
    contact = [g.at(k / 100) for k in range(1, 1000)]
    assert max(math.hypot(*p) for p in contact) < 0.15
    g.set_mode(GazeMode.AVERT, 10.0)
    away = [g.at(10.0 + k / 100) for k in range(10, 500)]
    xs = [x for x, _ in away]
    assert all(y < -0.3 for _, y in away)
    assert min(abs(x) for x in xs) > 0.4 and len({math.copysign(1, x) for x in xs}) == 1  # one side, held


def test_a_gaze_shift_can_bring_a_blink_but_not_twice_in_a_second() -> None:
    b = Blinker(seed=1, first_at=100.0)
    b.trigger(2.0)
    assert b.value(2.05) > 0.5  # closing
    b.value(2.5)  # the blink is over
    b.trigger(2.6)  # too soon after it
    assert max(b.value(2.6 + k / 100) for k in range(30)) == 0.0


def test_the_head_always_moves_a_little_and_never_jumps() -> None:
    s = Sway(seed=2)
    heads = [s.at(k / FPS) for k in range(60 * FPS)]
    xy = np.array([(h.x, h.y, h.roll) for h in heads])
    # Within natural amplitudes: about a percent of the face, a degree or two.
    assert np.abs(xy[:, :2]).max() < 0.015 and np.abs(xy[:, 2]).max() < 2.0
    step = np.abs(np.diff(xy, axis=0)).max(axis=0)  # per frame: smooth
    assert step[0] < 0.001 and step[1] < 0.001 and step[2] < 0.05
    # Never still for long: over every 1.5 s window the head has moved.
    win = int(1.5 * FPS)
    spans = [np.ptp(xy[i : i + win, 1]) + np.ptp(xy[i : i + win, 0]) for i in range(0, len(xy) - win, FPS)]
    assert min(spans) > 0.0005


def test_a_double_nod_goes_down_and_comes_back() -> None:
    n = Nods()
    n.double(1.0, 0.5)
    values = [n.at(1.0 + k / 100) for k in range(120)]
    assert 0.3 < max(values) <= 0.6
    assert values[0] == 0.0 and values[-1] == 0.0


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_each_state_looks_different(seed: int) -> None:
    b = Behaviour(seed=seed)
    idle = run(b, 0.0, 10.0)
    b.set_state(FaceState.LISTENING, 10.0)
    listening = run(b, 10.0, 8.0)
    b.set_state(FaceState.THINKING, 18.0)
    thinking = run(b, 18.0, 3.0)

    def gaze_off(looks: list[Look]) -> float:
        return float(np.mean([math.hypot(*lk.gaze) for lk in looks[FPS:]]))

    def nods(looks: list[Look]) -> float:
        return max(lk.head.nod for lk in looks)

    def gaze_reach(looks: list[Look]) -> float:
        return max(math.hypot(*lk.gaze) for lk in looks)

    assert gaze_off(listening) < 0.15 < gaze_off(thinking)
    assert gaze_reach(idle) > 2 * gaze_reach(listening[FPS:])  # idle looks round the room, listening at the visitor
    # A listener's nod under way when the turn ends may finish; none starts while thinking.
    assert nods(listening) > 0.3 and nods(idle) == 0.0 and nods(thinking[FPS:]) == 0.0
    assert thinking[-1].head.roll - listening[-1].head.roll > 2.0  # the thinking tilt
    assert listening[-1].expression.brow > 0.3  # attentive
    assert np.mean([lk.gaze[1] for lk in thinking[FPS:]]) < -0.3  # looks up while recalling


def test_a_sentence_is_marked_with_a_nod_and_its_mood_shows_smoothly() -> None:
    b = Behaviour(seed=4)
    run(b, 0.0, 2.0)
    b.sentence(2.0, Mood.CONCERN)
    looks = run(b, 2.0, 1.5)
    assert max(lk.head.nod for lk in looks) > 0.4
    concern = [lk.expression.concern for lk in looks]
    assert concern[-1] > 0.6 and concern[0] < 0.1  # eased in ...
    assert max(np.diff(concern)) < 0.15  # ... without a jump
    b.sentence(3.5, Mood.SMILE)
    smiling = run(b, 3.5, 1.5)
    assert smiling[-1].expression.smile > 0.6 and smiling[-1].expression.concern < 0.1
    b.set_state(FaceState.IDLE, 5.0)
    assert run(b, 5.0, 2.0)[-1].expression.smile == pytest.approx(EXPRESSION[FaceState.IDLE].smile, abs=0.02)


def syllables(loud_at: list[float], seconds: float = 3.0, rate: int = 16000) -> np.ndarray:
    """Speech-like sound: a syllable every 0.2 s, those at `loud_at` (s) twice as loud."""
    t = np.arange(int(seconds * rate)) / rate
    level = np.zeros_like(t)
    for start in np.arange(0.05, seconds - 0.15, 0.2):
        gain = 2.0 if any(abs(start - s) < 0.1 for s in loud_at) else 1.0
        level += gain * np.clip(np.sin(np.pi * (t - start) / 0.15), 0, None) * ((t >= start) & (t < start + 0.15))
    return (6000 * level * np.sin(2 * np.pi * 180 * t)).astype(np.int16)


def test_stressed_syllables_are_found_in_the_sound() -> None:
    found = stressed(syllables([0.85, 2.05]), 16000)
    assert len(found) == 2
    assert found == pytest.approx([0.925, 2.125], abs=0.06)  # the middle of each loud syllable
    assert stressed(syllables([0.25]), 16000) == []  # the sentence's own nod covers its start
    assert stressed(np.zeros(100, np.int16), 16000) == []


def test_the_head_nods_on_stressed_words() -> None:
    b = Behaviour(seed=2)
    run(b, 0.0, 1.0)
    b.sentence(1.0, Mood.NEUTRAL, stresses=[1.2, 2.4])
    nods = np.array([lk.head.nod for lk in run(b, 1.0, 3.0)])
    lows = [k / FPS for k in range(1, len(nods) - 1) if nods[k] > 0.1 and nods[k] >= nods[k - 1] and nods[k] > nods[k + 1]]
    assert len(lows) == 3  # the sentence's nod, then one on each stressed word
    assert lows[1:] == pytest.approx([1.2, 2.4], abs=0.1)


def test_the_same_seed_gives_the_same_face() -> None:
    a, b = Behaviour(seed=9), Behaviour(seed=9)
    assert run(a, 0.0, 5.0) == run(b, 0.0, 5.0)


@pytest.mark.parametrize(("sentence", "mood"), [
    ("Hello! Welcome to Example Bank.", Mood.SMILE),
    ("Thank you, have a lovely day.", Mood.SMILE),
    ("I'm sorry to hear that.", Mood.CONCERN),
    ("I'm not sure about that, I'm afraid.", Mood.CONCERN),
    ("If your card is lost or stolen, call us at once.", Mood.CONCERN),
    ("The service desk on your left will be glad to help you.", Mood.SMILE),
    ("We are open Monday to Friday from nine to five.", Mood.NEUTRAL),
    ("Cash machines are by the entrance.", Mood.NEUTRAL),
    ("No problem, the desk is on your right.", Mood.SMILE),
    ("I\u2019m afraid we can\u2019t do that here.", Mood.CONCERN),
    ("您好！请问有什么可以帮您？", Mood.SMILE),
    ("很抱歉听到这个消息。", Mood.CONCERN),
    ("不客气。还有什么可以帮您的吗？", Mood.SMILE),
    ("我们周一至周五上午九点到下午五点营业。", Mood.NEUTRAL),
])
def test_the_mood_of_a_sentence(sentence: str, mood: Mood) -> None:
    assert mood_of(sentence) is mood
