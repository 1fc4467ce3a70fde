"""Figures from a kioskd event log: per-turn stage latencies, voice-to-voice, frame times, percentiles."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

# Stage -> (from event[field], to event[field]); each stage starts where the previous one ended, so the
# stages of a turn add up to its voice-to-voice latency.
STAGES: dict[str, tuple[tuple[str, str], tuple[str, str]]] = {
    "endpointing": (("speech_end", "t_ns"), ("speech_end", "endpoint_ns")),
    "asr": (("speech_end", "endpoint_ns"), ("asr_final", "t_ns")),
    "brain_first_sentence": (("asr_final", "t_ns"), ("sentence", "t_ns")),
    "voice_first_audio": (("sentence", "t_ns"), ("tts_first_audio", "t_ns")),
    "playback_start": (("tts_first_audio", "t_ns"), ("playback_start", "t_ns")),
}


def pct(values: Iterable[float], *qs: int) -> dict[str, float] | None:
    """{"p50": .., "p95": ..} (or the asked percentiles), rounded to 0.1; None when there are no values."""
    arr = np.asarray(list(values), float)
    if arr.size == 0:
        return None
    return {f"p{q}": round(float(np.percentile(arr, q)), 1) for q in (qs or (50, 95))}


def turns(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Answered turns in order: transcript, reply source, voice-to-voice and stage latencies (ms)."""
    first: dict[int, dict[str, dict[str, Any]]] = {}
    for ev in events:
        if ev.get("turn") is not None:
            first.setdefault(ev["turn"], {}).setdefault(ev["event"], ev)
    out = []
    for turn, evs in first.items():
        if "speech_end" not in evs or "playback_start" not in evs:
            continue
        stages = {}
        for name, ((ev_a, f_a), (ev_b, f_b)) in STAGES.items():
            if ev_a in evs and ev_b in evs:
                stages[name] = (evs[ev_b][f_b] - evs[ev_a][f_a]) / 1e6
        out.append({
            "turn": turn,
            "transcript": evs.get("asr_final", {}).get("text", ""),
            "source": evs.get("reply", {}).get("source"),
            "voice_to_voice_ms": (evs["playback_start"]["t_ns"] - evs["speech_end"]["t_ns"]) / 1e6,
            "stages_ms": stages,
        })
    return sorted(out, key=lambda t: t["turn"])


def frames(events: list[dict[str, Any]]) -> dict[str, Any]:
    """Frame render time p50/p99, present-interval p99 and the achieved frame rate over the run."""
    render = [x for e in events if e["event"] == "frame_stats" for x in e.get("render_ms", [])]
    interval = [x for e in events if e["event"] == "frame_stats" for x in e.get("interval_ms", [])]
    return {
        "frame_ms": pct(render, 50, 99),
        "frame_interval_ms": pct(interval, 50, 99),
        "fps": round(1000 / float(np.mean(interval)), 1) if interval else None,
    }


def barge_ins(events: list[dict[str, Any]]) -> list[float]:
    """Per barge-in: ms from the visitor's first voiced sample to the kiosk falling silent."""
    out = []
    for i, ev in enumerate(events):
        if ev["event"] != "barge_in":
            continue
        stop = next((e for e in events[i:] if e["event"] == "playback_stop"), None)
        if stop is not None:
            out.append((stop["t_ns"] - ev["speech_start_ns"]) / 1e6)
    return out
