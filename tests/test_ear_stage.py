"""The ear stage on a local port (no rings, no bus): a recording played in with `Hear` becomes a visitor's
turn, its first pause sent ahead as a speculation and the whole utterance after its endpoint."""

from __future__ import annotations

import time
from pathlib import Path

from daemon.commands import Hear, Start
from daemon.config import load
from daemon.messages import Utterance
from daemon.stage import LocalPort
from daemon.workers.ear import Ear

SAMPLE = Path(__file__).resolve().parent.parent / "configs" / "samples" / "opening-hours.wav"


def test_a_recording_heard_becomes_one_turn() -> None:
    port = LocalPort()
    ear = Ear(load(), port, {"audio_in": "none"})
    ear.setup()
    try:
        ear.command(Start())
        ear.command(Hear(str(SAMPLE)))
        deadline = time.monotonic() + 20
        while not any(e["event"] == "hear_end" for e in port.reported):
            ear.tick()
            assert time.monotonic() < deadline, "the recording was never heard to its end"
    finally:
        ear.teardown()
    names = [e["event"] for e in port.reported]
    assert names.count("speech_start") == 1 and names.count("speech_end") == 1
    (turn,) = {e["turn"] for e in port.reported if e["event"] in ("speech_start", "speech_end")}
    sent = port.take()
    utterances = [m for m in sent if isinstance(m.body, Utterance)]
    assert utterances and all(m.turn == turn for m in utterances)
    final = utterances[-1]
    assert isinstance(final.body, Utterance) and not final.body.speculative
    end = next(e for e in port.reported if e["event"] == "speech_end")
    assert final.t_ns == end["t_ns"]  # the utterance is stamped with its last voiced sample
    assert 1.0 < len(final.body.pcm) / 2 / 16000 < 6.0  # the question, with its pre-roll, not the trailing silence
