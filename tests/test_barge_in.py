"""Barge-in end to end: while the kiosk speaks a long answer, its own voice leaks back into the input
(a simulated speaker-to-microphone path) and never opens a turn; a visitor who speaks over it stops it
at once and gets an answer to the new question."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from daemon.config import load, resolve
from daemon.events import read_jsonl
from models.faq import load_faq
from tests.speech import espeak, silence, write_wav
from tests.test_end_to_end import by_turn, kioskd

FAQ = load_faq(resolve(load().brain.faq))
# Its transcript by tiny.en and its route survive echo over its first second and a clipped onset (a sweep of
# 13 such; "Where is the nearest ATM?" became "Where is not here with safety?" in 6 of them, and once in CI).
CARD_ANSWER = next(e.answer for e in FAQ if "card hotline" in e.answer)


def test_visitor_interrupts_and_echo_never_triggers(tmp_path: Path, runtime_dir: Path) -> None:
    first = espeak("What are your opening hours?")
    second = espeak("How do I report a stolen card?")
    # The hours answer lasts ~6 s and starts ~0.6 s after the question: ask again 2.5 s into it.
    wav = write_wav(tmp_path / "visitor.wav", np.concatenate([silence(1.0), first, silence(3.1), second, silence(12.0)]))
    events = tmp_path / "events.jsonl"
    proc = kioskd("--audio-in", str(wav), "--events", str(events), "-o", "audio_in.echo_gain=0.35",
                  run_dir=runtime_dir)
    assert proc.wait(timeout=300) == 0
    log = read_jsonl(events)
    starts = by_turn(log, "speech_start")
    assert len(starts) == 2, f"echo or noise opened a turn: {[e for e in log if e['event'] == 'speech_start']}"
    t1, t2 = sorted(starts)
    barge = by_turn(log, "barge_in")
    assert list(barge) == [t2]
    stop = by_turn(log, "playback_stop")[t1][0]
    latency_ms = (stop["t_ns"] - starts[t2][0]["t_ns"]) / 1e6
    print(f"barge-in: the kiosk fell silent {latency_ms:.0f} ms after the visitor started speaking")
    assert 0 < latency_ms < 250  # loose bound; bench/ reports the figure
    ends = {e["turn"]: e for e in log if e["event"] == "turn_end"}
    assert ends[t1]["answered"] is False and "spoke over" in ends[t1]["reason"]
    assert ends[t2]["answered"] is True
    assert " ".join(e["text"] for e in by_turn(log, "sentence")[t2]) == CARD_ANSWER
