"""`kioskctl bench`: run a real kioskd headless, play recorded questions into it one visitor at a time,
and measure everything from its events, its recording and /proc. `--soak` keeps going for a duration
and reports resource growth."""

from __future__ import annotations

import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bench import av_sync, lip_sync, stats
from bench.procs import Sample, sample
from daemon import config as config_mod
from daemon import events as events_mod
from daemon.control import ControlError, request
from daemon.events import Event
from daemon.paths import control_socket

SAMPLES = Path(__file__).resolve().parent.parent / "configs" / "samples"
GAP_S = 0.5  # between one visitor's reply ending and the next question
TURN_TIMEOUT_S = 60.0
# Soak: growth is measured from here, after caches, allocators and high-water marks settle (the LLM's
# first temperature-sampled replies allocate ~80 MB it keeps and reuses).
WARMUP_TURNS = 30
SERIES_POINTS = 60  # soak: RSS readings kept in the JSON


class BenchError(RuntimeError):
    """The benchmark could not run; the message says why."""


@dataclass
class BenchOptions:
    audio: list[Path]
    turns: int = 20
    soak_s: float | None = None
    barge_ins: int = 5
    baseline: bool = True
    workdir: Path | None = None
    overrides: list[str] = field(default_factory=list)  # -o key.path=value for the benchmarked kioskd
    paused: set[Path] = field(default_factory=set)  # files of one turn with a pause mid-sentence (a turn set)
    display: str = "offscreen"  # or fullscreen on this machine's display (an Xvfb one for a headless 1080p run)
    record: bool = True  # the lip-sync figures need the recording; a live kiosk's frame times do not


def bundled_questions() -> list[Path]:
    return sorted(SAMPLES.glob("*.wav"))


class EventTail:
    """Reads the events file as kioskd appends to it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.events: list[dict[str, Any]] = []
        self._pos = 0

    def poll(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        with self.path.open("rb") as f:
            f.seek(self._pos)
            data = f.read()
        complete = data[: data.rfind(b"\n") + 1]
        self._pos += len(complete)
        new = [json.loads(line) for line in complete.splitlines() if line.strip()]
        self.events += new
        return new


class Kiosk:
    """A headless kioskd under the benchmark's control."""

    def __init__(self, workdir: Path, overrides: list[str], display: str = "offscreen", record: bool = True) -> None:
        self.run_dir = Path(tempfile.mkdtemp(prefix="kb-"))  # short: unix socket paths are limited
        self.events = EventTail(workdir / "events.jsonl")
        self.record = workdir / "record.mp4" if record else None
        self.log = (workdir / "kioskd.log").open("wb")
        self.carried_on = self.false_starts = 0  # turns the visitor carried on, and those whose reply had begun
        env = {**os.environ, "SDL_AUDIODRIVER": "dummy"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "daemon.cli_kioskd", "--audio-in", "none", "--display", display,
             *(["--record", str(self.record)] if self.record else []),
             "--events", str(self.events.path), "--runtime-dir", str(self.run_dir),
             "-o", "privacy.log_transcripts=true",  # the figures name what was heard and said
             "-o", "api.listen=null",  # never the port (or the token) of a kiosk running on the same box
             *[arg for o in overrides for arg in ("-o", o)]],
            env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, timeout: float = 180.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(f"kioskd exited with code {self.proc.returncode} before it was ready "
                                 f"(see {self.log.name})")
            try:
                status = request(control_socket(self.run_dir), {"cmd": "status"})
            except ControlError:
                status = {}
            if status.get("ready"):
                return
            time.sleep(0.3)
        raise BenchError(f"kioskd not ready within {timeout:.0f} s (see {self.log.name})")

    def _hear(self, wav: Path) -> None:
        reply = request(control_socket(self.run_dir), {"cmd": "hear", "path": str(wav.resolve())})
        if not reply.get("ok"):
            raise BenchError(f"{wav}: {reply.get('error')}")

    def interrupt(self, first: Path, second: Path) -> list[int]:
        """Ask `first`, and once its reply has played for a moment, ask `second` over it (soon enough
        that a one-word reply is still playing when the visitor's voice is detected)."""
        seen = len(self.events.events)
        self._hear(first)
        deadline = time.monotonic() + TURN_TIMEOUT_S
        while not any(e["event"] == Event.PLAYBACK_START for e in self.events.events[seen:]):
            if time.monotonic() > deadline:
                raise BenchError(f"{first}: no reply to interrupt within {TURN_TIMEOUT_S:.0f} s")
            self.events.poll()
            time.sleep(0.05)
        time.sleep(0.3)
        return self.ask(second)

    def ask(self, wav: Path) -> list[int]:
        """Play one question into the ear; wait until every turn it opened has ended. Returns those turns but
        the ones the visitor carried on (counted in `carried_on`, and in `false_starts` when their reply had
        begun to play)."""
        self._hear(wav)
        opened: set[int] = set()
        ended: set[int] = set()
        carried: set[int] = set()
        played: set[int] = set()
        heard = False
        deadline = time.monotonic() + TURN_TIMEOUT_S
        while time.monotonic() < deadline:
            for ev in self.events.poll():
                if ev["event"] == Event.HEAR_FAILED:
                    raise BenchError(f"{wav}: {ev.get('error')}")
                if ev["event"] == Event.SPEECH_START:
                    opened.add(ev["turn"])
                    carried.add(ev.get("continues", 0))
                elif ev["event"] == Event.PLAYBACK_START:
                    played.add(ev["turn"])
                elif ev["event"] == Event.TURN_END:
                    ended.add(ev["turn"])
                elif ev["event"] == Event.HEAR_END:
                    heard = True
            if heard and opened <= ended:
                break
            if self.proc.poll() is not None:
                raise BenchError(f"kioskd exited with code {self.proc.returncode} during the run")
            time.sleep(0.05)
        carried &= opened
        self.carried_on += len(carried)
        self.false_starts += len(carried & played)
        return sorted((opened & ended) - carried)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        self.events.poll()
        return self.proc.returncode


def _growth(first: Sample, last: Sample) -> dict[str, Any]:
    return {
        "rss_mb": [first.rss_mb_total, last.rss_mb_total],
        "rss_growth_pct": round((last.rss_mb_total - first.rss_mb_total) / first.rss_mb_total * 100, 2),
        "pss_mb": [first.pss_mb_total, last.pss_mb_total],
        "pss_growth_pct": round((last.pss_mb_total - first.pss_mb_total) / first.pss_mb_total * 100, 2),
        "fds": [first.fds, last.fds],
        "shm_segments": [first.shm, last.shm],
    }


def run(opts: BenchOptions, console: Console) -> dict[str, Any]:
    for wav in opts.audio:
        if not wav.is_file():
            raise BenchError(f"{wav}: no such audio file")
    workdir = opts.workdir or Path(tempfile.mkdtemp(prefix="kioskd-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    cfg = config_mod.load(overrides=opts.overrides)  # a bad override fails here, before anything starts
    console.print(f"[bold]kioskd bench[/]: {len(opts.audio)} question file(s), "
                  + (f"soak {opts.soak_s:.0f} s" if opts.soak_s else f"{opts.turns} turns") + f"; files in {workdir}")
    # A benchmark stopped by SIGTERM must still stop its kioskd (which runs in its own session).
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    kiosk = Kiosk(workdir, opts.overrides, opts.display, opts.record)
    samples: list[tuple[float, Sample]] = []
    asked = answered = 0
    heard: list[tuple[Path, int]] = []  # each file asked, and how many turns the kiosk heard in it
    try:
        with console.status("starting kioskd"):
            kiosk.wait_ready()
        t_start = time.monotonic()
        end_at = t_start + opts.soak_s if opts.soak_s else None
        first = sample(kiosk.proc.pid)
        if first:
            samples.append((0.0, first))
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=console, transient=True) as progress:
            task = progress.add_task("turns", total=None if end_at else opts.turns)
            while (time.monotonic() < end_at) if end_at else (asked < opts.turns):
                wav = opts.audio[asked % len(opts.audio)]
                turns = kiosk.ask(wav)
                heard.append((wav, len(turns)))
                answered += len(turns)
                asked += 1
                s = sample(kiosk.proc.pid)
                if s:
                    samples.append((time.monotonic() - t_start, s))
                progress.update(task, advance=1, description=f"turns ({wav.name})")
                time.sleep(GAP_S)
            if opts.barge_ins and len(opts.audio) > 1:
                task = progress.add_task("barge-ins", total=opts.barge_ins)
                for i in range(opts.barge_ins):
                    kiosk.interrupt(opts.audio[i % len(opts.audio)], opts.audio[(i + 1) % len(opts.audio)])
                    progress.update(task, advance=1)
                    time.sleep(GAP_S)
        wall = time.monotonic() - t_start
    finally:
        code = kiosk.stop()
    if code != 0:
        raise BenchError(f"kioskd exited with code {code} (see {workdir / 'kioskd.log'})")
    result = _results(opts, cfg, kiosk, workdir, samples, asked, wall, console)
    result["heard_as"] = {**_heard_as(heard, opts.paused), "carried_on": kiosk.carried_on,
                          "false_starts_heard": kiosk.false_starts}
    return result


def _heard_as(heard: list[tuple[Path, int]], paused: set[Path]) -> dict[str, Any]:
    """Each file is one visitor's turn: one heard as two was cut off (a false cut-off, when its visitor
    only paused mid-sentence)."""
    cut = sum(n > 1 and wav in paused for wav, n in heard)
    asked_paused = sum(wav in paused for wav, _ in heard)
    return {"files": len(heard), "more_than_one_turn": sum(n > 1 for _, n in heard),
            "paused_files": asked_paused, "false_cut_offs": cut,
            "false_cut_off_rate": round(cut / max(1, asked_paused), 4) if paused else None}


def _results(opts: BenchOptions, cfg: config_mod.Config, kiosk: Kiosk, workdir: Path,
             samples: list[tuple[float, Sample]], asked: int, wall: float, console: Console) -> dict[str, Any]:
    events = kiosk.events.events
    turns = events_mod.turns(events)
    ready = next(e for e in events if e["event"] == Event.READY)
    last = samples[-1][1]
    first_cpu = samples[0][1].cpu_s
    result: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "arch": platform.machine(), "kernel": platform.release(),
                    "python": platform.python_version(), "cpu": _cpu_name()},
        "questions": [p.name for p in opts.audio],
        "overrides": opts.overrides,
        "asked": asked,
        "turns": len(turns),
        "transcripts": [t["transcript"] for t in turns],
        "reply_sources": [t["source"] for t in turns],
        "voice_to_voice_ms": stats.pct(t["voice_to_voice_ms"] for t in turns),
        # The LLM's turns are the slow ones: each source on its own.
        "by_source": {src: {"turns": sum(t["source"] == src for t in turns),
                            "voice_to_voice_ms": stats.pct(t["voice_to_voice_ms"] for t in turns if t["source"] == src),
                            "brain_first_sentence_ms": stats.pct(t["stages_ms"]["brain_first_sentence"] for t in turns
                                                                 if t["source"] == src
                                                                 and "brain_first_sentence" in t["stages_ms"])}
                      for src in sorted({str(t["source"]) for t in turns})},
        "stages_ms": {name: stats.pct(t["stages_ms"][name] for t in turns if name in t["stages_ms"])
                      for name in events_mod.STAGES},
        **stats.frames(events),
        "barge_in_ms": stats.pct(stats.barge_ins(events)),
        "rss_mb_total": max(s.rss_mb_total for _, s in samples),
        "rss_mb": last.rss_mb,
        "pss_mb_total": max(s.pss_mb_total for _, s in samples),
        "pss_mb": last.pss_mb,
        "cpu_pct": {name: round((last.cpu_s[name] - first_cpu.get(name, 0.0)) / wall * 100, 1) for name in last.cpu_s},
        "boot_to_ready_ms": ready["boot_ms"],
        "workdir": str(workdir),
    }
    if kiosk.record is not None:
        with console.status("analysing the recording"):
            result.update(av_sync.analyse(kiosk.record, events))
        with console.status("finding the lips in every frame of the replies"):
            result.update(lip_sync.analyse(kiosk.record, events))
    if opts.soak_s:
        warm = samples[min(WARMUP_TURNS, len(samples) - 1)][1]
        window_fps = [round(1000 / (sum(e["interval_ms"]) / len(e["interval_ms"])), 1)
                      for e in events if e["event"] == Event.FRAME_STATS and e.get("interval_ms")]
        step = max(1, len(samples) // SERIES_POINTS)
        result["soak"] = {"duration_s": round(wall), **_growth(warm, last),
                          "fps_min": min(window_fps), "fps_max": max(window_fps),
                          # the curve, so growth can be told from a high-water mark reached early
                          "pss_series": [{"t_s": round(t), **s.pss_mb} for t, s in samples[::step]]}
    if opts.baseline:
        result.update(_baseline(opts, cfg, result, console))
    return result


def _baseline(opts: BenchOptions, cfg: config_mod.Config, result: dict[str, Any], console: Console) -> dict[str, Any]:
    from bench.baseline import NaivePipeline

    with console.status("naive sequential baseline"):
        naive = NaivePipeline(cfg)
        endpointing = (result["stages_ms"]["endpointing"] or {"p50": 0.0})["p50"]
        values = [endpointing + naive.reply_ms(wav) for wav in opts.audio for _ in range(2)]
    base = stats.pct(values)
    ours = result["voice_to_voice_ms"]
    ratio = round(base["p50"] / ours["p50"], 2) if base and ours else None
    return {"baseline_voice_to_voice_ms": base, "speedup_vs_baseline_p50": ratio}


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def print_table(r: dict[str, Any], console: Console) -> None:
    def fmt(d: dict[str, float] | None) -> str:
        return " / ".join(f"{v:g}" for v in d.values()) if d else "—"

    t = Table(title=f"kioskd bench: {r['turns']} turns on {r['machine']['cpus']} × {r['machine']['cpu']}")
    t.add_column("measure")
    t.add_column("value", justify="right")
    t.add_column("target", justify="right")
    t.add_row("voice-to-voice p50 / p95 (ms)", fmt(r["voice_to_voice_ms"]), "700 / 1000")
    for name, v in r["stages_ms"].items():
        t.add_row(f"  {name} p50 / p95 (ms)", fmt(v), "")
    for src, s in r.get("by_source", {}).items():
        t.add_row(f"  {src} turns ({s['turns']}): voice-to-voice, brain first sentence p50 / p95 (ms)",
                  f"{fmt(s['voice_to_voice_ms'])}; {fmt(s['brain_first_sentence_ms'])}", "LLM ≤ 600" if src == "llm" else "")
    h = r.get("heard_as")
    if h:
        t.add_row("files heard as more than one turn", f"{h['more_than_one_turn']}/{h['files']}", "0")
        if h["paused_files"]:
            t.add_row("  false cut-offs: paused mid-sentence, heard as two",
                      f"{h['false_cut_offs']}/{h['paused_files']} ({h['false_cut_off_rate']:.1%})", "≤ 2 %")
        t.add_row("  carried on after a pause taken for the end: all, the fragment's reply begun",
                  f"{h['carried_on']}, {h['false_starts_heard']}", "")
    t.add_row("naive sequential p50 / p95 (ms)", fmt(r.get("baseline_voice_to_voice_ms")), "")
    t.add_row("  speed-up vs naive (p50)", f"{r.get('speedup_vs_baseline_p50') or '—'}×", "")
    if "av_offset_ms" in r:
        t.add_row("first mouth movement after first audible sound p50 / p95 (ms)", fmt(r["mouth_latency_ms"]), "")
        t.add_row("A/V offset, mouth after sound (ms)", f"{r['av_offset_ms']}", "-100 .. 40")
        t.add_row("lip sync on the picture: correlation with loudness, lag (ms)",
                  f"{r.get('lip_corr')}, {r.get('lip_lag_ms')}", "lag ±40")
    t.add_row("frame time p50 / p99 (ms)", fmt(r["frame_ms"]), "p99 ≤ 40")
    t.add_row("frame interval p50 / p99 (ms)", fmt(r["frame_interval_ms"]), "")
    t.add_row("fps", f"{r['fps']}", "30")
    t.add_row("barge-in p50 / p95 (ms)", fmt(r["barge_in_ms"]), "150")
    t.add_row("memory total, max: PSS (RSS summed) (MB)", f"{r['pss_mb_total']:.0f} ({r['rss_mb_total']:.0f})", "1500")
    t.add_row("  PSS per process (MB)", ", ".join(f"{k} {v:.0f}" for k, v in r["pss_mb"].items()), "")
    t.add_row("  CPU per process (% of one core)", ", ".join(f"{k} {v:g}" for k, v in r["cpu_pct"].items()), "")
    t.add_row("boot to READY (ms)", f"{r['boot_to_ready_ms']}", "8000")
    if "soak" in r:
        s = r["soak"]
        t.add_row("soak: duration, memory growth PSS (RSS)",
                  f"{s['duration_s']} s, {s['pss_growth_pct']:+.2f} % ({s['rss_growth_pct']:+.2f} %)", "≤ 5 %")
        t.add_row("soak: fds, shm segments (start → end)",
                  f"{s['fds'][0]}→{s['fds'][1]}, {s['shm_segments'][0]}→{s['shm_segments'][1]}", "no growth")
        t.add_row("soak: fps per 5 s window min / max", f"{s['fps_min']} / {s['fps_max']}", "steady")
    console.print(t)
    console.print("transcripts: " + "; ".join(f"{x!r}" for x in r["transcripts"][:10])
                  + (" ..." if len(r["transcripts"]) > 10 else ""))
