"""Endpointing as a pure state machine: VAD probabilities and chunk timestamps in, utterance events out.

No I/O and no clock of its own: every decision depends only on what `feed` is given (and on `pace`,
the speculative transcript's verdict), so tests drive it with a synthetic clock.

Adaptive trailing silence: at the first pause of `speculate_ms` the endpointer reports PAUSE, and the
ASR transcribes what was said so far. If that sounds finished, `pace(finished=True)` ends the utterance
at once (the transcript is already there); after a hesitation or a filler ("and", "um") `pace(False)`
waits longer; with no verdict, `end_silence_ms` decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from daemon.config import VadConfig

MS = 1_000_000


class Kind(Enum):
    START = "start"  # speech began; t_ns = start of the first voiced chunk
    PAUSE = "pause"  # a first pause: probably the end; t_ns = end of the last voiced chunk
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
        self._paused = False  # PAUSE reported for the current silence
        self._end_silence_ns = cfg.end_silence_ms * MS

    def pace(self, finished: bool) -> None:
        """The speculative transcript of the current pause sounds finished (end now) or not (wait longer)."""
        if self.in_speech and self._paused:
            self._end_silence_ns = 0 if finished else self.cfg.end_silence_hesitant_ms * MS

    def feed(self, prob: float, t_ns: int) -> Endpoint | None:
        """One chunk whose last sample was captured at `t_ns`, with the VAD's speech probability."""
        cfg = self.cfg
        if not self.in_speech:
            if prob >= cfg.threshold:
                self.in_speech = True
                self._start_ns = t_ns - self.chunk_ns
                self._last_voiced_ns = t_ns
                self._paused = False
                self._end_silence_ns = cfg.end_silence_ms * MS
                return Endpoint(Kind.START, self._start_ns)
            return None
        if prob >= cfg.neg_threshold:
            self._last_voiced_ns = t_ns
            if self._paused:  # the visitor carried on: the speculation is void, so is its verdict
                self._paused = False
                self._end_silence_ns = cfg.end_silence_ms * MS
        if t_ns - self._start_ns >= cfg.max_utterance_s * 1e9:
            self.in_speech = False
            return Endpoint(Kind.END, self._last_voiced_ns, cut=True)
        silent_ns = t_ns - self._last_voiced_ns
        long_enough = self._last_voiced_ns - self._start_ns >= cfg.min_speech_ms * MS
        if silent_ns >= self._end_silence_ns:
            self.in_speech = False
            return Endpoint(Kind.END if long_enough else Kind.DISCARD, self._last_voiced_ns)
        if cfg.speculate_ms and not self._paused and long_enough and silent_ns >= cfg.speculate_ms * MS:
            self._paused = True
            return Endpoint(Kind.PAUSE, self._last_voiced_ns)
        return None
