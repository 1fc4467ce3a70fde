"""Endpointing as a pure state machine: VAD probabilities and chunk timestamps in, utterance events out.

No I/O and no clock of its own: every decision depends only on what `feed`, `audio` and `words` are
given, so tests drive it with a synthetic clock.

Adaptive trailing silence: at the first pause of `speculate_ms` the endpointer reports PAUSE; the ear
asks smart-turn whether the voice sounds finished (`audio`, the quicker verdict) and the ASR transcribes
what was said so far (`words`, the slower one). Each verdict names the pause it judged (its last voiced
sample), so one about an earlier pause never ends a later one. They combine as:

- the transcript ends on a filler or an open word ("and", "um", "the"; "和", "嗯", "因为"): not finished,
  whatever the voice;
- a Chinese transcript that sounds finished: end now, whatever the voice (smart-turn does not tell
  finished Mandarin from cut Mandarin: models/completeness.py);
- the voice sounds finished (p >= turn_complete): end now, without waiting for the words;
- the voice sounds unfinished (p <= turn_incomplete): wait `end_silence_hesitant_ms` — Whisper puts a
  question mark after "Where is the nearest", the voice still rising does not;
- otherwise the transcript decides, once the voice's verdict is in: finished, end now; not, wait longer;
- finished-looking words with the voice's verdict late: `end_silence_ms` of silence ends the utterance;
- with neither verdict yet, `end_silence_hesitant_ms` does (a busy machine judges late; that is no reason
  to cut the visitor off), and `end_silence_ms` when no pause was judged at all (speculation off).

No judge is always right, and a visitor who only paused sometimes finds the turn ended. Speech that starts
again within `rejoin_ms` of the last voiced sample of an ended utterance carries that utterance on (START
with `rejoins`). Once it has been speech for `barge_in_ms` it is RESUME: the reply to the fragment gives
way, and the two are one utterance from then on, never discarded; a shorter burst (a click) is discarded
and leaves the ended utterance as it was. The window is measured to the start of the sound that speech
comes in (chunks above the level floor that WebRTC VAD hears as voice), not to Silero's confirmation:
after a silent pause Silero can take a few hundred milliseconds of a loud word to agree that it is speech,
and a visitor who went on well within the window would otherwise count as someone new.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Protocol

MS = 1_000_000
# A sound counts as the start of the speech it runs into only if Silero confirms it within this long:
# a steady noise (a fan WebRTC hears as voice) must not make every later utterance a carried-on one.
ONSET_LEAD_MS = 480


class ListeningSettings(Protocol):
    """What listening reads from the configuration (its `vad` section, described in daemon/config.py)."""

    threshold: float
    neg_threshold: float
    min_speech_ms: int
    end_silence_ms: int
    speculate_ms: int
    end_silence_hesitant_ms: int
    turn_model: str | None
    turn_complete: float
    turn_incomplete: float
    rejoin_ms: int
    barge_in_ms: int
    preroll_ms: int
    max_utterance_s: float
    webrtc_mode: int | None
    min_level_dbfs: float
    echo_margin_db: float


class Kind(Enum):
    START = "start"  # speech began; t_ns = start of the first voiced chunk
    PAUSE = "pause"  # a first pause: probably the end; t_ns = end of the last voiced chunk
    RESUME = "resume"  # a START that rejoins has been speech long enough to carry the last utterance on
    END = "end"  # utterance complete; t_ns = end of the last voiced chunk
    DISCARD = "discard"  # the burst was too short to be speech (cough, click)


@dataclass(frozen=True)
class Endpoint:
    kind: Kind
    t_ns: int
    cut: bool = False  # END forced by the maximum utterance length
    rejoins: bool = False  # START: the visitor carried on the utterance that just ended


class Endpointer:
    def __init__(self, cfg: ListeningSettings, chunk_ns: int) -> None:
        self.cfg = cfg
        self.chunk_ns = chunk_ns
        self.in_speech = False
        self._start_ns = 0
        self._origin_ns = 0  # start of the first utterance a rejoined one carries on (its length counts from it)
        self._last_voiced_ns = 0
        self._ended_ns: int | None = None  # last voiced sample of an utterance speech may still carry on
        self._carries: int | None = None  # ...and of the one the current utterance carries on
        self._resumed = False  # the current utterance has carried the last one on (RESUME reported)
        self._paused = False  # PAUSE reported for the current silence
        self._audio: float | None = None  # smart-turn's probability that the current pause ends the turn
        self._words: bool | None = None  # the current pause's transcript sounds finished
        self._sure = False  # ... surely
        self._end_silence_ns = cfg.end_silence_ms * MS
        self._sound_ns: int | None = None  # start of the sound the current silence chunk belongs to

    def can_carry_on(self, t_ns: int) -> bool:
        """Speech starting in the chunk that ends at `t_ns` would carry the last utterance on."""
        onset = self._sound_ns if self._sound_ns is not None and t_ns - self._sound_ns <= ONSET_LEAD_MS * MS else t_ns
        return self._ended_ns is not None and onset - self.chunk_ns - self._ended_ns <= self.cfg.rejoin_ms * MS

    def audio(self, probability: float, pause_ns: int) -> None:
        """smart-turn's verdict on the pause whose last voiced sample was at `pause_ns`."""
        if self._judging(pause_ns):
            self._audio = probability
            self._decide()

    def words(self, finished: bool, pause_ns: int, sure: bool = False) -> None:
        """Whether the transcript of the pause at `pause_ns` sounds like a finished sentence; `sure`: it ends
        the way only a finished sentence does."""
        if self._judging(pause_ns):
            self._words, self._sure = finished, finished and sure
            self._decide()

    def _judging(self, pause_ns: int) -> bool:
        return self.in_speech and self._paused and pause_ns == self._last_voiced_ns

    def _decide(self) -> None:
        cfg, a, w = self.cfg, self._audio, self._words
        hesitant, now = cfg.end_silence_hesitant_ms * MS, 0
        if w is False:
            self._end_silence_ns = hesitant
        elif self._sure or (a is not None and a >= cfg.turn_complete):
            self._end_silence_ns = now
        elif a is not None and a <= cfg.turn_incomplete:
            self._end_silence_ns = hesitant
        elif w is True and (a is not None or not cfg.turn_model):
            # With a voice model, finished-looking words wait for its verdict: they come first when the
            # machine is busy, and alone they would end "Where is the nearest?" mid-sentence.
            self._end_silence_ns = now
        elif w is True:  # the voice's verdict is late: the usual silence ends the turn
            self._end_silence_ns = cfg.end_silence_ms * MS

    def _unjudged(self) -> None:
        self._paused = False
        self._audio = self._words = None
        self._sure = False
        self._end_silence_ns = self.cfg.end_silence_ms * MS

    def feed(self, prob: float, t_ns: int, sound: bool = False) -> Endpoint | None:
        """One chunk whose last sample was captured at `t_ns`, with the VAD's speech probability; `sound`: it
        is loud enough and voice-like enough to be the start of speech that Silero has not confirmed yet."""
        cfg = self.cfg
        if not self.in_speech:
            if not (sound or prob >= cfg.threshold):
                self._sound_ns = None
            elif self._sound_ns is None:
                self._sound_ns = t_ns
            if prob >= cfg.threshold:
                self.in_speech = True
                self._start_ns = t_ns - self.chunk_ns
                rejoins = self.can_carry_on(t_ns)
                self._sound_ns = None
                self._carries = self._ended_ns if rejoins else None
                self._resumed = False
                if not rejoins:
                    self._origin_ns = self._start_ns
                self._ended_ns = None
                self._last_voiced_ns = t_ns
                self._unjudged()
                return Endpoint(Kind.START, self._start_ns, rejoins=rejoins)
            return None
        if prob >= cfg.neg_threshold:
            self._last_voiced_ns = t_ns
            if self._paused:  # the visitor carried on: the speculation is void, so are its verdicts
                self._unjudged()
        if t_ns - self._origin_ns >= cfg.max_utterance_s * 1e9:
            self.in_speech = False
            return Endpoint(Kind.END, self._last_voiced_ns, cut=True)
        silent_ns = t_ns - self._last_voiced_ns
        voiced_ns = self._last_voiced_ns - self._start_ns
        if self._carries is not None and not self._resumed and voiced_ns >= cfg.barge_in_ms * MS:
            self._resumed = True
            return Endpoint(Kind.RESUME, self._start_ns)
        long_enough = self._resumed or voiced_ns >= cfg.min_speech_ms * MS
        if silent_ns >= self._end_silence_ns:
            self.in_speech = False
            # A cough in the gap leaves the utterance before it open to the visitor's carrying on.
            self._ended_ns = (self._last_voiced_ns if cfg.rejoin_ms else None) if long_enough else self._carries
            return Endpoint(Kind.END if long_enough else Kind.DISCARD, self._last_voiced_ns)
        if cfg.speculate_ms and not self._paused and long_enough and silent_ns >= cfg.speculate_ms * MS:
            self._paused = True
            # Judged from now on: on a busy machine the verdicts can come after `end_silence_ms`, and a
            # silence that ends the turn before either has spoken cuts off a visitor who only paused.
            self._end_silence_ns = max(self._end_silence_ns, cfg.end_silence_hesitant_ms * MS)
            return Endpoint(Kind.PAUSE, self._last_voiced_ns)
        return None
