"""Audio playback on the master clock.

The playback clock decides which sample is being heard now; the mouth is looked up at that sample and
the recording takes exactly the samples the clock hands out, so picture, sound and recording agree.
A speaker, when there is one, is fed each clip as the clock starts it.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from models.mood import Mood
from models.visemes import REST, Viseme, at


@dataclass
class Clip:
    turn: int
    seq: int
    pcm: np.ndarray  # int16 mono at the playback rate
    timeline: np.ndarray  # viseme rows (start, end, jaw, width) in samples
    text: str = ""
    mood: Mood = Mood.NEUTRAL
    last: bool = False  # the final clip of its turn's reply
    arrival_ns: int = 0
    start_index: int = field(default=0, init=False)  # clock sample at which it started


@dataclass(frozen=True)
class PlayEvent:
    kind: str  # "start" or "end"
    clip: Clip
    t_ns: int


class Speaker(Protocol):
    def play(self, pcm: np.ndarray) -> None: ...
    def stop(self) -> None: ...


class Playback:
    def __init__(self, rate: int, t0_ns: int, speaker: Speaker | None = None) -> None:
        self.rate = rate
        self.t0_ns = t0_ns
        self.speaker = speaker
        self.queue: deque[Clip] = deque()
        self.current: Clip | None = None
        self.played = 0  # samples handed out since t0 (silence included)

    def _t_ns(self, index: int) -> int:
        return self.t0_ns + index * 1_000_000_000 // self.rate

    def enqueue(self, clip: Clip) -> None:
        self.queue.append(clip)

    def drop_upto(self, turn: int) -> list[PlayEvent]:
        """Interrupt: silence the current clip at once if it belongs to `turn` or earlier, drop queued ones."""
        self.queue = deque(c for c in self.queue if c.turn > turn)
        if self.current is not None and self.current.turn <= turn:
            clip, self.current = self.current, None
            if self.speaker is not None:
                self.speaker.stop()
            return [PlayEvent("end", clip, self._t_ns(self.played))]
        return []

    def advance(self, now_ns: int) -> tuple[np.ndarray, list[PlayEvent]]:
        """Samples heard since the last call (silence where nothing played) and clip starts/ends among them."""
        target = max(self.played, (now_ns - self.t0_ns) * self.rate // 1_000_000_000)
        out = np.zeros(target - self.played, np.int16)
        events: list[PlayEvent] = []
        pos = self.played
        while pos < target:
            if self.current is None:
                if not self.queue:
                    break
                clip = self.queue[0]
                # A clip cannot be heard before it arrived.
                start = max(pos, math.ceil((clip.arrival_ns - self.t0_ns) * self.rate / 1e9))
                if start >= target:
                    break
                self.queue.popleft()
                clip.start_index = start
                self.current = clip
                pos = start
                events.append(PlayEvent("start", clip, self._t_ns(start)))
                if self.speaker is not None:
                    self.speaker.play(clip.pcm)
            clip = self.current
            offset = pos - clip.start_index
            n = min(target - pos, len(clip.pcm) - offset)
            out[pos - self.played : pos - self.played + n] = clip.pcm[offset : offset + n]
            pos += n
            if offset + n >= len(clip.pcm):
                events.append(PlayEvent("end", clip, self._t_ns(pos)))
                self.current = None
        self.played = target
        return out, events

    def mouth(self, lead: int = 0, span: int = 0) -> Viseme:
        """Mouth pose `lead` samples after the sample being heard now. Lips that close anywhere in the
        `span` samples from there show closed: an m, b or p often lasts less than a frame, and a frame that
        missed it would never show the lips meet."""
        if self.current is None:
            return REST
        tl = self.current.timeline
        pos = self.played - self.current.start_index + lead
        if span and np.any((tl[:, 0] < pos + span) & (tl[:, 1] > pos) & (tl[:, 2] == 0)):
            return REST
        return at(tl, pos)
