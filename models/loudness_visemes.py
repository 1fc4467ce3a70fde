"""Where the mouth shape comes from when there are no phonemes (a recording rather than the voice): the
sound's loudness, and where to cut a long recording into phrases at its pauses.

The jaw opens with the loudness of each 10 ms of sound, measured in decibels below the recording's loud
level, and rests (0, lips together) where the sound falls under the silence gate; the width stays neutral,
since loudness says nothing of rounded or spread lips. The result is a viseme timeline like
`models.visemes.timeline` gives for phonemes, so the face smooths and draws it the same way.
"""

from __future__ import annotations

import itertools

import numpy as np

WINDOW_S = 0.01  # one timeline row per 10 ms of sound
LOUD_PERCENTILE = 95  # the recording's loud level: its 95th-percentile window, not one click's peak
SILENCE_DB = 30.0  # this far below the loud level is silence: the mouth rests
RANGE_DB = 24.0  # from the gate to this much above it the jaw opens to its widest
MAX_JAW = 0.85  # as wide as the voice's most open vowels (models/visemes.py)
MIN_PAUSE_S = 0.3  # a recording is cut into phrases at pauses at least this long...
MAX_PHRASE_S = 15.0  # ... and a phrase longer than this at its quietest moment


def _levels(pcm: np.ndarray, rate: int) -> tuple[np.ndarray, int, float]:
    """Each window's level (dB, relative to full scale), the window in samples, and the loud level."""
    step = max(round(rate * WINDOW_S), 1)
    n = -(-len(pcm) // step)
    padded = np.zeros(n * step, np.float64)
    padded[: len(pcm)] = pcm
    rms = np.sqrt((padded.reshape(n, step) ** 2).mean(axis=1)) / 32768.0
    db = 20 * np.log10(np.maximum(rms, 1e-6))
    loud = float(np.percentile(db, LOUD_PERCENTILE)) if n else -120.0
    return db, step, loud


def timeline(pcm: np.ndarray, rate: int, loud_db: float | None = None) -> np.ndarray:
    """int16 mono speech -> rows (start, end, jaw, width) in samples, one per window. `loud_db` is the loud
    level to measure against (a phrase cut from a longer recording passes the whole recording's)."""
    db, step, loud = _levels(pcm, rate)
    loud = loud if loud_db is None else loud_db
    jaw = np.clip((db - (loud - SILENCE_DB)) / RANGE_DB, 0.0, 1.0) * MAX_JAW
    starts = np.arange(len(db), dtype=np.float32) * step
    ends = np.minimum(starts + step, len(pcm)).astype(np.float32)
    return np.stack([starts, ends, jaw.astype(np.float32), np.zeros_like(starts)], axis=1).reshape(-1, 4)


def loud_level(pcm: np.ndarray, rate: int) -> float:
    """The recording's loud level (dB relative to full scale), the reference `timeline` measures against."""
    return _levels(pcm, rate)[2]


def phrases(pcm: np.ndarray, rate: int) -> list[tuple[int, int]]:
    """(start, end) samples of the recording's phrases: cut in the middle of every pause of MIN_PAUSE_S or
    more, and a phrase longer than MAX_PHRASE_S at its quietest window; together they cover it all."""
    db, step, loud = _levels(pcm, rate)
    silent = db < loud - SILENCE_DB
    cuts = [0]
    run_start = None
    for i, quiet in enumerate([*silent.tolist(), False]):
        if quiet and run_start is None:
            run_start = i
        elif not quiet and run_start is not None:
            if (i - run_start) * WINDOW_S >= MIN_PAUSE_S and run_start > 0 and i < len(silent):
                cuts.append((run_start + i) // 2)
            run_start = None
    cuts.append(len(db))
    windows: list[tuple[int, int]] = []
    for a, b in itertools.pairwise(cuts):
        windows += _split_long(db, a, b)
    return [(a * step, min(b * step, len(pcm))) for a, b in windows if b > a]


def _split_long(db: np.ndarray, a: int, b: int) -> list[tuple[int, int]]:
    longest = round(MAX_PHRASE_S / WINDOW_S)
    if b - a <= longest:
        return [(a, b)]
    lo = a + longest // 3  # cut in the middle third, at its quietest window
    cut = lo + int(np.argmin(db[lo : a + 2 * longest // 3]))
    return [(a, cut), *_split_long(db, cut, b)]
