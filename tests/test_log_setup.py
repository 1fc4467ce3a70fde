"""Logs: plain lines on a terminal; under systemd, journal records whose fields carry the turn, the reply's
source and its latencies (never the visitor's words), each answered turn one record."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from daemon import log_setup
from daemon.metrics import Live, Metrics


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_the_journal_is_used_only_when_it_is_on_stderr(monkeypatch: pytest.MonkeyPatch) -> None:
    st = os.fstat(sys.stderr.fileno())
    monkeypatch.setenv("JOURNAL_STREAM", f"{st.st_dev}:{st.st_ino}")
    assert log_setup.under_journal()
    monkeypatch.setenv("JOURNAL_STREAM", f"{st.st_dev}:{st.st_ino + 1}")  # stderr redirected elsewhere
    assert not log_setup.under_journal()
    monkeypatch.delenv("JOURNAL_STREAM")
    assert not log_setup.under_journal()


def test_an_answered_turn_is_one_journal_record_with_its_timings(restore_logging: None) -> None:
    sent: list[dict[str, Any]] = []
    log_setup.configure("kioskd", send=lambda MESSAGE, **fields: sent.append({"MESSAGE": MESSAGE, **fields}))
    metrics = Metrics(lambda: Live([], {}, True))
    ms = 1_000_000
    for event in ({"event": "speech_end", "turn": 7, "t_ns": 0, "endpoint_ns": 200 * ms, "words": 5},
                  {"event": "asr_final", "turn": 7, "t_ns": 260 * ms, "words": 5},
                  {"event": "reply", "turn": 7, "t_ns": 270 * ms, "source": "faq"},
                  {"event": "sentence", "turn": 7, "t_ns": 280 * ms, "words": 9},
                  {"event": "tts_first_audio", "turn": 7, "t_ns": 290 * ms},
                  {"event": "playback_start", "turn": 7, "t_ns": 330 * ms}):
        metrics.on_event(event)
    [record] = [r for r in sent if r.get("TURN") == 7]
    assert record["MESSAGE"] == ("turn 7 answered (faq): 330 ms voice to voice (endpointing 200, asr 60, "
                                 "brain_first_sentence 20, voice_first_audio 10, playback_start 40)")
    assert (record["SOURCE"], record["LATENCY_MS"], record["STAGE_ASR_MS"]) == ("faq", 330, 60)
    assert record["SYSLOG_IDENTIFIER"] == "kioskd" and record["KIOSKD_PROCESS"] == "kioskd"


def test_a_terminal_gets_plain_lines(restore_logging: None, capsys: pytest.CaptureFixture[str]) -> None:
    log_setup.configure("brain")
    logging.getLogger("kioskd.brain").info("hello", extra={"TURN": 3})
    assert capsys.readouterr().err.rstrip().endswith("brain INFO hello")
