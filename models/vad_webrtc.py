"""WebRTC VAD (webrtcvad-wheels): a cheap second opinion that gates Silero. It fires on broadband noise
by itself, Silero rejects that; together a chunk is speech only when both agree."""

from __future__ import annotations

import numpy as np
import webrtcvad

SAMPLE_RATE = 16000
FRAME = 480  # 30 ms, the longest frame WebRTC VAD accepts at 16 kHz


class WebRtcVad:
    def __init__(self, mode: int = 2) -> None:
        if mode not in (0, 1, 2, 3):
            raise ValueError(f"WebRTC VAD mode must be 0-3, got {mode}")
        self._vad = webrtcvad.Vad(mode)

    def __call__(self, chunk: np.ndarray) -> bool:
        """Whether the first 30 ms of a 16 kHz int16 chunk sound like speech."""
        return bool(self._vad.is_speech(chunk[:FRAME].astype(np.int16).tobytes(), SAMPLE_RATE))
