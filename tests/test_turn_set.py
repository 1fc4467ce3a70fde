"""End of turn on real human recordings (bench/turn_set.py, built here from the recordings setup installs):
the endpointing, false cut-off and false start figures of both halves must not fall below today's. The figures
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
    judge = Judge(SmartTurn(), WhisperAsr(config.asr.model_used()), costs_ms=(110, 230))
    return summarise(evaluate(load_set(folder), config.vad, judge))


@pytest.mark.parametrize("half", ["tune", "holdout"])
def test_a_finished_visitor_is_heard_as_finished_within_a_quarter_second(figures: dict[str, Any], half: str) -> None:
    assert figures[half]["items"] > 100
    assert figures[half]["endpointing_ms"]["p50"] <= 250


@pytest.mark.parametrize(("half", "cut", "false_starts"), [("tune", 0, 17), ("holdout", 5, 22)])
def test_few_visitors_are_answered_in_pieces(figures: dict[str, Any], half: str, cut: int, false_starts: int) -> None:
    """A visitor who only paused is answered in two turns (cut off) only when they did not carry on within
    vad.rejoin_ms; 19 / 31 of them were before carrying on existed. Carried on, the fragment's reply may have begun
    to play: that false start must not grow either."""
    f = figures[half]
    assert int(f["false_cut_offs"].split("/")[0]) <= cut + 2, f
    assert f["carried_on"] >= f["false_starts_heard"] and f["false_starts_heard"] <= false_starts + 4, f
