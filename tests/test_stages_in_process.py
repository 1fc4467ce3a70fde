"""The voice and face stages in one process, with no rings, no bus and no real-time pacing: reply sentences
become an MP4 of the face saying them, as an offline render will (a local port between the two stages and
a clock that jumps from frame to frame)."""

from __future__ import annotations

import time
from pathlib import Path

import av
import numpy as np

from bench import av_sync
from daemon.config import load
from daemon.messages import Message, ReplyEnd, Sentence, Speech
from daemon.stage import LocalPort, ManualClock
from daemon.workers.face import Face
from daemon.workers.voice import Voice
from kiosk.behaviour import FaceState

SENTENCES = ["Hello, and welcome to the branch.", "The cash machines are just outside the main entrance."]


def test_voice_and_face_render_a_reply_in_one_process_faster_than_real_time(tmp_path: Path) -> None:
    config = load(overrides=["face.size=[480,270]", "voice.cache_faq=false"])
    clock = ManualClock(t_ns=1_000_000_000)
    voice_port, face_port = LocalPort(), LocalPort()
    voice = Voice(config, voice_port)
    voice.setup()
    record = tmp_path / "reply.mp4"
    face = Face(config, face_port, {"display": "offscreen", "record": str(record)}, clock=clock)
    face.setup()
    began = time.monotonic()
    try:
        for seq, text in enumerate(SENTENCES):
            voice.handle(Message(Sentence(text), 1, seq))
        voice.handle(Message(ReplyEnd(), 1, len(SENTENCES)))
        speech = voice_port.take()
        spoken_s = sum(len(m.body.samples()) / m.body.rate for m in speech if isinstance(m.body, Speech))
        for _ in range(15):  # half a second of the face at rest before it speaks
            face.tick()
        for msg in speech:
            face.handle(msg)
        frames = 0
        while not any(e["event"] == "turn_end" for e in face_port.reported):
            face.tick()
            frames += 1
            assert frames < 30 * 20, "the reply never ended"
        for _ in range(30):  # a second of the face at rest after the reply
            face.tick()
    finally:
        face.teardown()
    took_s = time.monotonic() - began
    events = face_port.reported
    start = next(e for e in events if e["event"] == "playback_start")
    end = next(e for e in events if e["event"] == "turn_end")
    clock_start = next(e for e in events if e["event"] == "clock_start")
    # The clock is the render's own: the reply starts when it was handed over and lasts as long as its audio.
    assert (end["t_ns"] - start["t_ns"]) / 1e9 >= spoken_s - 0.05
    assert 0.45 <= (start["t_ns"] - clock_start["t_ns"]) / 1e9 < 0.55
    assert took_s < spoken_s + 1.5  # no real-time pacing: loose, the render bench tracks the ratio

    with av.open(str(record)) as c:
        video_s = sum(1 for _ in c.decode(video=0)) / float(c.streams.video[0].average_rate)
    with av.open(str(record)) as c:
        audio = np.concatenate([f.to_ndarray().reshape(-1) for f in c.decode(audio=0)])
    assert abs(video_s - (spoken_s + 1.5)) < 0.5
    assert np.sqrt(np.mean(audio.astype(np.float64) ** 2)) > 0.01  # the reply is in the sound track
    sync = av_sync.analyse(record, events)
    # The mouth opens with the sound: at most 40 ms after it, and ahead of it by less than viewers notice
    # (a mouth that leads its sound by up to ~125 ms goes unseen, one that lags it by 45 ms does not:
    # ITU-R BT.1359), as in the live kiosk.
    assert sync["av_offset_ms"] is not None and -100 <= sync["av_offset_ms"] <= 40
    assert sync["mouth_latency_ms"]["p50"] <= 70


def test_an_interrupted_reply_leaves_the_face_speaking_no_more(tmp_path: Path) -> None:
    """Its ReplyEnd never comes (the runner drops a stale turn's messages): the face goes back to idle."""
    config = load(overrides=["face.size=[320,180]", "voice.cache_faq=false"])
    voice_port, face_port = LocalPort(), LocalPort()
    voice = Voice(config, voice_port)
    voice.setup()
    voice.handle(Message(Sentence(SENTENCES[1]), 1, 0))
    face = Face(config, face_port, {"display": "offscreen"}, clock=ManualClock(t_ns=1_000_000_000))
    face.setup()
    try:
        for msg in voice_port.take():
            face.handle(msg)
        for _ in range(10):
            face.tick()
        assert face.behaviour.state is FaceState.SPEAKING
        face.on_interrupt(1)
        for _ in range(3):
            face.tick()
        assert face.behaviour.state is FaceState.IDLE
    finally:
        face.teardown()
