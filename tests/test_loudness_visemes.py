"""The mouth from a recording's loudness: at rest in silence and in faint noise, open in speech, and the
recording cut into phrases at its pauses."""

from __future__ import annotations

import numpy as np

from models.loudness_visemes import MAX_JAW, phrases, timeline

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
