"""Endpointing as a pure state machine: VAD probabilities and chunk timestamps in, utterance events out.

No I/O and no clock of its own: every decision depends only on what `feed` is given, so tests drive it
with a synthetic clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from daemon.config import VadConfig


class Kind(Enum):
    START = "start"  # speech began; t_ns = start of the first voiced chunk
    END = "end"  # utterance complete; t_ns = end of the last voiced chunk
    DISCARD = "discard"  # the burst was too short to be speech (cough, click)


@dataclass(frozen=True)
class Endpoint:
    kind: Kind
    t_ns: int
    cut: bool = False  # END forced by the maximum utterance length


class Endpointer:
    def __init__(self, cfg: VadConfig, chunk_ns: int) -> None:
        self.cfg = cfg
        self.chunk_ns = chunk_ns
        self.in_speech = False
        self._start_ns = 0
        self._last_voiced_ns = 0

    def feed(self, prob: float, t_ns: int) -> Endpoint | None:
        """One chunk whose last sample was captured at `t_ns`, with the VAD's speech probability."""
        ms = 1_000_000
        if not self.in_speech:
            if prob >= self.cfg.threshold:
                self.in_speech = True
                self._start_ns = t_ns - self.chunk_ns
                self._last_voiced_ns = t_ns
                return Endpoint(Kind.START, self._start_ns)
            return None
        if prob >= self.cfg.neg_threshold:
            self._last_voiced_ns = t_ns
        if t_ns - self._start_ns >= self.cfg.max_utterance_s * 1e9:
            self.in_speech = False
            return Endpoint(Kind.END, self._last_voiced_ns, cut=True)
        if t_ns - self._last_voiced_ns >= self.cfg.end_silence_ms * ms:
            self.in_speech = False
            if self._last_voiced_ns - self._start_ns < self.cfg.min_speech_ms * ms:
                return Endpoint(Kind.DISCARD, self._last_voiced_ns)
            return Endpoint(Kind.END, self._last_voiced_ns)
        return None
