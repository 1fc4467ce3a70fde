"""What every voice gives back, whichever engine made it: int16 PCM and the phonemes it is made of, each with
how many samples it lasts (the mouth follows them, models/visemes.py). Piper (models/tts_piper.py) and espeak-ng
(models/tts_espeak.py) both return a `Speech`; the voice worker holds each as a `Tts`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class Speech:
    pcm: np.ndarray  # int16 mono
    rate: int
    phonemes: list[tuple[str, int]]  # (IPA phoneme, samples), in order, covering the whole clip
    drift: int = 0  # samples the model's own alignment was short of the audio (given to the last phoneme)


class Tts(Protocol):
    rate: int
    key: str  # what decides its sound besides its file (settings, version): part of the disk speech cache's key

    def synthesize(self, text: str) -> Speech: ...
