"""Acoustic echo cancellation with SpeexDSP's MDF canceller (Debian's libspeexdsp, `speexdsp` bindings):
removes the kiosk's own voice from the microphone, given what the speaker played (tests/test_aec.py checks
the echo it removes and that the visitor's voice is untouched)."""

from __future__ import annotations

import numpy as np
from speexdsp import EchoCanceller

FRAME = 256  # samples per MDF frame (16 ms at 16 kHz)
TAIL = 2048  # filter length: echo paths up to 128 ms


class SpeexAec:
    def __init__(self, rate: int = 16000) -> None:
        self._ec = EchoCanceller.create(FRAME, TAIL, rate)

    def __call__(self, mic: np.ndarray, far: np.ndarray) -> np.ndarray:
        """The microphone chunk with the far-end (speaker) signal's echo removed; lengths: multiples of FRAME."""
        out = np.empty_like(mic)
        for i in range(0, len(mic), FRAME):
            out[i : i + FRAME] = np.frombuffer(
                self._ec.process(mic[i : i + FRAME].tobytes(), far[i : i + FRAME].tobytes()), np.int16)
        return out
