"""Lip sync measured on a recording: how soon the mouth moves after the reply becomes audible, and the
offset between the mouth opening and the sound starting, onset by onset (what a viewer notices).

The mouth's opening is how much darker the mouth box has become since the frame before the reply (the
open mouth's interior is dark; counting only darkening keeps most of a nod or a glance out of it), and a
mouth onset is the first frame at or above 30% of the reply's widest opening: a frame shows the face
from the moment it is presented, so the onset's time is that frame's start. The sound is the RMS of the
audio in 2 ms steps, and a sound onset is its rise through 30% of the reply's peak, to the sample. The
first movement and the first audible sound use 10% instead. A frame covers 33 ms, so a mouth that opens
in the frame where the sound starts reads up to one frame early.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import av
import numpy as np

from bench.stats import pct
from daemon.events import Event

ONSET = 0.3  # fraction of the reply's peak that counts as "opening" / "sounding"
FIRST = 0.1  # fraction of the reply's peak that counts as the first movement / the first audible sound
STEP_S = 0.002  # resolution of the sound envelope
MATCH_S = 0.15  # a mouth onset further than this from a sound onset belongs to another syllable


def _decode(record: Path, box: list[int]) -> tuple[np.ndarray, np.ndarray, int, float]:
    x0, y0, x1, y1 = box
    with av.open(str(record)) as c:
        fps = float(c.streams.video[0].average_rate)
        mouths = np.stack([f.to_ndarray(format="gray")[y0:y1, x0:x1].astype(np.float32) for f in c.decode(video=0)])
    audio, rate = sound(record)
    return mouths, audio, rate, fps


def sound(record: Path) -> tuple[np.ndarray, int]:
    """A recording's whole sound track, and its rate."""
    with av.open(str(record)) as c:
        return np.concatenate([f.to_ndarray().reshape(-1) for f in c.decode(audio=0)]), c.streams.audio[0].rate


def onsets(signal: np.ndarray, fraction: float = ONSET) -> np.ndarray:
    """Indices where the signal rises through `fraction` of its peak (the first index at or above it)."""
    level = fraction * signal.max()
    return np.nonzero((signal[:-1] < level) & (signal[1:] >= level))[0] + 1


def analyse(record: Path, events: list[dict[str, Any]]) -> dict[str, Any]:
    clock = next(e for e in events if e["event"] == Event.CLOCK_START)
    mouths, audio, rate, fps = _decode(record, clock["mouth_box"])
    step = round(rate * STEP_S)
    step_s = step / rate  # the envelope's real step (44 samples at 22.05 kHz is 1.995 ms, not 2: over a
    # long recording the difference adds up to frames)
    n = min(len(mouths), int(len(audio) / rate * fps))
    m = len(audio) // step
    envelope = np.sqrt((audio[: m * step].astype(np.float64).reshape(m, step) ** 2).mean(axis=1))
    steps_per_frame = 1 / (fps * step_s)

    def frame_of(t_ns: int) -> float:
        return (t_ns - clock["t_ns"]) / 1e9 * fps

    starts = {e["turn"]: e["t_ns"] for e in events if e["event"] == Event.PLAYBACK_START}
    ends = {e["turn"]: e["t_ns"] for e in events if e["event"] == Event.TURN_END and e.get("answered")}
    first_moves, offsets = [], []
    for turn, start_ns in starts.items():
        if turn not in ends:
            continue
        a, b = int(frame_of(start_ns)), int(frame_of(ends[turn])) + 2
        if a < 1 or b > n or b - a < 6:
            continue
        # a - 1: the mouth at rest just before the reply, and the silence before it, start both signals.
        mouth = np.clip(mouths[a - 1] - mouths[a - 1 : b], 0, None).mean(axis=(1, 2))
        sound = envelope[int((a - 1) * steps_per_frame) : int(b * steps_per_frame)]
        m_on = (a - 1 + onsets(mouth)) / fps  # seconds from the start of the recording
        s_on = (a - 1) / fps + onsets(sound) * step_s
        if not (m_on.size and s_on.size):
            continue
        first_move, first_sound = onsets(mouth, FIRST), onsets(sound, FIRST)
        if first_move.size and first_sound.size:
            first_moves.append(((a - 1 + first_move[0]) / fps - ((a - 1) / fps + first_sound[0] * step_s)) * 1000)
        for t in s_on:
            nearest = m_on[np.argmin(np.abs(m_on - t))]
            if abs(nearest - t) <= MATCH_S:
                offsets.append((nearest - t) * 1000)
    return {
        "mouth_latency_ms": pct(first_moves),
        "av_offset_ms": round(float(np.median(offsets)), 1) if offsets else None,
        "av_offset_spread_ms": pct(offsets, 5, 95),
    }
