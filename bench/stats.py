"""Figures from a kioskd event log beyond the per-turn ones (daemon.events.turns): frame times,
barge-ins, percentiles."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from daemon.events import Event


def pct(values: Iterable[float], *qs: int) -> dict[str, float] | None:
    """{"p50": .., "p95": ..} (or the asked percentiles), rounded to 0.1; None when there are no values."""
    arr = np.asarray(list(values), float)
    if arr.size == 0:
        return None
    return {f"p{q}": round(float(np.percentile(arr, q)), 1) for q in (qs or (50, 95))}


def frames(events: list[dict[str, Any]]) -> dict[str, Any]:
    """Frame render time p50/p99, present-interval p99 and the achieved frame rate over the run."""
    render = [x for e in events if e["event"] == Event.FRAME_STATS for x in e.get("render_ms", [])]
    interval = [x for e in events if e["event"] == Event.FRAME_STATS for x in e.get("interval_ms", [])]
    return {
        "frame_ms": pct(render, 50, 99),
        "frame_interval_ms": pct(interval, 50, 99),
        "fps": round(1000 / float(np.mean(interval)), 1) if interval else None,
    }


def barge_ins(events: list[dict[str, Any]]) -> list[float]:
    """Per barge-in: ms from the visitor's first voiced sample to the kiosk falling silent. A barge-in
    whose reply had finished by itself (no interrupted playback before the visitor's utterance ended)
    stopped nothing and is not counted."""
    out = []
    for i, ev in enumerate(events):
        if ev["event"] != Event.BARGE_IN:
            continue
        for later in events[i:]:
            if later["event"] == Event.PLAYBACK_STOP and later.get("reason") == "interrupted":
                out.append((later["t_ns"] - ev["speech_start_ns"]) / 1e6)
                break
            if later["event"] == Event.SPEECH_END and later.get("turn") == ev["turn"]:
                break
    return out
