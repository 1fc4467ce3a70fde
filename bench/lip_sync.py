"""Lip sync measured on the picture: the mouth's opening is found again in every frame of a reply by the
landmark model (the gap between the inner lips, in face heights, less its gap at rest), and compared with
the loudness of the sound over the same frame. Their correlation at the best lag says how well the
mouth follows the voice, the lag how late it is (positive: the mouth after the sound); a peak between
frames is placed by a parabola through its neighbours, so the lag is finer than a frame.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import av
import numpy as np

from bench import av_sync
from daemon.events import Event
from models.face_landmarks import FaceLandmarker

INNER_LIPS = (13, 14)  # MediaPipe face mesh: upper and lower inner lip on the centre line
MAX_LAG_FRAMES = 4


def openings(frames: Iterable[np.ndarray], marker: FaceLandmarker | None = None) -> np.ndarray:
    """The inner lips' gap in each frame, in face heights."""
    marker = marker or FaceLandmarker()
    face = None
    out = []
    for frame in frames:
        face = face or marker.faces(frame)[0]  # the head moves a little: the landmark model's crop allows for it
        lm = marker.landmarks(frame, face)
        out.append((lm[INNER_LIPS[1], 1] - lm[INNER_LIPS[0], 1]) / np.ptp(lm[:, 1]))
    return np.array(out)


def loudness(audio: np.ndarray, rate: int, fps: float, first: int, count: int) -> np.ndarray:
    """RMS of the sound over each frame's span, frames first .. first + count of the recording."""
    out = []
    for k in range(first, first + count):
        a, b = round(k * rate / fps), round((k + 1) * rate / fps)
        chunk = audio[a:b].astype(np.float64)
        out.append(np.sqrt(np.mean(chunk**2)) if len(chunk) else 0.0)
    return np.array(out)


def best_lag(mouth: np.ndarray, sound: np.ndarray, fps: float) -> tuple[float, float]:
    """(correlation, lag in ms) where the mouth best follows the sound, lag within ±MAX_LAG_FRAMES."""
    lags = range(-MAX_LAG_FRAMES, MAX_LAG_FRAMES + 1)
    corr = []
    for lag in lags:  # mouth[k + lag] against sound[k]
        m = mouth[max(lag, 0) : len(mouth) + min(lag, 0)]
        s = sound[max(-lag, 0) : len(sound) - max(lag, 0)]
        corr.append(float(np.corrcoef(m, s)[0, 1]))
    i = int(np.nanargmax(corr))
    shift = 0.0
    if 0 < i < len(corr) - 1:
        a, b, c = corr[i - 1], corr[i], corr[i + 1]
        shift = 0.5 * (a - c) / (a - 2 * b + c) if a - 2 * b + c else 0.0
    return corr[i], (lags[i] + shift) * 1000 / fps


def analyse(record: Path, events: list[dict[str, Any]]) -> dict[str, Any]:
    """Correlation and lag over every answered reply in a recording, with the face's events. Frames are
    decoded one at a time: a long bench recording does not fit in memory as pictures."""
    clock = next(e for e in events if e["event"] == Event.CLOCK_START)
    starts = {e["turn"]: e["t_ns"] for e in events if e["event"] == Event.PLAYBACK_START}
    ends = {e["turn"]: e["t_ns"] for e in events if e["event"] == Event.TURN_END and e.get("answered")}
    audio, rate = av_sync.sound(record)
    marker = FaceLandmarker()
    with av.open(str(record)) as c:
        fps = float(c.streams.video[0].average_rate)
        replies = [(int((s - clock["t_ns"]) / 1e9 * fps), int((ends[t] - clock["t_ns"]) / 1e9 * fps) + 2)
                   for t, s in starts.items() if t in ends]
        replies = [(a, b) for a, b in replies if b - a >= 2 * MAX_LAG_FRAMES + 3]
        frames = (f.to_ndarray(format="rgb24") for f in c.decode(video=0))
        first = next(frames)
        rest = openings([first], marker)[0]
        wanted = {k for a, b in replies for k in range(max(a, 1), b)}  # frame 0 is the rest above
        seen = {k: v for k, v in zip(sorted(wanted), openings(
            (f for k, f in enumerate(frames, start=1) if k in wanted), marker), strict=False)}
    mouth = [np.array([seen[k] for k in range(a, b) if k in seen]) - rest for a, b in replies]
    sound = [loudness(audio, rate, fps, a, len(m)) for (a, _), m in zip(replies, mouth, strict=True)]
    if not mouth or not sum(len(m) for m in mouth):
        return {"lip_corr": None, "lip_lag_ms": None}
    corr, lag = best_lag(np.concatenate(mouth), np.concatenate(sound), fps)
    return {"lip_corr": round(corr, 3), "lip_lag_ms": round(lag, 1)}
