"""The face moves like a person, measured on its recordings (bench/face_motion.py: the face found again in
the first frame, the head followed by optical flow, the irises by their dark pixels), never from the
renderer's own state: 20 s of idle, and a whole turn (listening, thinking, speaking) through the face
stage on a clock that jumps from frame to frame."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bench import face_motion
from daemon.commands import Visitor
from daemon.config import load
from daemon.messages import Message, ReplyEnd, Sentence
from daemon.stage import LocalPort, ManualClock
from daemon.workers.face import Face
from daemon.workers.voice import Voice

FPS = 30
OVERRIDES = ["face.size=[960,540]", "voice.cache_faq=false"]
SEED = int(os.environ.get("KIOSK_FACE_SEED", "7"))  # the face's random choices: fixed, so a failure repeats
Action = Callable[[Face, LocalPort], None]


def _record(path: Path, frames: int, actions: dict[int, Action], answer: bool = False, seed: int = SEED) -> list[dict[str, Any]]:
    """Run the face stage for this many frames, doing each action just before its frame; the recording goes
    to `path`. With `answer`, go on until the reply's turn ends and a second more, telling the face the
    visitor is idle once the reply plays (as the turn tracker does)."""
    face_port = LocalPort()
    face = Face(load(overrides=OVERRIDES), face_port, {"display": "offscreen", "record": str(path), "seed": seed},
                clock=ManualClock(t_ns=1_000_000_000))
    face.setup()

    def seen(event: str) -> bool:
        return any(e["event"] == event for e in face_port.reported)

    try:
        k, playing, end = 0, False, frames
        while k < end:
            if k in actions:
                actions[k](face, face_port)
            face.tick()
            k += 1
            if answer and not playing and seen("playback_start"):
                playing = True
                face.on_command(Visitor("idle"))
            if answer and k == end and not seen("turn_end"):
                end += 1
            assert k < 60 * FPS, "the turn never ended"
        if answer:
            for _ in range(FPS):
                face.tick()
    finally:
        face.teardown()
    return face_port.reported


@pytest.fixture(scope="module")
def idle(tmp_path_factory: pytest.TempPathFactory) -> face_motion.Track:
    record = tmp_path_factory.mktemp("idle") / "idle.mp4"
    _record(record, 20 * FPS, {})
    frames, fps = face_motion.decode(record)
    return face_motion.track(frames, fps)


def test_idle_face_breathes_drifts_and_looks_round_the_room(idle: face_motion.Track) -> None:
    s = face_motion.summary(idle)
    print("idle motion:", s)
    # The head moves all the time, by natural amounts: a few thousandths of the face's height, a degree or two.
    assert all(0.002 < r < 0.03 for r in s["head_range_fh"]), s
    assert 0.5 < s["roll_range_deg"] < 5.0, s
    # Smoothly: no frame jumps (a breath moves the head by about a ten-thousandth of its height a frame).
    assert s["head_step_max_fh"] < 0.004, s
    # The eyes look round every 1-3 s, and blink.
    assert s["saccades"] >= 5, s
    assert 0.7 <= s["fixation_s_median"] <= 3.5, s
    assert s["gaze_range_ew"][0] > 0.05, s
    assert 2 <= s["blinks"] <= 12, s


def test_idle_face_never_stands_still(idle: face_motion.Track) -> None:
    """The longest stretch in which neither the head nor the eyes moved measurably is under a second."""
    head = np.linalg.norm(np.diff(idle.shift, axis=0), axis=1) / idle.face_height > 2e-5
    eyes = np.linalg.norm(np.diff(np.nan_to_num(idle.gaze), axis=0), axis=1) > 0.005
    moving = head | eyes
    still = longest = 0
    for m in moving:
        still = 0 if m else still + 1
        longest = max(longest, still)
    assert longest < idle.fps, f"still for {longest} frames"


@pytest.fixture(scope="module")
def turn(tmp_path_factory: pytest.TempPathFactory) -> tuple[face_motion.Track, dict[str, slice]]:
    """A whole turn: 2 s idle, 4 s of the visitor speaking, 1.5 s of thinking, then a two-sentence reply."""
    config = load(overrides=OVERRIDES)
    voice_port = LocalPort()
    voice = Voice(config, voice_port)
    voice.setup()
    for seq, text in enumerate(["Hello, and welcome to the branch.", "The cash machines are just outside."]):
        voice.handle(Message(Sentence(text, "smile" if seq == 0 else "neutral"), 1, seq))
    voice.handle(Message(ReplyEnd(), 1, 2))
    speech = voice_port.take()

    def reply(face: Face, port: LocalPort) -> None:
        for msg in speech:
            face.handle(msg)

    actions: dict[int, Action] = {
        60: lambda face, _: face.on_command(Visitor("listening")),
        180: lambda face, _: face.on_command(Visitor("thinking")),
        225: reply,
    }
    record = tmp_path_factory.mktemp("turn") / "turn.mp4"
    events = _record(record, 226, actions, answer=True)
    start = next(e for e in events if e["event"] == "playback_start")
    clock = next(e for e in events if e["event"] == "clock_start")
    end = next(e for e in events if e["event"] == "turn_end")
    frame = {name: round((e["t_ns"] - clock["t_ns"]) / 1e9 * FPS) for name, e in (("start", start), ("end", end))}
    frames, fps = face_motion.decode(record)
    phases = {"idle": slice(0, 60), "listening": slice(60, 180), "thinking": slice(180, 225),
              "speaking": slice(frame["start"], frame["end"])}
    return face_motion.track(frames, fps), phases


def test_each_state_looks_different_in_the_recording(turn: tuple[face_motion.Track, dict[str, slice]]) -> None:
    t, phases = turn
    fh = t.face_height
    nod_speed = {name: float(np.abs(np.diff(t.shift[p, 1])).max()) * t.fps / fh for name, p in phases.items()}
    late_think = slice(phases["thinking"].stop - 15, phases["thinking"].stop)
    roll = {name: float(np.median(t.roll[p])) for name, p in (*phases.items(), ("late_think", late_think))}
    gaze = {name: np.nanmedian(t.gaze[p], axis=0) for name, p in (*phases.items(), ("late_think", late_think))}
    print("head's fastest vertical motion (face heights/s):", nod_speed)
    print("median roll (deg):", roll)
    print("median gaze (eye widths):", {k: np.round(v, 3).tolist() for k, v in gaze.items()})
    # Listening nods ("mm-hm"); idle only breathes and drifts.
    assert nod_speed["listening"] > 0.06, nod_speed
    assert nod_speed["idle"] < 0.02, nod_speed
    # Thinking tilts the head and looks away to one side (and up, which the lids hide at this size: the
    # iris fills the opening's height in this portrait, so its dark centroid hardly rises).
    assert abs(roll["late_think"] - roll["listening"]) > 2.0, roll
    assert abs(gaze["late_think"][0] - gaze["listening"][0]) > 0.03, gaze
    # Speaking looks back at the visitor, and nods with its sentences.
    assert np.linalg.norm(gaze["speaking"] - gaze["listening"]) < 0.03, gaze
    assert nod_speed["speaking"] > 0.06, nod_speed
