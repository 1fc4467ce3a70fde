"""The mouth from a recording's loudness: at rest in silence and in faint noise, open in speech, and the
recording cut into phrases at its pauses."""

from __future__ import annotations

import itertools

import numpy as np

from models.loudness_visemes import MAX_JAW, phrases, shaped, timeline

RATE = 22050


def speech_like(seconds: float) -> np.ndarray:
    """A 120 Hz voice's harmonics in syllables (2.5 a second) peaking at a quarter of full scale."""
    t = np.arange(int(seconds * RATE)) / RATE
    voice = sum(np.sin(2 * np.pi * 120 * k * t) / k for k in range(1, 8)) * np.abs(np.sin(2 * np.pi * 2.5 * t))
    return voice * 0.25 * 32767


def faint_noise(seconds: float, rng: np.random.Generator) -> np.ndarray:
    """Steady hiss at -50 dBFS: a quiet room through a cheap microphone."""
    return rng.normal(0, 32768 * 10 ** (-50 / 20), int(seconds * RATE))


def jaw_at(rows: np.ndarray, a_s: float, b_s: float) -> np.ndarray:
    """The jaw of the windows that start from `a_s` to `b_s` seconds."""
    starts = rows[:, 0] / RATE
    return rows[(starts >= a_s) & (starts < b_s), 2]


def test_digital_silence_keeps_the_mouth_at_rest() -> None:
    rows = timeline(np.zeros(3 * RATE, np.int16), RATE)
    assert rows[-1, 1] == 3 * RATE  # the windows cover it all
    assert not rows[:, 2].any()


def test_faint_noise_keeps_the_mouth_at_rest_and_speech_in_it_moves_it() -> None:
    """60 s of hiss with 2 s of speech in the middle: under 5% speech, so the loud level alone would be the
    hiss's, and the gate 30 dB under it would open the mouth wide all through."""
    rng = np.random.default_rng(0)
    pcm = faint_noise(60, rng)
    pcm[29 * RATE : 31 * RATE] += speech_like(2)
    rows = timeline(np.clip(pcm, -32768, 32767).astype(np.int16), RATE)
    assert not jaw_at(rows, 0, 29).any() and not jaw_at(rows, 31, 60).any()
    speaking = jaw_at(rows, 29, 31)
    assert np.percentile(speaking, 75) >= 0.5 * MAX_JAW
    assert speaking.min() < 0.1 * MAX_JAW  # closing between syllables: it follows the loudness


def test_a_recording_mostly_of_faint_noise_is_cut_at_its_pauses() -> None:
    rng = np.random.default_rng(1)
    pcm = faint_noise(60, rng)
    pcm[28 * RATE : 29 * RATE] += speech_like(1)
    pcm[31 * RATE : 32 * RATE] += speech_like(1)
    cuts = [a / RATE for a, _ in phrases(np.clip(pcm, -32768, 32767).astype(np.int16), RATE)][1:]
    assert any(abs(c - 30.0) < 0.1 for c in cuts), cuts  # in the middle of the 2 s between the two


def test_the_voices_own_phonemes_open_as_far_as_the_sound_is_loud() -> None:
    """An "ah" loud and then soft, an m, an "ee" as loud as the loud "ah", and a pause: the phonemes keep
    their shape and closures, the loudness sets how far each opens."""
    loud, soft = speech_like(0.3), speech_like(0.3) * 10 ** (-12 / 20)
    pcm = np.concatenate([loud, soft, loud[:2205], loud, np.zeros(2205)]).astype(np.int16)
    edges = np.cumsum([0, len(loud), len(soft), 2205, len(loud), 2205])
    own = [(0.85, 0.2), (0.85, 0.2), (0.0, 0.0), (0.3, 0.7), (0.0, 0.0)]  # ah, ah, m, ee, pause
    phonemes = np.array([(a, b, j, w) for (a, b), (j, w) in zip(itertools.pairwise(edges), own, strict=True)], np.float32)
    rows = shaped(phonemes, pcm, RATE)
    ah_loud, ah_soft = jaw_at(rows, 0.05, 0.25), jaw_at(rows, 0.35, 0.55)
    m, ee = jaw_at(rows, 0.61, 0.69), jaw_at(rows, 0.75, 0.95)
    assert ah_loud.mean() > 1.3 * ah_soft.mean()  # the same vowel, 12 dB softer, opens less
    assert ee.mean() < ah_loud.mean()  # as loud, but a narrower vowel
    assert ee.mean() > ah_soft.mean()  # ... yet louder than the soft "ah"
    assert np.all(m == 0) and np.all(jaw_at(rows, 1.01, 1.1) == 0)  # lips together on the m, rest in the pause
    open_rows = rows[np.isin(rows[:, 3], [0.2, 0.7])]
    assert np.all(open_rows[:, 2] > 0)  # an open phoneme never reads as lips pressed together
    assert rows[:, 2].max() <= MAX_JAW
