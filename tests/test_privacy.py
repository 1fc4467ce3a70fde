"""Privacy by default: what a visitor says, and what the kiosk answers, reaches the logs and the events file
only when the site config allows it (privacy.log_transcripts); card-like digit runs are masked even then."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from daemon.events import Event, EventLog, private, read_jsonl
from tests.speech import espeak, silence, write_wav
from tests.test_end_to_end import run_to_end


@pytest.mark.parametrize(("allowed", "text", "kept"), [
    (True, "My card is 4111 1111 1111 1111.", "My card is #### #### #### ####."),
    (True, "Call 020-7946-0958 at 9:30 for 2.5% on $3,500 in 2026.", "Call ###-####-#### at 9:30 for 2.5% on $3,500 in 2026."),
    (True, "Account 12345678, please", "Account ########, please"),
    (True, "我的卡号是六二二二零二一二三四，谢谢。取三十五元。", "我的卡号是##########，谢谢。取三十五元。"),  # digit by digit
    (True, "电话幺三八 一二三四 五六七八", "电话### #### ####"),
    (True, "电话幺三八，一二三四，五六七八。", "电话###，####，####。"),
    (True, "My number is 138, 1234, 5678.", "My number is ###, ####, ####."),
    (False, "My card is 4111 1111 1111 1111.", None),
    (False, "我的卡丢了，4111 1111。", None),  # a Chinese character counts as a word
])
def test_words_are_kept_only_when_allowed_and_digit_runs_never(allowed: bool, text: str, kept: str | None) -> None:
    ev = {"event": Event.ASR_FINAL, "turn": 3, "t_ns": 1, "text": text}
    out = private(ev, allowed)
    assert out.get("text") == kept
    assert allowed or out["words"] == 7
    assert ev["text"] == text  # the supervisor still has them, for `kioskctl ask` and the turn tracker


def test_a_rejected_replys_reason_keeps_its_kind_but_not_its_words() -> None:
    ev = {"event": Event.REPLY_REJECTED, "turn": 3, "t_ns": 1, "reason": "not found in the facts: dog, inside"}
    assert private(ev, False)["reason"] == "not found in the facts"
    assert private(ev, True)["reason"] == ev["reason"]
    timing = {"event": Event.SPEECH_END, "turn": 3, "t_ns": 1, "endpoint_ns": 2}
    assert private(timing, False) == timing


def test_the_event_log_writes_what_privacy_allows(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "events.jsonl")
    log.write({"event": Event.SENTENCE, "turn": 1, "t_ns": 1, "text": "We open at nine."})
    log.log_words = True  # a reload that allows them
    log.write({"event": Event.SENTENCE, "turn": 1, "t_ns": 2, "text": "We open at nine."})
    log.close()
    assert [e.get("text") for e in read_jsonl(tmp_path / "events.jsonl")] == [None, "We open at nine."]


def test_a_kiosk_on_the_default_config_keeps_no_words(tmp_path: Path) -> None:
    """A spoken question, heard and answered by a running kioskd: its log and events file hold the turn's
    timings and sources, but neither the question nor the answer."""
    wav = write_wav(tmp_path / "visitor.wav", np.concatenate([silence(1.0), espeak("What are your opening hours?"),
                                                            silence(1.5)]))
    events, log = tmp_path / "events.jsonl", tmp_path / "kioskd.log"
    with log.open("wb") as err:
        assert run_to_end("--audio-in", str(wav), "--events", str(events), run_dir=tmp_path / "run", stderr=err,
                          words=False) == 0
    kept = events.read_text().lower() + log.read_text().lower()
    got = read_jsonl(events)
    final = next(e for e in got if e["event"] == "asr_final")
    assert final["words"] >= 4 and "text" not in final
    assert any(e["event"] == "reply" and e["source"] == "faq" for e in got)
    assert any(e["event"] == "turn_end" and e.get("answered") for e in got)
    for words in ("opening hours", "what are your", "monday", "friday"):
        assert words not in kept, words


# Run in a fresh interpreter: notes ORT_DISABLE_TELEMETRY at the moment onnxruntime is first imported.
_AT_IMPORT = """
import importlib.abc, os, sys
seen = []
class Watch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "onnxruntime" and not seen:
            seen.append(os.environ.get("ORT_DISABLE_TELEMETRY"))
sys.meta_path.insert(0, Watch())
import {entry}
import onnxruntime
print(seen[0])
"""


@pytest.mark.parametrize("entry", ["daemon.cli_kioskd", "daemon.cli_kioskctl", "daemon.worker_main", "models.tts_piper",
                                   "bench.zh_voice", "daemon.studio"])
def test_onnxruntime_telemetry_is_off_before_onnxruntime_loads(entry: str) -> None:
    """onnxruntime 1.32 looks up Microsoft's telemetry host from every process that makes a session, unless
    ORT_DISABLE_TELEMETRY is set before it is imported (seen with strace: DNS queries for
    mobile.events.data.microsoft.com 9 s after a session was made). Every entry point sets it first."""
    env = {k: v for k, v in os.environ.items() if k != "ORT_DISABLE_TELEMETRY"}
    out = subprocess.run([sys.executable, "-c", _AT_IMPORT.format(entry=entry)], env=env, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "1"
