"""Where a sentence's stressed words fall, found in its sound: speakers nod on them.

A stressed syllable is louder and longer than its neighbours, so it stands out as a peak of the sound's
loudness smoothed over a syllable's length. The few strongest peaks, well apart and not at the very
start (the sentence's own nod marks that), are the beats a speaker's head would mark.
"""

from __future__ import annotations

import numpy as np

WINDOW_S = 0.02  # loudness resolution
SYLLABLE_S = 0.18  # the smoothing: about one syllable
APART_S = 0.9  # two emphasis nods closer than this would read as a nervous bob
SKIP_S = 0.6  # the sentence's opening nod covers its start
STRONG = 0.75  # a peak this close to the sentence's loudest counts as stressed


def stressed(pcm: np.ndarray, rate: int, most: int = 3) -> list[float]:
    """Times (s from the start) of up to `most` stressed syllables in this speech, in order."""
    step = max(int(rate * WINDOW_S), 1)
    n = len(pcm) // step
    if n < 3:
        return []
    loud = np.sqrt((pcm[: n * step].astype(np.float64).reshape(n, step) ** 2).mean(axis=1))
    width = max(int(SYLLABLE_S / WINDOW_S), 1)
    smooth = np.convolve(loud, np.hanning(width + 2)[1:-1] / (width / 2), mode="same")
    peaks = np.flatnonzero((smooth[1:-1] > smooth[:-2]) & (smooth[1:-1] >= smooth[2:])) + 1
    peaks = peaks[(peaks * WINDOW_S >= SKIP_S) & (smooth[peaks] >= STRONG * smooth.max())]
    chosen: list[int] = []
    for p in sorted(peaks, key=lambda i: -smooth[i]):
        if len(chosen) < most and all(abs(p - c) * WINDOW_S >= APART_S for c in chosen):
            chosen.append(int(p))
    return sorted(c * WINDOW_S for c in chosen)
