"""The playback clock: samples heard per interval, clip starts/ends, mouth at the heard sample, interrupts."""

from __future__ import annotations

import numpy as np

from kiosk.playback import Clip, Playback
from models.visemes import timeline

RATE = 1000  # 1 sample per ms keeps the arithmetic readable
MS = 1_000_000


def clip(turn: int, n: int, arrival_ms: int, value: int = 7) -> Clip:
    tl = timeline([("m", n // 2), ("a", n - n // 2)])
    return Clip(turn, 0, np.full(n, value, np.int16), tl, arrival_ns=arrival_ms * MS)


def test_silence_then_clip_from_its_arrival() -> None:
    pb = Playback(RATE, t0_ns=0)
    pb.enqueue(clip(1, 100, arrival_ms=50))
    pcm, events = pb.advance(80 * MS)
    assert len(pcm) == 80
    assert (pcm[:50] == 0).all() and (pcm[50:] == 7).all()
    assert [(e.kind, e.t_ns) for e in events] == [("start", 50 * MS)]
    pcm, events = pb.advance(200 * MS)
    assert len(pcm) == 120 and (pcm[:70] == 7).all() and (pcm[70:] == 0).all()
    assert [(e.kind, e.t_ns) for e in events] == [("end", 150 * MS)]


def test_mouth_follows_the_sample_being_heard() -> None:
    pb = Playback(RATE, t0_ns=0)
    pb.enqueue(clip(1, 100, arrival_ms=0))
    pb.advance(20 * MS)
    assert pb.mouth() == (0.0, 0.0)  # "m": lips closed
    pb.advance(70 * MS)
    assert pb.mouth()[0] > 0.5  # "a": open
    pb.advance(150 * MS)
    assert pb.mouth() == (0.0, 0.0)  # finished: rest


def test_clips_play_back_to_back() -> None:
    pb = Playback(RATE, t0_ns=0)
    pb.enqueue(clip(1, 30, arrival_ms=0, value=1))
    pb.enqueue(clip(1, 30, arrival_ms=0, value=2))
    pcm, events = pb.advance(60 * MS)
    assert (pcm[:30] == 1).all() and (pcm[30:] == 2).all()
    assert [e.kind for e in events] == ["start", "end", "start", "end"]


def test_interrupt_silences_at_once_and_spares_newer_turns() -> None:
    pb = Playback(RATE, t0_ns=0)
    pb.enqueue(clip(1, 100, arrival_ms=0))
    pb.enqueue(clip(1, 100, arrival_ms=0))
    pb.enqueue(clip(2, 100, arrival_ms=0, value=9))
    pb.advance(10 * MS)
    ended = pb.drop_upto(1)
    assert [e.kind for e in ended] == ["end"]
    pcm, _ = pb.advance(20 * MS)
    assert (pcm == 9).all()  # turn 2 starts right away
