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


def voice_to_voice_ms(events: Iterable[dict[str, Any]]) -> dict[int, float]:
    """Per turn: last voiced sample of the question (speech_end) -> first reply sample played."""
    ends: dict[int, int] = {}
    starts: dict[int, int] = {}
    for ev in events:
        if ev["event"] == "speech_end":
            ends[ev["turn"]] = ev["t_ns"]
        elif ev["event"] == "playback_start":
            starts.setdefault(ev["turn"], ev["t_ns"])
    return {turn: (starts[turn] - t) / 1e6 for turn, t in ends.items() if turn in starts}


# Milestones of a turn after the visitor stops speaking, in pipeline order.
MILESTONES = ("asr_final", "reply", "sentence", "tts_first_audio", "playback_start")


def turn_reports(events: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per answered turn: what was heard and said, and ms from speech_end to each milestone's first event."""
    turns: dict[int, dict[str, Any]] = {}
    for ev in events:
        turn = ev.get("turn")
        if turn is None:
            continue
        t = turns.setdefault(turn, {"turn": turn, "heard": "", "said": [], "at": {}})
        name = ev["event"]
        t["at"].setdefault(name, ev["t_ns"])
        if name == "asr_final":
            t["heard"] = ev.get("text", "")
        elif name == "sentence":
            t["said"].append(ev.get("text", ""))
        elif name == "reply":
            t["source"] = ev.get("source")
    out = []
    for t in turns.values():
        end = t["at"].get("speech_end")
        if end is None or "playback_start" not in t["at"]:
            continue
        t["ms"] = {m: round((t["at"][m] - end) / 1e6) for m in MILESTONES if m in t["at"]}
        del t["at"]
        out.append(t)
    return out
