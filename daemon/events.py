"""Structured events: written as JSON lines when asked, and logged; latency figures are computed from them."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

log = logging.getLogger("kioskd.events")

# Events worth a log line; frame statistics and the like go to the JSONL file only.
_LOGGED = {"speech_start", "speech_end", "asr_final", "sentence", "playback_start", "turn_end", "ready"}


class EventLog:
    def __init__(self, path: Path | None) -> None:
        self._file: IO[str] | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file = path.open("w", encoding="utf-8")

    def write(self, event: dict[str, Any]) -> None:
        if self._file is not None:
            self._file.write(json.dumps(event, ensure_ascii=False) + "\n")
            self._file.flush()
        if event["event"] in _LOGGED:
            extra = event.get("text")
            log.info("%s turn=%s%s", event["event"], event.get("turn"), f" {extra!r}" if extra else "")

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


# Stage -> (from event[field], to event[field]); each stage starts where the previous one ended, so the
# stages of a turn add up to its voice-to-voice latency.
STAGES: dict[str, tuple[tuple[str, str], tuple[str, str]]] = {
    "endpointing": (("speech_end", "t_ns"), ("speech_end", "endpoint_ns")),
    "asr": (("speech_end", "endpoint_ns"), ("asr_final", "t_ns")),
    "brain_first_sentence": (("asr_final", "t_ns"), ("sentence", "t_ns")),
    "voice_first_audio": (("sentence", "t_ns"), ("tts_first_audio", "t_ns")),
    "playback_start": (("tts_first_audio", "t_ns"), ("playback_start", "t_ns")),
}


def turns(events: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Answered turns in order: what was heard and said, the reply's source, voice-to-voice (last voiced
    sample of the question -> first reply sample played) and the stages it splits into, in ms."""
    first: dict[int, dict[str, dict[str, Any]]] = {}
    said: dict[int, list[str]] = {}
    for ev in events:
        if ev.get("turn") is not None:
            first.setdefault(ev["turn"], {}).setdefault(ev["event"], ev)
            if ev["event"] == "sentence":
                said.setdefault(ev["turn"], []).append(ev.get("text", ""))
    out = []
    for turn, evs in first.items():
        if "speech_end" not in evs or "playback_start" not in evs:
            continue
        stages = {}
        for name, ((ev_a, f_a), (ev_b, f_b)) in STAGES.items():
            if ev_a in evs and ev_b in evs and f_a in evs[ev_a] and f_b in evs[ev_b]:
                stages[name] = (evs[ev_b][f_b] - evs[ev_a][f_a]) / 1e6
        out.append({
            "turn": turn,
            "transcript": evs.get("asr_final", {}).get("text", ""),
            "said": said.get(turn, []),
            "source": evs.get("reply", {}).get("source"),
            "voice_to_voice_ms": (evs["playback_start"]["t_ns"] - evs["speech_end"]["t_ns"]) / 1e6,
            "stages_ms": stages,
        })
    return sorted(out, key=lambda t: t["turn"])
