"""Offline video: the kiosk's own voice and face stages in one process, rendering a photo that says a text
(or moves its mouth to a recording) into an MP4 (H.264 + AAC) as fast as the machine can.

No rings, no worker processes, no real-time pacing: the stages talk through local ports and the face runs
on a clock that jumps from frame to frame (daemon/stage.py `ManualClock`), so its recording shows every
frame at its place while frames take what they take. The face is the live kiosk's, idle motion, blinks,
gaze, nods, moods and mouth included; the voices are the kiosk's, figures written out as they say them, a
sentence in Chinese said by the Chinese one. A text is synthesised and drawn one sentence at a time, so
memory stays flat however long it is.

The file is written beside the output under a temporary name and renamed over it only when complete: an
interrupted or failed render leaves nothing at the output path, and no temporary file either.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import numpy as np

from daemon.config import Config
from daemon.messages import Message, Reference, ReplyEnd, Sentence, Speech
from daemon.render_inputs import RenderJob
from daemon.stage import LocalPort, ManualClock
from models import loudness_visemes
from models.mood import Mood

LEAD_S = 0.5  # the face at rest before the first word and after the last
PAUSE_S = 0.4  # between two sentences: the mouth rests, the face goes on moving
TURN = 1  # the whole render is one reply
ENCODER_THREADS = 2  # x264 encodes on the other core while the face draws the next frame


class _Port(LocalPort):
    """The face's port: the echo reference it sends every frame has no ear to go to here."""

    def send(self, msg: Message) -> bool:
        if not isinstance(msg.body, Reference):
            self.sent.append(msg)
        return True


@dataclass(frozen=True)
class Rendered:
    path: Path
    video_s: float  # the video's length
    setup_s: float  # wall time loading the voice, the portrait and the rig
    render_s: float  # wall time synthesising, drawing and encoding

    @property
    def speed(self) -> float:
        """Seconds of video per second of rendering (above 1: faster than real time)."""
        return self.video_s / max(self.render_s, 1e-9)


class OfflineRender:
    """One MP4 at `out`. Use as a context manager: leaving it by an exception (an interrupt included)
    deletes what was written; `finish` closes the file and puts it in place."""

    def __init__(self, config: Config, out: Path, *, voice: bool = True, seed: int | None = None) -> None:
        from daemon.workers.face import Face  # pygame and the landmark model: only when rendering
        from daemon.workers.voice import Voice

        began = time.monotonic()
        self.out = out
        self.fps = config.face.fps
        self._face_port = _Port()
        self._voice_port = LocalPort()
        self.voice = None
        self.face = None
        self._part: Path | None = None
        try:
            fd, part = tempfile.mkstemp(dir=out.parent, prefix=f".{out.stem}.", suffix=".part.mp4")
            self._part = Path(part)
            os.close(fd)
            # The portrait first: a photo the face cannot use is refused before the voice loads.
            self.face = Face(config, self._face_port, {"display": "offscreen", "record": str(self._part),
                                                       "speaker": False, "seed": seed,
                                                       "record_threads": ENCODER_THREADS,
                                                       "record_fragmented": False},
                             clock=ManualClock(t_ns=1_000_000_000))
            self.face.setup()
            if voice:
                self.voice = Voice(config, self._voice_port, {"ready_answers": False})
                self.voice.setup()
        except BaseException:
            self._discard()
            raise
        self._seq = 0
        self.frames = 0
        self.setup_s = time.monotonic() - began
        self._began = time.monotonic()

    def __enter__(self) -> OfflineRender:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if kind is not None:
            self._discard()

    # -- what a render is made of ----------------------------------------------------------------
    def rest(self, seconds: float) -> None:
        """The face goes on for this long with nothing new to say."""
        for _ in range(round(seconds * self.fps)):
            self._tick()

    def say(self, text: str, mood: Mood, language: str = "en") -> Iterator[float]:
        """Synthesise one sentence in the voice of its language and draw the face saying it, to its last sample;
        yields the share of the sentence's frames drawn after each frame."""
        assert self.voice is not None, "made with voice=False"
        self.voice.handle(Message(Sentence(text, mood.value, language), TURN, self._seq))
        speech_s = 0.0
        for msg in self._voice_port.take():
            if isinstance(msg.body, Speech):
                speech_s += len(msg.body.samples()) / msg.body.rate
            self.face.handle(msg)
        self._seq += 1
        frames = max(speech_s * self.fps, 1.0)
        for drawn in self._play_out():
            yield min(drawn / frames, 1.0)

    def play(self, pcm: np.ndarray, rate: int) -> Iterator[int]:
        """A recording (int16 mono at `rate`), its mouth following its loudness; phrase by phrase, each queued
        while the one before plays so they join without a gap. Yields after each phrase starts."""
        gate = loudness_visemes.silence_gate(pcm, rate)
        for a, b in loudness_visemes.phrases(pcm, rate):
            part = pcm[a:b]
            rows = loudness_visemes.timeline(part, rate, gate)
            self.face.handle(Message(Speech(part.tobytes(), rate, tuple(map(tuple, rows.tolist())), ""), TURN, self._seq))
            self._seq += 1
            while self.face.playback.queue:  # until it has started
                self._tick()
            yield b
        for _ in self._play_out():
            pass

    def finish(self) -> Rendered:
        """End the reply, rest LEAD_S, close the file and put it at the output path."""
        self.face.handle(Message(ReplyEnd(), TURN, self._seq))
        self.rest(LEAD_S)
        face, self.face = self.face, None  # an interrupt inside the encoders' flush must not tear down twice
        face.teardown()
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(self._part, 0o666 & ~umask)  # as an ordinary new file, not the temporary file's 0600
        os.replace(self._part, self.out)
        return Rendered(self.out, self.frames / self.fps, self.setup_s, time.monotonic() - self._began)

    # -- inside ----------------------------------------------------------------------------------
    def _tick(self) -> None:
        self.face.tick()
        self.frames += 1

    def _play_out(self) -> Iterator[int]:
        """Draw until everything handed to the face has been heard; yields the frames drawn so far."""
        drawn = 0
        while self.face.playback.current is not None or self.face.playback.queue:
            self._tick()
            drawn += 1
            yield drawn

    def _discard(self) -> None:
        face, self.face = self.face, None
        try:
            if face is not None:
                if getattr(face, "recorder", None) is not None:  # None: setup failed before making it
                    face.recorder.abort()  # the file is deleted: no need to flush the encoders into it
                face.teardown()
        finally:
            if self._part is not None:
                self._part.unlink(missing_ok=True)


def perform(render: OfflineRender, job: RenderJob, progress: Callable[[float], None]) -> Rendered:
    """The whole of `job` on `render`, then the file put in place. `progress` is told the share done (0-1):
    after every frame of a text (each sentence weighed by its length), after each phrase of a recording starts."""
    render.rest(LEAD_S)
    if job.audio is not None:
        for done in render.play(job.audio, job.audio_rate):
            progress(done / len(job.audio))
    else:
        total = sum(len(text) for text, _, _ in job.sentences)
        said = 0
        for i, (text, mood, language) in enumerate(job.sentences):
            if i:
                render.rest(PAUSE_S)
            for share in render.say(text, mood, language):
                progress((said + share * len(text)) / total)
            said += len(text)
    return render.finish()
