"""Where the mouth shape comes from when there are no phonemes (a recording rather than the voice): the
sound's loudness, and where to cut a long recording into phrases at its pauses; and how far the mouth
opens on the voice's own speech, whose phonemes give the shape (`shaped`).

The jaw opens with the loudness of each 10 ms of sound, measured in decibels above a silence gate, and
rests (0, lips together) under it. The gate is 30 dB below the recording's loud level, but never below its
noise floor or -60 dBFS, so a silent or mostly silent recording keeps the mouth at rest. The width stays
neutral, since loudness says nothing of rounded or spread lips. The result is a viseme timeline like
`models.visemes.timeline` gives for phonemes, so the face smooths and draws it the same way.
"""

from __future__ import annotations

import itertools

import numpy as np

WINDOW_S = 0.01  # one timeline row per 10 ms of sound
LOUD_PERCENTILE = 95  # the recording's loud level: its 95th-percentile window, not one click's peak
LOUD_FLOOR_DB = -40.0  # ... at least this: with under 5% speech the percentile is the noise (or -120, digital silence)
SILENCE_DB = 30.0  # this far below the loud level is silence: the mouth rests
NOISE_PERCENTILE = 5  # the recording's noise floor: its quietest windows, the room between words
NOISE_MARGIN_DB = 6.0  # the gate stays this far above the noise floor, so steady hiss never moves the mouth
SILENT_DB = -60.0  # and never under this: quieter than a quiet room through a microphone
RANGE_DB = 24.0  # from the gate to this much above it the jaw opens to its widest
MAX_JAW = 0.85  # as wide as the voice's most open vowels (models/visemes.py)
PHONEME_SHARE = 0.3  # of a voiced row's opening that its phoneme sets, the rest the loudness (`shaped`)
MIN_OPEN = 0.02  # an open phoneme in a silent 10 ms: barely open, not lips pressed together
MIN_PAUSE_S = 0.3  # a recording is cut into phrases at pauses at least this long...
MAX_PHRASE_S = 15.0  # ... and a phrase longer than this at its quietest moment


def _levels(pcm: np.ndarray, rate: int) -> tuple[np.ndarray, int]:
    """Each window's level (dB, relative to full scale) and the window in samples."""
    step = max(round(rate * WINDOW_S), 1)
    n = -(-len(pcm) // step)
    padded = np.zeros(n * step, np.float64)
    padded[: len(pcm)] = pcm
    rms = np.sqrt((padded.reshape(n, step) ** 2).mean(axis=1)) / 32768.0
    return 20 * np.log10(np.maximum(rms, 1e-6)), step


def _gate(db: np.ndarray) -> float:
    if not len(db):
        return SILENT_DB
    loud = max(float(np.percentile(db, LOUD_PERCENTILE)), LOUD_FLOOR_DB)
    noise = float(np.percentile(db, NOISE_PERCENTILE))
    return max(loud - SILENCE_DB, noise + NOISE_MARGIN_DB, SILENT_DB)


def timeline(pcm: np.ndarray, rate: int, gate_db: float | None = None) -> np.ndarray:
    """int16 mono speech -> rows (start, end, jaw, width) in samples, one per window. `gate_db` is the silence
    gate to measure against (a phrase cut from a longer recording passes the whole recording's)."""
    db, step = _levels(pcm, rate)
    gate = _gate(db) if gate_db is None else gate_db
    jaw = np.clip((db - gate) / RANGE_DB, 0.0, 1.0) * MAX_JAW
    starts = np.arange(len(db), dtype=np.float32) * step
    ends = np.minimum(starts + step, len(pcm)).astype(np.float32)
    return np.stack([starts, ends, jaw.astype(np.float32), np.zeros_like(starts)], axis=1).reshape(-1, 4)


def silence_gate(pcm: np.ndarray, rate: int) -> float:
    """The recording's silence gate (dB relative to full scale), the level `timeline` measures the jaw from."""
    return _gate(_levels(pcm, rate)[0])


def phrases(pcm: np.ndarray, rate: int) -> list[tuple[int, int]]:
    """(start, end) samples of the recording's phrases: cut in the middle of every pause of MIN_PAUSE_S or
    more, and a phrase longer than MAX_PHRASE_S at its quietest window; together they cover it all."""
    db, step = _levels(pcm, rate)
    silent = db < _gate(db)
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



def shaped(phonemes: np.ndarray, pcm: np.ndarray, rate: int) -> np.ndarray:
    """A phoneme timeline (models.visemes) redrawn every 10 ms, opened as far as the sound is loud there.

    The phonemes say the mouth's shape and when the lips meet; how far it opens follows the loudness,
    as a speaker's jaw does (a stressed vowel opens wider than the same vowel unstressed). The phoneme's own
    opening still weighs in by PHONEME_SHARE, so an "ee" stays narrower than an "ah" as loud. Closed rows
    stay closed and every open row keeps a sliver open: the face shows a row at 0 as lips pressed together."""
    db, step = _levels(pcm, rate)
    loud = np.clip((db - _gate(db)) / RANGE_DB, 0.0, 1.0)
    starts = np.arange(len(db), dtype=np.float32) * step
    ends = np.minimum(starts + step, len(pcm)).astype(np.float32)
    row = np.clip(np.searchsorted(phonemes[:, 1], starts + step / 2, side="right"), 0, len(phonemes) - 1)
    own = phonemes[row, 2]
    opening = MAX_JAW * loud * (1 - PHONEME_SHARE + PHONEME_SHARE * own / MAX_JAW)
    jaw = np.where(own > 0, np.maximum(opening, MIN_OPEN), 0.0)
    return np.stack([starts, ends, jaw.astype(np.float32), phonemes[row, 3]], axis=1).reshape(-1, 4)
