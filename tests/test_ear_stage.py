"""The ear stage on a local port (no rings, no bus): a recording played in with `Hear` becomes a visitor's
turn, its first pause sent ahead as a speculation and the whole utterance after its endpoint."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from daemon.commands import Hear, Start
from daemon.config import load
from daemon.messages import Utterance
from daemon.stage import LocalPort
from daemon.workers.ear import Ear
from kiosk.audio_sources import decode_file
from tests.speech import spoken_part, write_wav

SAMPLE = Path(__file__).resolve().parent.parent / "configs" / "samples" / "opening-hours.wav"


def hear(path: Path, overrides: list[str] | None = None) -> LocalPort:
    """Play a recording into a fresh ear stage; what it reported and sent is on the port."""
    port = LocalPort()
    ear = Ear(load(overrides=overrides), port, {"audio_in": "none"})
    ear.setup()
    try:
        ear.command(Start())
        ear.command(Hear(str(path)))
        deadline = time.monotonic() + 30
        while not any(e["event"] == "hear_end" for e in port.reported):
            ear.tick()
            assert time.monotonic() < deadline, "the recording was never heard to its end"
    finally:
        ear.teardown()
    return port


def test_a_recording_heard_becomes_one_turn() -> None:
    port = hear(SAMPLE)
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


def test_a_visitor_who_carries_on_after_the_end_continues_their_turn(tmp_path: Path) -> None:
    """The turn is ended 300 ms into a 700 ms pause; the visitor goes on, so the new turn continues the
    first (its reply is dropped: speech_resumed) and its utterance is the whole, the pause included."""
    pcm = spoken_part(decode_file(SAMPLE))
    gap = np.zeros(int(0.7 * 16000), np.int16)
    write_wav(tmp_path / "paused.wav", np.concatenate([pcm, gap, pcm]))
    port = hear(tmp_path / "paused.wav", ["vad.speculate_ms=0", "vad.end_silence_ms=300"])
    starts = [e for e in port.reported if e["event"] == "speech_start"]
    ends = [e for e in port.reported if e["event"] == "speech_end"]
    assert len(starts) == len(ends) == 2
    first, second = (e["turn"] for e in starts)
    assert starts[0]["continues"] == 0 and starts[1]["continues"] == first
    resumed = [e for e in port.reported if e["event"] == "speech_resumed"]
    assert [(e["turn"], e["continues"]) for e in resumed] == [(second, first)]
    utterances = [m for m in port.take() if isinstance(m.body, Utterance)]
    whole = utterances[-1]
    assert isinstance(whole.body, Utterance) and whole.turn == second and whole.body.continues == first
    heard_s = len(whole.body.pcm) / 2 / 16000
    assert len(pcm) * 2 / 16000 + 0.6 < heard_s < len(pcm) * 2 / 16000 + 1.4


def test_speech_after_the_rejoin_window_is_a_new_turn(tmp_path: Path) -> None:
    pcm = spoken_part(decode_file(SAMPLE))
    write_wav(tmp_path / "two.wav", np.concatenate([pcm, np.zeros(int(1.6 * 16000), np.int16), pcm]))
    port = hear(tmp_path / "two.wav", ["vad.speculate_ms=0", "vad.end_silence_ms=300"])
    assert [e["continues"] for e in port.reported if e["event"] == "speech_start"] == [0, 0]
    assert not any(e["event"] == "speech_resumed" for e in port.reported)
