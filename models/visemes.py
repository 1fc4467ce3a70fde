"""Where the mouth shape comes from: IPA phonemes (as Piper/espeak-ng write them) to mouth poses.

Mandarin's own consonants are here too (x, q, sh, r as espeak-ng writes them: ɕ, tɕh, s., ʐ, χ), for the
Chinese voice (models/tts_espeak.py) and a Piper voice that reads Chinese.

A viseme here is (jaw, width): jaw 0 closed .. 1 wide open, width -1 rounded .. 1 spread.
A timeline is the list of (start_sample, end_sample, jaw, width) for one synthesised sentence.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

Viseme = tuple[float, float]

REST: Viseme = (0.0, 0.0)
_VOWELS: dict[str, Viseme] = {
    "a": (0.85, 0.2), "ɑ": (0.9, 0.0), "æ": (0.8, 0.35), "ɐ": (0.7, 0.1), "ʌ": (0.65, 0.1), "ə": (0.45, 0.0),
    "ɚ": (0.4, -0.2), "ɜ": (0.5, 0.0), "e": (0.55, 0.45), "ɛ": (0.6, 0.35), "i": (0.3, 0.7), "ɪ": (0.35, 0.5),
    "o": (0.55, -0.6), "ɔ": (0.65, -0.5), "u": (0.3, -0.85), "ʊ": (0.35, -0.6), "ɒ": (0.75, -0.3), "y": (0.3, -0.8),
    "ɤ": (0.5, 0.1),
}
_CONSONANTS: dict[str, Viseme] = {
    # lips pressed together
    "m": (0.0, 0.0), "b": (0.0, 0.0), "p": (0.0, 0.0),
    # lower lip to teeth
    "f": (0.1, 0.1), "v": (0.1, 0.1),
    # rounded
    "w": (0.2, -0.8), "ʃ": (0.25, -0.4), "ʒ": (0.25, -0.4), "ɹ": (0.25, -0.3), "r": (0.25, -0.3),
    "ʂ": (0.25, -0.3), "ʐ": (0.25, -0.3), "ɻ": (0.25, -0.3),
    # teeth close, lips spread
    "s": (0.12, 0.4), "z": (0.12, 0.4), "θ": (0.2, 0.2), "ð": (0.2, 0.2), "j": (0.25, 0.5),
    "ɕ": (0.15, 0.45), "ʑ": (0.15, 0.45),
    # tongue consonants: mouth half open
    "t": (0.2, 0.1), "d": (0.2, 0.1), "n": (0.2, 0.1), "l": (0.3, 0.1), "k": (0.3, 0.0), "ɡ": (0.3, 0.0),
    "g": (0.3, 0.0), "ŋ": (0.25, 0.0), "h": (0.4, 0.0), "ɾ": (0.25, 0.1), "ʔ": (0.1, 0.0),
    "x": (0.35, 0.0), "χ": (0.35, 0.0),
}


# Length marks; and espeak-ng's Mandarin tone numbers, which a Piper voice reading Chinese says as phonemes of
# their own after the vowel they are sung on.
HELD = {"ː", "ˑ", *"12345"}
BETWEEN = {"ˈ", "ˌ"}  # stress marks: Piper places them between a syllable's onset and its vowel
AHEAD = {" "}  # the gap between words
PAUSES = set(",.;:!?…—-^$_")  # punctuation, Piper's start and end of a clip, espeak-ng's pause


def viseme(phoneme: str) -> Viseme:
    """Mouth pose for one phoneme; stress marks, length marks and punctuation give the rest pose."""
    for ch in phoneme:
        if ch in _VOWELS:
            return _VOWELS[ch]
        if ch in _CONSONANTS:
            return _CONSONANTS[ch]
    return REST


def timeline(phonemes: Iterable[tuple[str, int]]) -> np.ndarray:
    """(phoneme, n_samples) in order -> array of rows (start, end, jaw, width) in samples.

    Piper gives the marks between phonemes time of their own (often 20-100 ms). They are not pauses: a
    length mark holds the vowel before it, a stress mark is the way from the syllable's onset to its
    vowel, and in the gap between two words of running speech the mouth already shapes the next one.
    Only punctuation and the clip's ends rest the mouth, so the only closed mouth inside a phrase is an
    m, b or p."""
    items = list(phonemes)
    shapes = [viseme(ph) for ph, _ in items]
    for i, (ph, _) in enumerate(items):
        if ph in HELD and i > 0:
            shapes[i] = shapes[i - 1]
    for i in range(1, len(items) - 1):
        if items[i][0] in BETWEEN:
            (j0, w0), (j1, w1) = shapes[i - 1], shapes[i + 1]
            shapes[i] = ((j0 + j1) / 2, (w0 + w1) / 2)
    for i in range(len(items) - 2, -1, -1):
        ph = items[i][0]
        if ph in AHEAD and not (i > 0 and _is_pause(items[i - 1][0])):
            shapes[i] = shapes[i + 1]
    rows = []
    pos = 0
    for (_, n), (jaw, width) in zip(items, shapes, strict=True):
        rows.append((pos, pos + n, jaw, width))
        pos += n
    return np.array(rows, np.float32).reshape(-1, 4)


def _is_pause(phoneme: str) -> bool:
    return all(ch in PAUSES for ch in phoneme)


def at(tl: np.ndarray, sample: int) -> Viseme:
    """Mouth pose at a sample position of the timeline (rest outside it)."""
    if len(tl) == 0:
        return REST
    i = int(np.searchsorted(tl[:, 1], sample, side="right"))
    if i >= len(tl) or sample < tl[i, 0]:
        return REST
    return float(tl[i, 2]), float(tl[i, 3])
