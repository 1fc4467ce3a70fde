"""Lip sync measured on a recording: how soon the mouth moves after the reply's first sample, and the
offset between mouth opening and the audio envelope (cross-correlation per reply)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import av
import numpy as np

from bench.stats import pct

MOVED = 3.0  # mean grey-level change in the mouth box that counts as the mouth moving
MAX_LAG_FRAMES = 6  # search window of the cross-correlation: +-200 ms at 30 fps


def _decode(record: Path, box: list[int]) -> tuple[np.ndarray, np.ndarray, int, float]:
    x0, y0, x1, y1 = box
    with av.open(str(record)) as c:
        fps = float(c.streams.video[0].average_rate)
        mouths = np.stack([f.to_ndarray(format="gray")[y0:y1, x0:x1].astype(np.float32) for f in c.decode(video=0)])
    with av.open(str(record)) as c:
        rate = c.streams.audio[0].rate
        audio = np.concatenate([f.to_ndarray().reshape(-1) for f in c.decode(audio=0)])
    return mouths, audio, rate, fps


def analyse(record: Path, events: list[dict[str, Any]]) -> dict[str, Any]:
    clock = next(e for e in events if e["event"] == "clock_start")
    mouths, audio, rate, fps = _decode(record, clock["mouth_box"])
    rest = np.median(mouths, axis=0)  # the face is idle most of the time: the median is the closed mouth
    openness = np.abs(mouths - rest).mean(axis=(1, 2))
    per_frame = round(rate / fps)
    n = min(len(openness), len(audio) // per_frame)
    envelope = np.sqrt((audio[: n * per_frame].astype(np.float64).reshape(n, per_frame) ** 2).mean(axis=1))
    openness = openness[:n]

    def frame_of(t_ns: int) -> float:
        return (t_ns - clock["t_ns"]) / 1e9 * fps

    starts = {e["turn"]: e["t_ns"] for e in events if e["event"] == "playback_start"}
    ends = {e["turn"]: e["t_ns"] for e in events if e["event"] == "turn_end" and e.get("answered")}
    latencies, offsets = [], []
    for turn, start_ns in starts.items():
        if turn not in ends:
            continue
        a, b = int(frame_of(start_ns)), int(frame_of(ends[turn])) + 1
        if b > n or b - a < 3 * MAX_LAG_FRAMES:
            continue
        moved = np.nonzero(openness[a:b] > MOVED)[0]
        if moved.size:
            latencies.append(((a + moved[0]) - frame_of(start_ns)) * 1000 / fps)
        offsets.append(_offset_ms(openness[a:b], envelope[a:b], fps))
    return {
        "mouth_latency_ms": pct(latencies),
        "av_offset_ms": round(float(np.median(offsets)), 1) if offsets else None,
        "av_offsets_ms": [round(x, 1) for x in offsets],
    }


def _offset_ms(mouth: np.ndarray, envelope: np.ndarray, fps: float) -> float:
    """Lag (ms) at which the mouth best follows the sound; positive: the mouth is late."""
    m = (mouth - mouth.mean()) / (mouth.std() + 1e-9)
    e = (envelope - envelope.mean()) / (envelope.std() + 1e-9)
    lags = np.arange(-MAX_LAG_FRAMES, MAX_LAG_FRAMES + 1)
    corr = np.array([np.mean(m[max(0, k) : len(m) + min(0, k)] * e[max(0, -k) : len(e) - max(0, k)]) for k in lags])
    i = int(np.argmax(corr))
    shift = 0.0
    if 0 < i < len(lags) - 1:  # parabolic refinement between frames
        denom = corr[i - 1] - 2 * corr[i] + corr[i + 1]
        shift = 0.5 * (corr[i - 1] - corr[i + 1]) / denom if denom else 0.0
    return float((lags[i] + shift) * 1000 / fps)
