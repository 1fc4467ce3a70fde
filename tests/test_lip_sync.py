"""Lip sync measured on the picture (bench/lip_sync.py): the voice and face stages render a reply in one
process, the landmark model finds the lips again in every frame, and the mouth's opening follows the
voice's loudness at a small lag, and closes on every m, b and p."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bench import face_motion, lip_sync
from daemon.config import load
from daemon.messages import Message, ReplyEnd, Sentence, Speech
from daemon.stage import LocalPort, ManualClock
from daemon.workers.face import Face
from daemon.workers.voice import Voice
from kiosk.playback import Clip, Playback
from models.visemes import timeline, viseme

SENTENCE = "Maybe my bank can help you, please be patient; the map by the main lobby is simple."


@pytest.fixture(scope="module")
def reply(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict], np.ndarray]:
    config = load(overrides=["face.size=[960,540]", "voice.cache_faq=false"])
    voice_port, face_port = LocalPort(), LocalPort()
    voice = Voice(config, voice_port)
    voice.setup()
    voice.handle(Message(Sentence(SENTENCE), 1, 0))
    voice.handle(Message(ReplyEnd(), 1, 1))
    speech = voice_port.take()
    timeline = next(np.asarray(m.body.timeline, np.float32).reshape(-1, 4) for m in speech if isinstance(m.body, Speech))
    record = tmp_path_factory.mktemp("lips") / "reply.mp4"
    face = Face(config, face_port, {"display": "offscreen", "record": str(record), "seed": 1},
                clock=ManualClock(t_ns=1_000_000_000))
    face.setup()
    try:
        for _ in range(15):
            face.tick()
        for msg in speech:
            face.handle(msg)
        while not any(e["event"] == "turn_end" for e in face_port.reported):
            face.tick()
        for _ in range(15):
            face.tick()
    finally:
        face.teardown()
    return record, face_port.reported, timeline


def test_the_mouth_follows_the_voice(reply: tuple[Path, list[dict], np.ndarray]) -> None:
    record, events, _ = reply
    figures = lip_sync.analyse(record, events)
    print("lip sync on the picture:", figures)
    # Mouth opening and loudness are only loosely tied in any speech (a nasal hums with the lips shut, an
    # "ee" is as loud as an "ah"): what matters is that they go together, at a small lag. The jaw follows
    # the loudness within each phoneme's shape (models/loudness_visemes.shaped): 0.54-0.6 from run to run,
    # 0.34-0.41 when the phonemes alone set it.
    assert figures["lip_corr"] >= 0.45
    assert -40 <= figures["lip_lag_ms"] <= 40


def test_the_lips_close_on_m_b_and_p(reply: tuple[Path, list[dict], np.ndarray]) -> None:
    record, events, timeline = reply
    clock = next(e for e in events if e["event"] == "clock_start")
    start = next(e for e in events if e["event"] == "playback_start")
    frames, fps = face_motion.decode(record)
    opening = lip_sync.openings(frames)
    opening -= opening[0]
    first = (start["t_ns"] - clock["t_ns"]) / 1e9 * fps
    rate = 22050
    speaking = opening[int(first) : int(first + timeline[-1, 1] / rate * fps)]
    wide = np.percentile(speaking, 90)
    # An m, b or p is a short closed run inside the sentence (a pause after a comma is closed too, longer).
    closed = np.append(timeline[:, 2] == 0, False)
    edges = np.flatnonzero(np.diff(np.concatenate([[False], closed]).astype(int)))
    runs = [(timeline[i, 0], timeline[j - 1, 1]) for i, j in zip(edges[::2], edges[1::2], strict=True)]
    shut = [(a, b) for a, b in runs if a > 0 and b < timeline[-1, 1] and (b - a) / rate < 0.18]
    assert len(shut) >= 8, runs
    for a, b in shut:
        k0 = int(first + a / rate * fps) - 2  # the mouth leads the voice by a couple of frames
        k1 = int(first + b / rate * fps) + 2
        assert opening[k0:k1].min() <= 0.35 * wide, (a / rate, opening[k0:k1], wide)


def test_marks_between_phonemes_do_not_close_the_mouth() -> None:
    tl = timeline([("^", 100), ("b", 100), ("ˈ", 100), ("æ", 100), ("ː", 100), (" ", 100), ("o", 100), ("m", 100),
                   ("a", 100), (",", 100), (" ", 100), ("$", 100)])
    jaw = tl[:, 2].tolist()
    ae, o, a = viseme("æ")[0], viseme("o")[0], viseme("a")[0]
    # stress mark: halfway from the b to the vowel; length mark: the vowel held; word gap: the next word's
    # vowel already; after a comma the gap is a pause.
    assert jaw == pytest.approx([0, 0, ae / 2, ae, ae, o, o, 0, a, 0, 0, 0])


def test_a_closure_shorter_than_a_frame_still_shows() -> None:
    tl = timeline([("a", 1000), ("m", 300), ("a", 1000)])
    play = Playback(22050, 0)
    play.enqueue(Clip(1, 0, np.zeros(2300, np.int16), tl))
    play.advance(900 * 1_000_000_000 // 22050)
    assert play.mouth()[0] > 0.5  # the frame's own instant is still on the vowel
    assert play.mouth(span=735) == (0.0, 0.0)  # but the m comes within the frame: show it
