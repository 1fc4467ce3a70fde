"""Face worker: the render loop. Plays reply audio on the master clock, moves the mouth with the phoneme
at the sample being heard, moves the head, eyes and brows as the conversation's state asks
(kiosk/behaviour.py), shows captions and problems, and records what it shows and plays. With a neural
face driver configured (face.driver), the driver draws the speaking mouth and the rig stands in for it
whenever its answer is late.
"""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np
import soxr

from daemon.commands import Command, Opening, Screenshot, Status, Visitor
from daemon.events import Event
from daemon.messages import Message, Reference, ReplyEnd, Speech
from daemon.neural_mouth import NeuralMouth
from daemon.stage import Stage
from kiosk.behaviour import Behaviour, FaceState, MouthSmoother
from kiosk.emphasis import stressed
from kiosk.face_view import Box, FaceView, lay_mouth
from kiosk.playback import Clip, Playback, PlayEvent
from kiosk.portrait import load as load_portrait
from kiosk.recorder import Recorder
from kiosk.renderer import Screen
from kiosk.rig import Pose
from kiosk.speaker import open_speaker
from models.face_driver import CROP, SAMPLE_RATE, mel_spectrogram, mel_window
from models.mood import Mood

PLAYBACK_RATE = 22050  # Piper's rate: the common case plays without resampling
# The pose drawn now is seen for the frame to come, and the muscles' smoothing (kiosk/behaviour.py) lags
# its target by about its time constant: aiming this far ahead puts the opening on the sound it shapes.
MOUTH_LEAD = round(0.045 * PLAYBACK_RATE)
CAPTION_HOLD_S = 2.5  # a reply's last words stay readable this long after it ends
STATS_EVERY_S = 5.0
# By asr.language: in auto the visitor's language is not known before they are heard, so both are shown.
VISITOR_CAPTIONS = {
    "en": {"listening": "Listening…", "thinking": "One moment…"},
    "zh": {"listening": "请讲…", "thinking": "请稍候…"},
    "auto": {"listening": "Listening… 请讲…", "thinking": "One moment… 请稍候…"},
}


class Face(Stage):
    wait_s = 0.0  # the frame clock paces the loop

    def setup(self) -> None:
        c = self.config.face
        self.screen = Screen(self.options["display"], c.size)
        self.view = FaceView(load_portrait(c.portrait), self.screen)
        self.frame_ns = 1_000_000_000 // c.fps
        # An offline render has no one listening: it must not play its reply through the machine's speaker.
        self.speaker = open_speaker(PLAYBACK_RATE) if self.options.get("speaker", True) else None
        record = self.options.get("record")
        self.recorder = (Recorder(Path(record), self.screen.size, c.fps, PLAYBACK_RATE,
                                  threads=self.options.get("record_threads", 1),
                                  fragmented=self.options.get("record_fragmented", True)) if record else None)
        self.behaviour = Behaviour(self.options.get("seed"))  # a seed makes an offline render repeatable
        self.driver = (NeuralMouth(c.driver, max_lag=c.driver_max_lag_ms * c.fps // 1000,
                                   accel=self.config.accel.settings()) if c.driver else None)
        self.mels: dict[tuple[int, int], np.ndarray] = {}  # each queued clip's mel spectrogram, for the driver
        self.mouths = {"driver": 0, "rig": 0}  # speaking frames whose mouth each drew, since the last stats
        if self.driver is not None:
            mel_spectrogram(np.zeros(SAMPLE_RATE // 10, np.int16))  # its library's import, not in a frame
        self.mouth = MouthSmoother()
        self.problems: dict[str, str] = {}
        self.visitor = "idle"  # listening / thinking while a visitor's turn is open
        self.closed_note: str | None = None  # outside opening hours: the screen sleeps and says until when
        self.caption = ""
        self.caption_until = 0.0
        self.reply_done: set[int] = set()
        self.announced: set[int] = set()
        self.next_frame_ns = self.clock.now_ns()
        self.last_ns = self.next_frame_ns
        self.render_ms: list[float] = []
        self.interval_ms: list[float] = []
        self.last_present_ns = 0
        self.stats_at = self.next_frame_ns + int(STATS_EVERY_S * 1e9)
        # The playback clock (and the recording) starts now, so a clip can never arrive before it.
        # Frame k of a recording shows time t_ns + k / fps; the mouth box lets tests and benchmarks
        # find the mouth in it.
        self.playback = Playback(PLAYBACK_RATE, self.next_frame_ns, self.speaker)
        self.emit(Event.CLOCK_START, t_ns=self.next_frame_ns, fps=c.fps, mouth_box=list(self.view.mouth_box()))

    # -- input ----------------------------------------------------------------------------------
    def handle(self, msg: Message) -> None:
        match msg.body:
            case Speech() as speech:
                self._enqueue(msg, speech)
            case ReplyEnd():
                self.reply_done.add(msg.turn)
                self._maybe_done(msg.turn)

    def _enqueue(self, msg: Message, speech: Speech) -> None:
        pcm = speech.samples()
        tl = np.asarray(speech.timeline, np.float32).reshape(-1, 4)
        rate = speech.rate
        if rate != PLAYBACK_RATE:
            pcm = soxr.resample(pcm, rate, PLAYBACK_RATE)
            tl[:, :2] *= PLAYBACK_RATE / rate
        self.playback.enqueue(Clip(msg.turn, msg.seq, pcm, tl, speech.text, Mood(speech.mood),
                                   arrival_ns=self.clock.now_ns()))
        if self.driver is not None:  # here, not in the frame that starts the clip
            self.mels[msg.turn, msg.seq] = mel_spectrogram(soxr.resample(pcm, PLAYBACK_RATE, SAMPLE_RATE))

    def on_command(self, cmd: Command) -> None:
        match cmd:
            case Visitor(state=state):
                self.visitor = state
            case Opening(open=is_open, note=note):
                self.closed_note = None if is_open else note  # on waking, the new texts redraw the whole screen
            case Status(worker=worker, text=text, problem=True):
                self.problems[worker] = text
            case Status(worker=worker):
                self.problems.pop(worker, None)
            case Screenshot(path=path):
                self.screen.save_png(Path(path))  # encoded in a thread: the frames go on

    def on_interrupt(self, turn: int) -> None:
        for ev in self.playback.drop_upto(turn):
            # The supervisor closes the interrupted turn; this says when the speaker fell silent.
            self.emit(Event.PLAYBACK_STOP, ev.clip.turn, self.clock.now_ns(), reason="interrupted")
        self.reply_done = {t for t in self.reply_done if t > turn}
        self.announced = {t for t in self.announced if t > turn}  # their ReplyEnd will never come
        self.mels = {key: mel for key, mel in self.mels.items() if key[0] > turn}

    # -- turn bookkeeping -----------------------------------------------------------------------
    def _pending(self, turn: int) -> bool:
        current = self.playback.current
        return (current is not None and current.turn == turn) or any(c.turn == turn for c in self.playback.queue)

    def _maybe_done(self, turn: int) -> None:
        if turn in self.reply_done and not self._pending(turn):
            self.reply_done.discard(turn)
            self.emit(Event.TURN_END, turn, answered=turn in self.announced)
            self.announced.discard(turn)

    def _on_play(self, ev: PlayEvent) -> None:
        turn = ev.clip.turn
        if ev.kind == "start":
            if turn not in self.announced:
                self.announced.add(turn)
                self.emit(Event.PLAYBACK_START, turn, ev.t_ns, seq=ev.clip.seq)
            self.caption = ev.clip.text
            self.caption_until = float("inf")
            self.behaviour.sentence(ev.t_ns / 1e9, ev.clip.mood, stressed(ev.clip.pcm, PLAYBACK_RATE))
        else:
            self.mels.pop((turn, ev.clip.seq), None)
            self.caption_until = self.clock.now_ns() + CAPTION_HOLD_S * 1e9
            self.behaviour.sentence_end(self.clock.now_ns() / 1e9)
            self._maybe_done(turn)

    # -- frame loop -----------------------------------------------------------------------------
    def tick(self) -> None:
        self.clock.sleep_until(self.next_frame_ns)
        now = self.clock.now_ns()
        start_ns = self.playback.t0_ns + self.playback.played * 1_000_000_000 // PLAYBACK_RATE
        pcm, events = self.playback.advance(now)
        if self.recorder is not None:
            self.recorder.audio(pcm)
        if pcm.any():
            self.send(Message(Reference(pcm.tobytes(), PLAYBACK_RATE), 0, t_ns=start_ns))
        for ev in events:
            self._on_play(ev)
        if self.closed_note is None:
            self._draw(now, self.playback.mouth(MOUTH_LEAD, PLAYBACK_RATE // self.config.face.fps))
        else:
            self._sleep_frame(now)
        # Next frame on the fixed grid; a late frame skips ahead instead of drifting.
        self.next_frame_ns += self.frame_ns * max(1, (now - self.next_frame_ns) // self.frame_ns + 1)

    def _sleep_frame(self, now: int) -> None:
        """Outside opening hours: a dark screen, drawn when its note changes and presented every frame (so a
        recording and a screenshot show it), the face's work skipped."""
        assert self.closed_note is not None
        if self.screen.texts != ("", self.closed_note):
            self.screen.asleep(self.closed_note)
        self.screen.present()
        self._record_frame(now)

    def _record_frame(self, now: int) -> None:
        """What the screen shows now, as frame (now - t0) * fps of the recording."""
        if self.recorder is not None:
            self.recorder.video(self.screen.bgrx(), int((now - self.playback.t0_ns) // self.frame_ns))

    def _draw(self, now: int, target: tuple[float, float]) -> None:
        t0 = time.monotonic_ns()
        jaw, width = self.mouth.step(target, (now - self.last_ns) / 1e9)
        self.last_ns = now
        self.behaviour.set_state(self._state(), now / 1e9)
        look = self.behaviour.at(now / 1e9)
        pose = look.pose(jaw, width)
        face, changed = self.view.render(pose)
        if self.driver is not None:
            self._driver_mouth(now, pose, face, changed)
        if now > self.caption_until:
            self.caption = ""
        visitor = VISITOR_CAPTIONS[self.config.asr.language].get(self.visitor)
        caption = self.caption or visitor or (self.config.face.greeting if self.started else "")
        if not self.config.face.captions:
            caption = ""
        self.screen.draw(face, self.view.rect, caption, "  ·  ".join(self.problems.values()), changed)
        self.screen.present()
        presented = time.monotonic_ns()
        if self.last_present_ns:
            self.interval_ms.append(round((presented - self.last_present_ns) / 1e6, 1))
        self.last_present_ns = presented
        self._record_frame(now)
        self.render_ms.append(round((time.monotonic_ns() - t0) / 1e6, 1))
        if now >= self.stats_at:
            self._stats()

    def _driver_mouth(self, now: int, pose: Pose, face: np.ndarray, changed: Box) -> None:
        """Ask the driver for this frame's mouth and lay its newest answer over the rig's, if it is recent."""
        assert self.driver is not None
        change = self.driver.poll(now / 1e9)
        if change is not None:
            self.emit(Event.FACE_DRIVER, state=change.state, reason=change.reason)
        clip = self.playback.current
        mel = None if clip is None else self.mels.get((clip.turn, clip.seq))
        if mel is None or self.driver.proc is None:  # nothing playing, or no driver running
            return
        assert clip is not None
        # The answer is drawn a frame and a driver's time later at the soonest: ask for the sound heard by then.
        ahead = MOUTH_LEAD + round((self.driver.ms / 1000 + 1 / self.config.face.fps) * PLAYBACK_RATE)
        heard_s = (self.playback.played - clip.start_index + ahead) / PLAYBACK_RATE
        frame = int((now - self.playback.t0_ns) // self.frame_ns)
        # Only inside the box the rig redraws every frame: nothing laid over the picture outlives its frame.
        x0, y0, x1, y1 = self.view.face_box(pose)
        box = (max(x0, changed[0]), max(y0, changed[1]), min(x1, changed[2]), min(y1, changed[3]))
        crop = cv2.resize(face[box[1]:box[3], box[0]:box[2]], (CROP, CROP), interpolation=cv2.INTER_AREA)
        self.driver.ask(frame, mel_window(mel, heard_s), crop)
        drawn = self.driver.answer(frame)
        if drawn is None:
            self.mouths["rig"] += 1
        else:
            lay_mouth(face, box, drawn)
            self.mouths["driver"] += 1

    def _state(self) -> FaceState:
        # A reply is being spoken from its first sentence's start to its end, pauses between sentences included.
        if self.playback.current is not None or self.announced:
            return FaceState.SPEAKING
        if self.visitor in ("listening", "thinking"):
            return FaceState(self.visitor)
        return FaceState.DEGRADED if self.problems else FaceState.IDLE

    def _stats(self) -> None:
        """Every frame's render time (draw + present + record) and the interval between presents: the
        benchmark computes percentiles over a whole run from these."""
        ms = np.asarray(self.render_ms)
        self.emit(Event.FRAME_STATS, frames=len(ms), p50_ms=round(float(np.percentile(ms, 50)), 1),
                  p99_ms=round(float(np.percentile(ms, 99)), 1), render_ms=self.render_ms, interval_ms=self.interval_ms,
                  **({"mouths": dict(self.mouths)} if self.driver is not None else {}))
        self.mouths = dict.fromkeys(self.mouths, 0)
        self.render_ms = []
        self.interval_ms = []
        self.stats_at = self.clock.now_ns() + int(STATS_EVERY_S * 1e9)

    def teardown(self) -> None:
        if getattr(self, "render_ms", None):  # None: setup failed before the first frame
            self._stats()
        if getattr(self, "recorder", None) is not None:
            self.recorder.close()
        if getattr(self, "driver", None) is not None:
            self.driver.close()
        if getattr(self, "screen", None) is not None:
            self.screen.close()


WORKER = Face
