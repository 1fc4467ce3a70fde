"""Ear worker: capture, Silero VAD, endpointing; sends each utterance (with pre-roll) to ASR."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from daemon.audio_sources import CHUNK_NS, Chunk, FileSource, MicSource, MicUnavailable
from daemon.endpointing import Endpointer, Kind
from daemon.messages import UTTERANCE, Message, new_turn_id
from daemon.worker import Worker
from models.vad_silero import CHUNK, SAMPLE_RATE, SileroVad


class Ear(Worker):
    name = "ear"
    wait_s = 0.0  # the source paces the loop

    def setup(self) -> None:
        source = self.options["audio_in"]
        self.file = None if source in ("mic", "none") else FileSource(Path(source))
        self.mode = "file" if self.file else source
        self.vad = SileroVad()
        self.endpointer = Endpointer(self.config.vad, CHUNK_NS)
        self.preroll: deque[np.ndarray] = deque(maxlen=max(1, self.config.vad.preroll_ms * SAMPLE_RATE // 1000 // CHUNK))
        self.utterance: list[np.ndarray] = []
        self.turn = 0
        self.chunks: Iterator[Chunk] | None = None
        self._next_mic_try = 0.0
        self._ended = False

    def tick(self) -> None:
        if not self.started or self._ended:
            time.sleep(0.02)
            return
        if self.chunks is None and not self._open():
            time.sleep(0.05)
            return
        assert self.chunks is not None
        try:
            pcm, t_ns = next(self.chunks)
        except StopIteration:
            self._end_of_input()
        except MicUnavailable as exc:
            self.chunks = None
            self.status(f"Microphone lost ({exc}); retrying every {self.config.audio_in.retry_s:g} s", problem=True)
        else:
            self._process(pcm, t_ns)

    def _open(self) -> bool:
        if self.mode == "file":
            assert self.file is not None
            self.chunks = self.file.chunks()
            self.status(f"listening to {self.file.path.name} ({len(self.file.pcm) / SAMPLE_RATE:.1f} s)")
            return True
        if self.mode == "none" or time.monotonic() < self._next_mic_try:
            return False
        self._next_mic_try = time.monotonic() + self.config.audio_in.retry_s
        try:
            self.chunks = MicSource(self.config.audio_in.device).chunks()
        except MicUnavailable as exc:
            self.status(f"No microphone: {exc}. Retrying every {self.config.audio_in.retry_s:g} s", problem=True)
            return False
        self.status("listening")
        return True

    def _process(self, pcm: np.ndarray, t_ns: int) -> None:
        ep = self.endpointer.feed(self.vad(pcm), t_ns)
        if self.endpointer.in_speech or (ep and ep.kind is not Kind.START):
            self.utterance.append(pcm)
        if ep is None:
            if not self.endpointer.in_speech:
                self.preroll.append(pcm)
            return
        if ep.kind is Kind.START:
            self.turn = new_turn_id()
            self.utterance = [*self.preroll, pcm]
            self.preroll.clear()
            self.emit("speech_start", self.turn, ep.t_ns)
        elif ep.kind is Kind.DISCARD:
            self.emit("speech_discarded", self.turn, ep.t_ns)
            self.utterance = []
        else:
            audio = np.concatenate(self.utterance)
            self.utterance = []
            self.emit("speech_end", self.turn, ep.t_ns, audio_ms=round(len(audio) / SAMPLE_RATE * 1000), cut=ep.cut)
            self.send(Message(UTTERANCE, self.turn, t_ns=ep.t_ns, payload=audio.tobytes()))

    def _end_of_input(self) -> None:
        # Like a microphone that goes on hearing silence: let a trailing utterance reach its endpoint.
        silence = np.zeros(CHUNK, np.int16)
        while self.endpointer.in_speech:
            time.sleep(CHUNK_NS / 1e9)
            self._process(silence, time.monotonic_ns())
        self._ended = True
        self.emit("input_end")


WORKER = Ear
