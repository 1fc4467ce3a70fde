"""End of turn on real human recordings (bench/turn_set.py, built here from the recordings setup installs):
the endpointing and false cut-off figures of both halves must not fall below today's. The figures
themselves, and how they were reached, are in README ("Listening") and bench/results/turns-*.json."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench.turn_bench import Judge, evaluate, load_set, summarise
from bench.turn_set import build
from daemon.config import load
from models.asr_whisper import WhisperAsr
from models.turn_end import SmartTurn


@pytest.fixture(scope="module")
def figures(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder: Path = tmp_path_factory.mktemp("turns")
    build(folder, progress=False)
    config = load()
    # Each model call costs its p50 on this 2-core machine (bench/turn_bench.py prints them: 96-118 ms and
    # 200-235 ms on different days), so a slow moment of the CI machine cannot move a verdict a chunk later.
    judge = Judge(SmartTurn(), WhisperAsr(config.asr.model), costs_ms=(110, 230))
    return summarise(evaluate(load_set(folder), config.vad, judge))


@pytest.mark.parametrize("half", ["tune", "holdout"])
def test_a_finished_visitor_is_heard_as_finished_within_a_quarter_second(figures: dict[str, Any], half: str) -> None:
    assert figures[half]["items"] > 100
    assert figures[half]["endpointing_ms"]["p50"] <= 250


@pytest.mark.parametrize(("half", "today"), [("tune", 22 / 114), ("holdout", 32 / 124)])
def test_false_cut_offs_do_not_grow(figures: dict[str, Any], half: str, today: float) -> None:
    # Far above the 2 % the kiosk aims at (see README); this only keeps them from getting worse.
    assert figures[half]["false_cut_off_rate"] <= today + 0.03, figures[half]
