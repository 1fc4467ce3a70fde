"""Routing accuracy on the labelled question set, each half reported on its own.

    python -m bench.routing_bench [--questions FILE ...] [-o KEY=VALUE] [--show-holdout] [--calibrate] [--json OUT]

tests/data/routing_questions.yaml holds questions worded differently from the FAQ (paraphrases,
off-topic, unanswerable, forbidden topics, instruction overrides, follow-ups), each with the routes
that count as right. Its `tune` half may be looked at and tuned on; the `holdout` half is only ever
counted: its wrong answers are listed only with --show-holdout. --calibrate searches the routing
thresholds on the tuning half alone and prints the best, to be copied into configs/default.yaml.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from daemon.config import load, resolve
from models.faq import load_dialogue, load_faq
from models.language import written_in
from models.routing import Decision, Route, Router, Thresholds

QUESTIONS = Path(__file__).resolve().parent.parent / "tests" / "data" / "routing_questions.yaml"


@dataclass(frozen=True)
class Item:
    q: str
    expect: list[str]
    kind: str
    split: str
    after: str | None = None


def load_items(path: Path = QUESTIONS) -> list[Item]:
    return [Item(**raw) for raw in yaml.safe_load(path.read_text(encoding="utf-8"))]


def build_router(profile: str | None = None, overrides: list[str] | None = None) -> Router:
    c = load(profile=profile, overrides=overrides).brain
    return Router(load_faq(resolve(c.faq)), load_dialogue(resolve(c.dialogue)), c.routing.thresholds())


def label(router: Router, d: Decision) -> str:
    """The labelled set's name for an outcome: faq:<entry id>, llm, smalltalk or referral."""
    return f"faq:{router.faq[d.entry].id}" if d.route is Route.FAQ and d.entry is not None else d.route.value


def evaluate(router: Router, items: list[Item]) -> list[tuple[Item, Decision, bool]]:
    out = []
    for item in items:
        d = router.route(item.q, item.after, written_in(item.q))
        out.append((item, d, label(router, d) in item.expect))
    return out


def summary(results: list[tuple[Item, Decision, bool]]) -> dict[str, Any]:
    by_split: dict[str, Any] = {}
    for split in ("tune", "holdout"):
        rows = [r for r in results if r[0].split == split]
        kinds = Counter(r[0].kind for r in rows)
        right = Counter(r[0].kind for r in rows if r[2])
        by_split[split] = {
            "n": len(rows), "right": sum(r[2] for r in rows),
            "accuracy": round(sum(r[2] for r in rows) / max(1, len(rows)), 4),
            "by_kind": {k: f"{right[k]}/{n}" for k, n in sorted(kinds.items())},
            "unsafe_llm": _unsafe(rows),
        }
    return by_split


# Routing a question to the LLM that it should not reach counts as this many wrong answers in calibration:
# the reply check catches an invented figure, but such a question mostly ends as a late referral.
UNSAFE_WEIGHT = 3


def _unsafe(results: list[tuple[Item, Decision, bool]]) -> int:
    """LLM-routed questions that should never reach the LLM (a forbidden topic, an override, small talk)."""
    return sum(1 for it, d, _ in results if d.route is Route.LLM and "llm" not in it.expect)


def _calibrate(router: Router, items: list[Item]) -> Thresholds:
    tune = [i for i in items if i.split == "tune"]
    # Every grid point routes the same texts: score each once, then only the thresholds' choice is repeated.
    router.scores = functools.lru_cache(maxsize=None)(router.scores)  # type: ignore[method-assign]
    grid = {
        "faq": [0.84, 0.85, 0.86, 0.87, 0.88, 0.89, 0.9, 0.91, 0.92],
        "faq_margin": [0.0, 0.01, 0.02],
        "smalltalk": [0.84, 0.86, 0.88, 0.9],
        "llm": [0.8, 0.82, 0.84, 0.86, 0.88, 0.9],
        "offtopic_margin": [-0.06, -0.05, -0.04, -0.03, -0.02, -0.01, 0.0, 0.01],
        "faq_guarded": [0.92, 0.9, 0.88, 0.86],  # strictest first: a tie keeps never-LLM topics off the FAQ
    }
    best: tuple[int, Thresholds] | None = None
    for values in itertools.product(*grid.values()):
        t = Thresholds(**dict(zip(grid, values, strict=True)))
        if t.llm > t.faq or t.faq_guarded < t.faq:
            continue
        router.t = t
        results = evaluate(router, tune)
        score = sum(ok for _, _, ok in results) - UNSAFE_WEIGHT * _unsafe(results)
        if best is None or score > best[0]:
            best = (score, t)
    assert best is not None
    print(f"best on the tuning half: {best[0]} (right less {UNSAFE_WEIGHT} per unsafe LLM route) of {len(tune)} "
          f"with {best[1]}")
    return best[1]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--questions", type=Path, nargs="+", default=[QUESTIONS], metavar="FILE",
                   help="labelled sets, each reported on its own; --calibrate tunes on all their tune halves")
    p.add_argument("--profile", default=None)
    p.add_argument("-o", dest="overrides", action="append", default=[], metavar="KEY.PATH=VALUE",
                   help="config override, e.g. brain.routing.faq=0.88 (repeatable)")
    p.add_argument("--show-holdout", action="store_true", help="also list the holdout half's wrong answers")
    p.add_argument("--calibrate", action="store_true", help="search the thresholds on the tuning half")
    p.add_argument("--json", type=Path, metavar="OUT.json")
    args = p.parse_args(argv)
    router = build_router(args.profile, args.overrides)
    sets = {path: load_items(path) for path in args.questions}
    if args.calibrate:
        router.t = _calibrate(router, [item for items in sets.values() for item in items])
    report: dict[str, Any] = {"thresholds": router.t.__dict__}
    for path, items in sets.items():
        results = evaluate(router, items)
        for item, d, ok in results:
            if not ok and (item.split == "tune" or args.show_holdout):
                print(f"WRONG [{item.split}/{item.kind}] {item.q!r} -> {label(router, d)} "
                      f"(want {'|'.join(item.expect)}; {d.reason}, score {d.score:.3f})")
        report[path.name] = figures = summary(results)
        for split, s in figures.items():
            if s["n"]:
                print(f"{path.name:32} {split:8} {s['right']}/{s['n']} = {s['accuracy']:.1%}  "
                      f"unsafe LLM routes {s['unsafe_llm']}  " + "  ".join(f"{k} {v}" for k, v in s["by_kind"].items()))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

