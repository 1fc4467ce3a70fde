"""The echo reference: what the kiosk's speaker played, on the shared monotonic clock, so the ear can
tell the visitor's voice from its own coming back through the microphone (and tests can simulate that
path). Pure bookkeeping, no I/O."""

from __future__ import annotations

from collections import deque

import numpy as np
import soxr

from kiosk.utterances import level_dbfs
from models.vad_silero import SAMPLE_RATE

KEEP_NS = 2_000_000_000  # reference older than this can no longer be in the microphone


class EchoReference:
    def __init__(self) -> None:
        self._pieces: deque[tuple[int, np.ndarray]] = deque()  # (t of first sample, 16 kHz int16)

    def add(self, t_ns: int, pcm: np.ndarray, rate: int) -> None:
        if rate != SAMPLE_RATE:
            pcm = soxr.resample(pcm, rate, SAMPLE_RATE)
        self._pieces.append((t_ns, pcm))
        while self._pieces and self._pieces[0][0] < t_ns - KEEP_NS:
            self._pieces.popleft()

    def samples(self, t_ns: int, n: int) -> np.ndarray:
        """The n samples played from time t_ns on (zeros where nothing played)."""
        out = np.zeros(n, np.int16)
        for start, pcm in self._pieces:
            offset = (start - t_ns) * SAMPLE_RATE // 1_000_000_000
            lo, hi = max(0, offset), min(n, offset + len(pcm))
            if lo < hi:
                out[lo:hi] = pcm[lo - offset : hi - offset]
        return out

    def level(self, t_ns: int, window_ns: int) -> float | None:
        """Loudest 32 ms of playback in [t_ns - window_ns, t_ns], in dBFS; None if the speaker was silent."""
        n = window_ns * SAMPLE_RATE // 1_000_000_000
        played = self.samples(t_ns - window_ns, n)
        if not played.any():
            return None
        step = 512
        return max(level_dbfs(played[i : i + step]) for i in range(0, max(1, len(played) - step + 1), step))
