"""From microphone chunks to utterances: VAD (Silero, gated by WebRTC VAD and a level floor), endpointing
and pre-roll. No I/O, no clock of its own: the ear worker and the robustness tests run this same code.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from kiosk.audio_sources import CHUNK_NS
from kiosk.endpointing import Endpointer, Kind, ListeningSettings
from models.vad_silero import CHUNK, SAMPLE_RATE, SileroVad
from models.vad_webrtc import WebRtcVad

SOUND_RISE_DB = 12  # over the gap's quietest chunk: a word starting, not the room going on


@dataclass(frozen=True)
class Detected:
    kind: Kind
    t_ns: int  # START and RESUME: first voiced sample; PAUSE/END/DISCARD: last voiced sample
    audio: np.ndarray | None = None  # PAUSE (so far) and END: the utterance with its pre-roll
    cut: bool = False
    rejoins: bool = False  # START: carries on the utterance that just ended, whose audio it now begins with


def level_dbfs(chunk: np.ndarray) -> float:
    rms = float(np.sqrt(np.mean(chunk.astype(np.float64) ** 2)))
    return 20 * np.log10(max(rms, 1e-9) / 32768)


class UtteranceDetector:
    def __init__(self, cfg: ListeningSettings, silero: SileroVad | None = None) -> None:
        self.cfg = cfg
        self.silero = silero or SileroVad()
        self.webrtc = WebRtcVad(cfg.webrtc_mode) if cfg.webrtc_mode is not None else None
        self.endpointer = Endpointer(cfg, CHUNK_NS)
        self.preroll: deque[np.ndarray] = deque(maxlen=max(1, cfg.preroll_ms * SAMPLE_RATE // 1000 // CHUNK))
        self.utterance: list[np.ndarray] = []
        # The last utterance and the silence after it, while speech may still carry it on.
        self.carried: list[np.ndarray] = []
        self._quietest = 0.0  # dBFS of the quietest chunk since speech last ended

    @property
    def in_speech(self) -> bool:
        return self.endpointer.in_speech

    def audio(self, probability: float, pause_ns: int) -> None:
        self.endpointer.audio(probability, pause_ns)

    def words(self, finished: bool, pause_ns: int, sure: bool = False) -> None:
        self.endpointer.words(finished, pause_ns, sure)

    def _judge(self, chunk: np.ndarray, echo_dbfs: float | None) -> tuple[float, bool]:
        """(probability, sound). The probability is Silero's, zeroed when the chunk is too quiet, no louder than
        the kiosk's own voice coming back (`echo_dbfs`: the level the speaker just played) by the echo margin,
        or when WebRTC VAD disagrees; Silero runs on every chunk regardless: its recurrent state must see the
        whole stream. Sound is a chunk that passes those gates and rises SOUND_RISE_DB over the quietest chunk
        since speech last ended, whatever Silero says of it: the start of speech that Silero may confirm only
        later. The rise keeps a steady fan or murmur, which WebRTC often hears as voice, from counting."""
        p = self.silero(chunk)
        level = level_dbfs(chunk - int(chunk.mean()))
        if not self.endpointer.in_speech:
            self._quietest = min(self._quietest, level)
        if level < self.cfg.min_level_dbfs:
            return 0.0, False
        if echo_dbfs is not None and level < echo_dbfs - self.cfg.echo_margin_db:
            return 0.0, False
        voiced = self.webrtc is None or self.webrtc(chunk)
        if p >= self.cfg.neg_threshold and not voiced:
            return 0.0, False
        return p, voiced and level - self._quietest >= SOUND_RISE_DB

    def feed(self, chunk: np.ndarray, t_ns: int, echo_dbfs: float | None = None) -> Detected | None:
        """One chunk of CHUNK samples whose last sample was captured at `t_ns`."""
        p, sound = self._judge(chunk, echo_dbfs)
        ep = self.endpointer.feed(p, t_ns, sound)
        if self.endpointer.in_speech or (ep and ep.kind is not Kind.START):
            self.utterance.append(chunk)
        if ep is None:
            if not self.endpointer.in_speech:
                self.preroll.append(chunk)
                self._carry(chunk, t_ns)
            return None
        if ep.kind is Kind.START:
            self._quietest = 0.0
            self.utterance = [*(self.carried if ep.rejoins else self.preroll), chunk]
            self.preroll.clear()
            if not ep.rejoins:
                self.carried = []
            return Detected(Kind.START, ep.t_ns, rejoins=ep.rejoins)
        if ep.kind is Kind.PAUSE:
            return Detected(Kind.PAUSE, ep.t_ns, np.concatenate(self.utterance))
        if ep.kind is Kind.RESUME:
            return Detected(Kind.RESUME, ep.t_ns)
        audio, self.utterance = self.utterance, []
        if ep.kind is Kind.DISCARD:
            # A cough in the gap after an utterance: kept with it, should the visitor carry on.
            self.carried = audio if self.carried else []
            return Detected(Kind.DISCARD, ep.t_ns)
        self.carried = audio if self.cfg.rejoin_ms and not ep.cut else []
        return Detected(Kind.END, ep.t_ns, np.concatenate(audio), ep.cut)

    def _carry(self, chunk: np.ndarray, t_ns: int) -> None:
        if self.carried:
            self.carried.append(chunk)
            if not self.endpointer.can_carry_on(t_ns):
                self.carried = []
