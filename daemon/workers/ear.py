"""Ear worker: capture, and the utterance detector (VAD, endpointing, pre-roll); sends each utterance to ASR.

At a pause it also asks smart-turn whether the voice sounds finished, on a thread of its own so
the capture never waits; the verdict reaches the endpointer before the next chunk that follows it.
A visitor who carries on soon after a turn was ended opens a turn that `continues` it: once they have
said enough to be speech, the fragment's reply is dropped and the two are heard as one.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np

from daemon.commands import Command, Hear, Opening, Words
from daemon.events import Event
from daemon.messages import Message, Reference, Utterance, new_turn_id
from daemon.stage import Stage
from kiosk.audio_sources import CHUNK_NS, AudioInputError, Chunk, FileSource, MicSource, MicUnavailable
from kiosk.echo import EchoReference
from kiosk.endpointing import Kind
from kiosk.utterances import Detected, UtteranceDetector
from models.aec_speex import SpeexAec
from models.turn_end import SmartTurn
from models.vad_silero import CHUNK, SAMPLE_RATE, SileroVad

ECHO_PATH_NS = 150_000_000
# The face reports what it played once per frame, so the newest ~35 ms of reference may not be here yet;
# the canceller is fed the reference that much earlier (its filter absorbs the offset, as long as the
# real speaker-to-microphone path, device buffers included, is longer).
REFERENCE_LAG_NS = 35_000_000
JUDGE_NICE = 5  # added to the smart-turn thread's niceness


class Ear(Stage):
    wait_s = 0.0  # the source paces the loop

    def setup(self) -> None:
        source = self.options["audio_in"]
        self.file = None if source in ("mic", "none") else FileSource(Path(source))
        self.mode = "file" if self.file else source
        self.silero = SileroVad(choice=self.config.accel.choose("vad"))
        self.detector = UtteranceDetector(self.config.vad, self.silero)
        self.echo = EchoReference()
        self.aec = SpeexAec(SAMPLE_RATE) if self.config.audio_in.aec else None
        model = self.config.vad.turn_model
        self.turn_model = SmartTurn(model, choice=self.config.accel.choose("turn_end")) if model else None
        # Niced: at a pause the ASR is transcribing on both cores, and the transcript is what the reply
        # waits for; smart-turn takes what it leaves (its verdict is only needed by the time the words').
        self.judge = ThreadPoolExecutor(1, thread_name_prefix="smart-turn",
                                        initializer=lambda: os.nice(JUDGE_NICE))
        self.judging: tuple[int, int, int, Future[float]] | None = None  # turn, pause, asked at, verdict
        self.to_judge: tuple[int, int, np.ndarray] | None = None  # the newest pause not yet asked about
        self.barged = False
        self.speech_start_ns = 0
        self.turn = 0
        self.continues = 0  # the turn the current one carries on (0: none)
        self.ended = 0  # the last turn heard to its end: the one speech that resumes soon carries on
        self.closed = False  # outside opening hours: what the microphone hears is read and dropped
        self.chunks: Iterator[Chunk] | None = None
        self.injected: Iterator[Chunk] | None = None
        self._next_mic_try = 0.0
        self._ended = False

    def handle(self, msg: Message) -> None:
        match msg.body:
            case Reference(pcm=pcm, rate=rate):
                self.echo.add(msg.t_ns, np.frombuffer(pcm, np.int16), rate)

    def on_command(self, cmd: Command) -> None:
        match cmd:
            case Words(turn=turn, finished=finished, pause_ns=pause_ns, sure=sure) if turn == self.turn:
                self.detector.words(finished, pause_ns, sure)
            case Hear(path=path):
                self._inject(Path(path))
            case Opening(open=is_open):
                if not is_open and not self.closed:  # a visitor's turn cut by the closing is not kept
                    self.silero.reset()  # the model stays loaded on its backend; only its state goes
                    self.detector = UtteranceDetector(self.config.vad, self.silero)
                self.closed = not is_open

    def _inject(self, path: Path) -> None:
        """`kioskctl hear FILE`: play a recording into the ear now, as if spoken into the microphone
        (remote checks and benchmarks); the live source pauses until its utterance has ended."""
        try:
            source = FileSource(path)
        except AudioInputError as exc:
            self.emit(Event.HEAR_FAILED, error=str(exc))
            return
        self.emit(Event.HEAR_START, path=str(path), audio_ms=round(len(source.pcm) * 1000 / SAMPLE_RATE))
        self.injected = itertools.chain(source.chunks(), self._silence_until_endpoint())

    def _silence_until_endpoint(self) -> Iterator[Chunk]:
        # Like a microphone that goes on hearing silence: let a trailing utterance reach its endpoint.
        silence = np.zeros(CHUNK, np.int16)
        due = time.monotonic_ns()
        while self.detector.in_speech:
            due += CHUNK_NS
            time.sleep(max(0.0, (due - time.monotonic_ns()) / 1e9))
            yield silence, due

    def tick(self) -> None:
        for msg in self.port.pending():  # every reference piece, before the audio
            self.handle(msg)
        self._collect_verdict()
        if not self.started or self._ended:
            time.sleep(0.02)
            return
        if self.injected is not None:
            chunk = next(self.injected, None)
            if chunk is None:
                self.injected = None
                self.emit(Event.HEAR_END)
            else:
                self._process(*chunk)
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
        if self.closed:
            return
        c = self.config
        chunk_start = t_ns - CHUNK_NS
        if c.audio_in.echo_gain:
            echo = self.echo.samples(chunk_start - c.audio_in.echo_delay_ms * 1_000_000, len(pcm))
            pcm = (pcm + echo * c.audio_in.echo_gain).clip(-32768, 32767).astype(np.int16)
        if self.aec is not None:
            pcm = self.aec(pcm, self.echo.samples(chunk_start - REFERENCE_LAG_NS, len(pcm)))
        # The speaker's output reaches the microphone within a room's echo path (~100 ms).
        echo_dbfs = self.echo.level(t_ns, CHUNK_NS + ECHO_PATH_NS)
        ep = self.detector.feed(pcm, t_ns, echo_dbfs)
        if ep is not None:
            self._on_endpoint(ep, t_ns)
        if self.detector.in_speech and not self.barged and not self.continues and echo_dbfs is not None \
                and t_ns - self.speech_start_ns >= c.vad.barge_in_ms * 1_000_000:
            # The visitor has kept talking over the reply: stop it (the supervisor interrupts older turns).
            self.barged = True
            self.emit(Event.BARGE_IN, self.turn, t_ns, speech_start_ns=self.speech_start_ns)

    def _on_endpoint(self, ep: Detected, t_ns: int) -> None:
        if ep.kind is Kind.START:
            self.turn = new_turn_id()
            self.continues = self.ended if ep.rejoins else 0
            self.speech_start_ns = ep.t_ns
            self.barged = False
            self.emit(Event.SPEECH_START, self.turn, ep.t_ns, continues=self.continues)
        elif ep.kind is Kind.PAUSE:
            # Probably the end: let ASR start now; if the visitor carries on, the speculation is discarded.
            assert ep.audio is not None
            self.emit(Event.SPEECH_PAUSE, self.turn, ep.t_ns)
            self.send(Message(Utterance(ep.audio.tobytes(), speculative=True, continues=self.continues),
                              self.turn, t_ns=ep.t_ns))
            if self.turn_model is not None:
                self.to_judge = (self.turn, ep.t_ns, ep.audio)
                self._collect_verdict()
        elif ep.kind is Kind.RESUME:
            # The fragment's reply, spoken or not yet, gives way (the supervisor interrupts older turns).
            self.emit(Event.SPEECH_RESUMED, self.turn, ep.t_ns, continues=self.continues)
        elif ep.kind is Kind.DISCARD:
            self.emit(Event.SPEECH_DISCARDED, self.turn, ep.t_ns)
        else:
            assert ep.audio is not None
            audio = ep.audio
            self.ended = self.turn
            # endpoint_ns: capture time of the chunk that completed the trailing silence (endpointing cost).
            self.emit(Event.SPEECH_END, self.turn, ep.t_ns, endpoint_ns=t_ns, audio_ms=round(len(audio) / SAMPLE_RATE * 1000),
                      cut=ep.cut)
            self.send(Message(Utterance(audio.tobytes(), continues=self.continues), self.turn, t_ns=ep.t_ns))

    def _collect_verdict(self) -> None:
        """Hand a finished smart-turn verdict to the endpointer, then ask about the newest pause waiting
        (one at a time: a pause the visitor has already talked through is not worth 100 ms)."""
        if self.judging is not None and self.judging[3].done():
            turn, pause_ns, asked_ns, verdict = self.judging
            self.judging = None
            try:
                p = verdict.result()
            except Exception as exc:  # a model failing at run time leaves the transcript to judge
                self.emit(Event.TURN_AUDIO_FAILED, turn, error=str(exc))
            else:
                self.emit(Event.TURN_AUDIO, turn, probability=round(p, 3), pause_ns=pause_ns,
                          ms=round((time.monotonic_ns() - asked_ns) / 1e6, 1))
                if turn == self.turn:
                    self.detector.audio(p, pause_ns)
        if self.judging is None and self.to_judge is not None and self.turn_model is not None:
            turn, pause_ns, audio = self.to_judge
            self.to_judge = None
            self.judging = (turn, pause_ns, time.monotonic_ns(), self.judge.submit(self.turn_model, audio))

    def teardown(self) -> None:
        if getattr(self, "judge", None) is not None:
            self.judge.shutdown(wait=False, cancel_futures=True)

    def _end_of_input(self) -> None:
        for chunk in self._silence_until_endpoint():
            self._process(*chunk)
        self._ended = True
        self.emit(Event.INPUT_END)


WORKER = Ear
