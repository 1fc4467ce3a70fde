"""End-of-turn figures on real human recordings: how soon a finished visitor is answered, and how often one
who only paused mid-sentence is cut off.

    python -m bench.turn_bench [--set DIR] [-o vad.KEY=VALUE ...] [--calibrate] [--json OUT.json]

The set is built by `python -m bench.turn_set DIR` from recordings installed by scripts/setup.sh:
complete utterances, and the same kind of utterance with a 400-800 ms pause put in at a word boundary
mid-sentence. Each is run through the ear's own detector (kiosk/utterances.py) chunk by chunk on a
synthetic clock. At every pause it reports, smart-turn and Whisper tiny.en really run on the audio so
far, and each verdict reaches the endpointer as many chunks later as the model took here (measured per
call), as in the ear and the ASR worker. A paused item is cut off when it is answered in two turns: the
detector ended an utterance inside its pause and the visitor did not carry it on in time (vad.rejoin_ms).
One carried on is answered whole, but the reply to its fragment may have begun to play: a false start,
counted apart with how long it played. Endpointing is the time from the last voiced sample to the decision.

Both halves of the set are reported apart; --calibrate searches vad.turn_complete / turn_incomplete on
the `tune` half only.
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench.stats import pct
from bench.turn_set import read_manifest
from daemon.config import VadConfig, load
from kiosk.audio_sources import CHUNK_NS, decode_file
from kiosk.endpointing import Kind
from kiosk.utterances import UtteranceDetector
from models.asr_whisper import WhisperAsr
from models.completeness import sounds_finished, surely_finished
from models.turn_end import SmartTurn
from models.vad_silero import CHUNK, SAMPLE_RATE

DEFAULT_SET = Path(".venv/share/kioskd/turns")
TRAILING_S = 2.0  # of silence after each item, so that every utterance reaches its end
# From the end of a turn to the reply's first sound in a running kioskd (kioskctl bench, 2026-12-01, holdout
# turn set: voice-to-voice p50 429 ms less endpointing p50 288 ms): a fragment's reply plays from then on.
REPLY_AFTER_END_MS = 140


@dataclass(frozen=True)
class Judged:
    audio: float | None
    audio_ms: float
    finished: bool
    words_ms: float
    sure: bool = False


@dataclass(frozen=True)
class Outcome:
    item: dict[str, Any]
    ends: list[tuple[int, int]]  # (last voiced sample, decision) of every utterance answered, ns on the item's clock
    cut_off: bool
    endpoint_ms: float | None  # of the utterance that ends the item's speech
    false_starts_ms: list[float]  # per utterance carried on: how long its fragment's reply had played


class Judge:
    """The models' verdicts on a pause, computed once per (item, audio so far) and timed."""

    def __init__(self, turn_model: SmartTurn | None, asr: WhisperAsr, costs_ms: tuple[float, float] | None = None) -> None:
        self.turn_model, self.asr = turn_model, asr
        # (smart-turn, Whisper) per call, instead of each call's measured time: a verdict lands on a 32 ms
        # chunk, so a machine a few ms slower that day would otherwise move figures a whole chunk.
        self.costs_ms = costs_ms
        self.cache: dict[tuple[str, int], Judged] = {}
        self.texts: dict[tuple[str, int], str] = {}

    def __call__(self, item_id: str, audio: np.ndarray) -> Judged:
        key = (item_id, len(audio))
        if key not in self.cache:
            t0 = time.perf_counter()
            p = self.turn_model(audio) if self.turn_model is not None else None
            t1 = time.perf_counter()
            text = self.asr.transcribe(audio).text
            t2 = time.perf_counter()
            audio_ms, words_ms = self.costs_ms or ((t1 - t0) * 1000, (t2 - t1) * 1000)
            self.cache[key] = Judged(p, audio_ms, sounds_finished(text), words_ms, surely_finished(text))
            self.texts[key] = text
        return self.cache[key]

    def pauses(self, item_id: str) -> list[str]:
        """What each pause of an item was judged to be: the transcript so far and smart-turn's probability."""
        return [f"{self.texts[k]!r} voice {j.audio if j.audio is None else round(j.audio, 2)}"
                for k, j in sorted(self.cache.items()) if k[0] == item_id]


def run_item(item: dict[str, Any], pcm: np.ndarray, cfg: VadConfig, judge: Judge) -> Outcome:
    det = UtteranceDetector(cfg)
    pcm = np.concatenate([pcm, np.zeros(int(TRAILING_S * SAMPLE_RATE), np.int16)])
    due: list[tuple[int, str, Judged, int]] = []  # (chunk time, which verdict, the verdicts, pause it judges)
    ends: list[tuple[int, int]] = []
    false_starts: list[float] = []
    for i in range(len(pcm) // CHUNK):
        t_ns = (i + 1) * CHUNK_NS
        for verdict in [d for d in due if d[0] <= t_ns]:
            due.remove(verdict)
            judged = verdict[2]
            if verdict[1] == "audio":
                det.audio(float(judged.audio or 0.0), verdict[3])
            else:
                det.words(judged.finished, verdict[3], judged.sure)
        ev = det.feed(pcm[i * CHUNK : (i + 1) * CHUNK], t_ns)
        if ev is None:
            continue
        if ev.kind is Kind.PAUSE:
            assert ev.audio is not None
            j = judge(item["id"], ev.audio)
            if j.audio is not None and cfg.turn_model:
                due.append((t_ns + int(j.audio_ms * 1e6), "audio", j, ev.t_ns))
            due.append((t_ns + int(j.words_ms * 1e6), "words", j, ev.t_ns))
        elif ev.kind is Kind.END:
            ends.append((ev.t_ns, t_ns))
        elif ev.kind is Kind.RESUME:  # the last utterance is carried on: its reply gives way, unanswered
            _, decided = ends.pop()
            false_starts.append(max(0.0, (t_ns - decided) / 1e6 - REPLY_AFTER_END_MS))
    # Cut off: the visitor was still to say more when a turn they did not carry on ended (each item is one).
    resumed = item.get("resume_at_s")
    cut = len(ends) > 1 or (resumed is not None and any(decided < resumed * 1e9 for _, decided in ends))
    last = ends[-1] if ends else None
    return Outcome(item, ends, cut, (last[1] - last[0]) / 1e6 if last else None, false_starts)


def summarise(outcomes: list[Outcome]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for split in ("tune", "holdout"):
        rows = [o for o in outcomes if o.item["split"] == split]
        cut = {kind: [o.cut_off for o in rows if o.item["kind"] == kind] for kind in ("complete", "paused")}
        # A clean pause is one put where the speaker's words had a gap, not through a running sound.
        clean = [o.cut_off for o in rows if o.item["kind"] == "paused" and o.item.get("cut_dip_db", 1) <= 0]
        out[split] = {
            "items": len(rows),
            "false_cut_offs": f"{sum(o.cut_off for o in rows)}/{len(rows)}",
            "false_cut_off_rate": round(sum(o.cut_off for o in rows) / max(1, len(rows)), 4),
            "by_kind": {kind: f"{sum(c)}/{len(c)}" for kind, c in cut.items()},
            "clean_pauses_cut": f"{sum(clean)}/{len(clean)}",
            "endpointing_ms": pct(o.endpoint_ms for o in rows if o.endpoint_ms is not None and not o.cut_off),
            "carried_on": sum(len(o.false_starts_ms) for o in rows),
            "false_starts_heard": sum(1 for o in rows for ms in o.false_starts_ms if ms > 0),
            "false_start_ms": pct(ms for o in rows for ms in o.false_starts_ms if ms > 0),
            "waited_1s_or_more": sum(1 for o in rows if (o.endpoint_ms or 0) >= 1000),
        }
    return out


def load_set(folder: Path) -> list[tuple[dict[str, Any], np.ndarray]]:
    try:
        items = read_manifest(folder)
    except ValueError as exc:
        raise SystemExit(str(exc)) from None
    return [(item, decode_file(folder / item["wav"])) for item in items]


def evaluate(items: list[tuple[dict[str, Any], np.ndarray]], cfg: VadConfig, judge: Judge) -> list[Outcome]:
    return [run_item(item, pcm, cfg, judge) for item, pcm in items]


def calibrate(items: list[tuple[dict[str, Any], np.ndarray]], cfg: VadConfig, judge: Judge) -> VadConfig:
    """The thresholds with the fewest cut-offs on the tuning half, then the lowest endpointing p50."""
    tune = [x for x in items if x[0]["split"] == "tune"]
    best: tuple[Any, ...] | None = None
    for complete, incomplete in itertools.product([0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95],
                                                  [0.05, 0.1, 0.2, 0.3, 0.4, 0.5]):
        if incomplete >= complete:
            continue
        trial = cfg.model_copy(update={"turn_complete": complete, "turn_incomplete": incomplete})
        s = summarise(evaluate(tune, trial, judge))["tune"]
        score = (s["false_cut_off_rate"], (s["endpointing_ms"] or {"p50": 1e9})["p50"])
        print(f"turn_complete {complete:.2f} turn_incomplete {incomplete:.2f}: cut-offs {s['false_cut_offs']}, "
              f"endpointing {s['endpointing_ms']}")
        if best is None or score < best[0]:
            best = (score, trial)
    assert best is not None
    return best[1]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--set", type=Path, default=DEFAULT_SET, help="folder built by python -m bench.turn_set")
    p.add_argument("-o", dest="overrides", action="append", default=[], metavar="vad.KEY=VALUE")
    p.add_argument("--calibrate", action="store_true", help="search the smart-turn thresholds on the tuning half")
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)
    config = load(overrides=args.overrides)
    cfg = config.vad
    items = load_set(args.set)
    judge = Judge(SmartTurn(cfg.turn_model) if cfg.turn_model else None,
                  WhisperAsr(config.asr.model_used(), config.asr.language, config.asr.beam_size, config.asr.compute_type,
                             config.asr.threads))
    if args.calibrate:
        cfg = calibrate(items, cfg, judge)
        print(f"best on the tuning half: turn_complete {cfg.turn_complete}, turn_incomplete {cfg.turn_incomplete}")
    outcomes = evaluate(items, cfg, judge)
    result = {"overrides": args.overrides, "items": len(items), **summarise(outcomes),
              "smart_turn_ms": pct(j.audio_ms for j in judge.cache.values() if j.audio is not None),
              "whisper_ms": pct(j.words_ms for j in judge.cache.values())}
    for split in ("tune", "holdout"):
        s = result[split]
        print(f"{split:8} {s['items']:4} items  false cut-offs {s['false_cut_offs']} ({s['false_cut_off_rate']:.1%}; "
              f"complete {s['by_kind']['complete']}, paused {s['by_kind']['paused']}, clean pauses "
              f"{s['clean_pauses_cut']})  endpointing p50/p95 {s['endpointing_ms']} ms  waited ≥1 s {s['waited_1s_or_more']}"
              f"  carried on {s['carried_on']} (fragment's reply heard in {s['false_starts_heard']}, "
              f"{s['false_start_ms']} ms)")
    print(f"smart-turn per call {result['smart_turn_ms']} ms, Whisper per call {result['whisper_ms']} ms")
    for o in outcomes:
        if o.item["split"] == "tune" and (o.cut_off or o.false_starts_ms or (o.endpoint_ms or 0) >= 1000):
            what = "CUT" if o.cut_off else "CARRIED ON" if o.false_starts_ms else f"SLOW {o.endpoint_ms:.0f} ms"
            print(f"  {what:12} [{o.item['kind']}] {o.item['text']!r}: " + "; ".join(judge.pauses(o.item["id"])))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
