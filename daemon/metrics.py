"""Prometheus series (`kioskd_*`), kept by the supervisor: latencies, turns, barge-ins and frame times from
the events it routes, and the workers' memory, restarts and the rings' drops read at each scrape. No
words are ever a label or a value."""

from __future__ import annotations

import logging
import os
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from daemon.events import Event, turns

# Seconds: a reply should start within ~0.5 s; the slow tail is what matters to a visitor.
LATENCY_BUCKETS = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0, 1.25, 1.5, 2.0, 3.0, 5.0, 10.0)
FRAME_BUCKETS = (0.002, 0.004, 0.006, 0.008, 0.010, 0.015, 0.020, 0.025, 0.033, 0.040, 0.050, 0.080, 0.120)
RECENT_TURNS = 10
KEEP_TURNS = 32  # turns whose events are held until their reply starts (a few may overlap)
_PAGE = os.sysconf("SC_PAGE_SIZE")
log = logging.getLogger("kioskd")


@dataclass(frozen=True)
class WorkerSample:
    name: str
    pid: int | None  # None while it is down
    state: str
    restarts: int


@dataclass(frozen=True)
class Live:
    """What the supervisor knows now: its workers and each ring's drop count."""

    workers: list[WorkerSample]
    ring_drops: dict[str, int]
    healthy: bool


def rss_bytes(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return None  # it exited between the sample and the read


class _LiveCollector(Collector):
    def __init__(self, live: Callable[[], Live]) -> None:
        self._live = live

    def collect(self) -> Iterator[Metric]:
        now = self._live()
        up = GaugeMetricFamily("kioskd_healthy", "1 while the whole pipeline is healthy (what /healthz says)")
        up.add_metric([], 1.0 if now.healthy else 0.0)
        running = GaugeMetricFamily("kioskd_worker_running", "1 while the worker is RUNNING", labels=["worker"])
        memory = GaugeMetricFamily("kioskd_worker_memory_bytes", "resident memory of the worker's process",
                                   labels=["worker"])
        restarts = CounterMetricFamily("kioskd_worker_restarts", "restarts since kioskd started", labels=["worker"])
        for w in now.workers:
            running.add_metric([w.name], 1.0 if w.state == "RUNNING" else 0.0)
            restarts.add_metric([w.name], w.restarts)
            rss = rss_bytes(w.pid) if w.pid is not None else None
            if rss is not None:
                memory.add_metric([w.name], rss)
        drops = CounterMetricFamily("kioskd_ring_drops", "records a full ring dropped", labels=["ring"])
        for ring, count in now.ring_drops.items():
            drops.add_metric([ring], count)
        yield from (up, running, memory, restarts, drops)


class Metrics:
    def __init__(self, live: Callable[[], Live]) -> None:
        r = self.registry = CollectorRegistry()
        self.stage = Histogram("kioskd_stage_seconds", "each stage of an answered turn (events.STAGES)", ["stage"],
                               buckets=LATENCY_BUCKETS, registry=r)
        self.voice_to_voice = Histogram("kioskd_voice_to_voice_seconds", "last voiced sample of a question -> "
                                        "first reply sample played", buckets=LATENCY_BUCKETS, registry=r)
        self.turns = Counter("kioskd_turns", "turns whose reply started, by the reply's source", ["source"],
                             registry=r)
        self.barge_ins = Counter("kioskd_barge_ins", "visitors speaking over a reply", registry=r)
        self.false_starts = Counter("kioskd_false_starts", "sounds too short to be speech (no turn opened)",
                                    registry=r)
        self.frame = Histogram("kioskd_frame_render_seconds", "time to render one face frame", buckets=FRAME_BUCKETS,
                               registry=r)
        self.fps = Gauge("kioskd_fps", "frames presented per second over the face's last statistics period",
                         registry=r)
        r.register(_LiveCollector(live))
        self.recent: deque[dict[str, Any]] = deque(maxlen=RECENT_TURNS)
        self._events: dict[int, list[dict[str, Any]]] = {}

    def on_event(self, ev: dict[str, Any]) -> None:
        name, turn = ev["event"], ev.get("turn")
        if name == Event.BARGE_IN:
            self.barge_ins.inc()
        elif name == Event.SPEECH_DISCARDED:
            self.false_starts.inc()
        elif name == Event.FRAME_STATS:
            self._frames(ev)
        if turn is None:
            return
        self._events.setdefault(turn, []).append(ev)
        if name == Event.PLAYBACK_START:
            self._answered(self._events.pop(turn))
        elif name == Event.TURN_END:
            self._events.pop(turn, None)
        for old in sorted(self._events)[:-KEEP_TURNS]:
            del self._events[old]

    def _answered(self, events: list[dict[str, Any]]) -> None:
        reports = turns(events)
        if not reports:  # a reply without a heard question: `kioskctl say`/`ask`
            source = next((e.get("source") for e in events if e["event"] == Event.REPLY), None)
            self.turns.labels(source or "say").inc()
            return
        t = reports[0]
        self.turns.labels(t["source"] or "unknown").inc()
        self.voice_to_voice.observe(t["voice_to_voice_ms"] / 1000)
        for stage, ms in t["stages_ms"].items():
            self.stage.labels(stage).observe(ms / 1000)
        self.recent.append({k: t[k] for k in ("turn", "source", "voice_to_voice_ms", "stages_ms")})
        # One line per answered turn: timings and the source, never words; each a journal field of its own.
        stages = t["stages_ms"]
        log.info("turn %s answered (%s): %.0f ms voice to voice (%s)", t["turn"], t["source"], t["voice_to_voice_ms"],
                 ", ".join(f"{name} {ms:.0f}" for name, ms in stages.items()),
                 extra={"TURN": t["turn"], "SOURCE": t["source"], "LATENCY_MS": round(t["voice_to_voice_ms"]),
                        **{f"STAGE_{name.upper()}_MS": round(ms) for name, ms in stages.items()}})

    def _frames(self, ev: dict[str, Any]) -> None:
        for ms in ev.get("render_ms", []):
            self.frame.observe(ms / 1000)
        intervals = ev.get("interval_ms", [])
        if intervals and sum(intervals) > 0:
            self.fps.set(round(1000 * len(intervals) / sum(intervals), 2))

    def text(self) -> bytes:
        """The Prometheus text exposition of every series."""
        return generate_latest(self.registry)
