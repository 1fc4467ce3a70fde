"""faster-whisper tiny.en on real recordings; a broken model folder is a clear error."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.audio_sources import decode_file
from models.asr_whisper import Heard, WhisperAsr
from models.registry import ModelError
from tests.speech import HUMAN_SPEECH, espeak


@pytest.fixture(scope="module")
def asr() -> WhisperAsr:
    return WhisperAsr("embedded:tiny.en")


def test_transcribes_human_speech(asr: WhisperAsr) -> None:
    text = asr.transcribe(decode_file(HUMAN_SPEECH)).text.lower()
    # Harvard sentences read by a male speaker.
    assert "canoe" in text and "planks" in text


def test_transcribes_a_spoken_question(asr: WhisperAsr) -> None:
    text = asr.transcribe(espeak("Where is the nearest ATM?")).text.lower()
    assert "nearest atm" in text


def test_broken_model_folder(tmp_path: Path) -> None:
    (tmp_path / "model.bin").write_bytes(b"not a model")
    with pytest.raises(ModelError, match=str(tmp_path)):
        WhisperAsr(str(tmp_path))


def test_missing_model_folder(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="does not exist"):
        WhisperAsr(str(tmp_path / "nowhere"))


def test_short_window_does_not_loop(asr: WhisperAsr) -> None:
    """The bundled question cut as the ear cuts it (pre-roll, speech, trailing silence): exactly one question.
    A too-short encoder window makes tiny.en repeat it."""
    from tests.speech import SAMPLE_WAV

    pcm = decode_file(SAMPLE_WAV)
    assert asr.transcribe(pcm[int(0.7 * 16000) : int(2.8 * 16000)]) == Heard("What are your opening hours?", "en")


def test_silence_and_noise_give_no_text(asr: WhisperAsr) -> None:
    import numpy as np

    rng = np.random.default_rng(0)
    assert asr.transcribe(np.zeros(32000, np.int16)).text == ""
    assert asr.transcribe((rng.standard_normal(32000) * 300).astype(np.int16)).text == ""


def test_the_asr_stage_reuses_a_speculation_and_skips_void_ones() -> None:
    """The asr stage on a local port: a pause's speculative transcript serves the utterance when nothing was said
    after it; a speculation that newer audio of the same visitor follows is not decoded at all."""
    from daemon.config import load
    from daemon.messages import Message, Text, Utterance
    from daemon.stage import LocalPort
    from daemon.workers.asr import Asr

    pcm = espeak("What are your opening hours?").tobytes()
    port = LocalPort()
    stage = Asr(load(), port)
    stage.setup()
    stage.handle(Message(Utterance(pcm, speculative=True), turn=5, t_ns=1000))
    stage.handle(Message(Utterance(pcm), turn=5, t_ns=1000))  # the pause ended the utterance: same last voiced sample
    ahead, sent = port.take()  # the pause's transcript goes ahead, for the brain to get ready
    assert ahead.body == Text(sent.body.text, speculative=True) and ahead.turn == 5
    assert isinstance(sent.body, Text) and "opening hours" in sent.body.text.lower() and sent.turn == 5
    assert sent.body.language == "en"
    assert not sent.body.speculative
    final = [e for e in port.reported if e["event"] == "asr_final"]
    assert final[-1]["speculative"] is True

    # The visitor carried on after the first pause: that pause's decode is skipped, the utterance decoded.
    port.inbox.extend([Message(Utterance(pcm, speculative=True), turn=6, t_ns=3000), Message(Utterance(pcm), turn=6, t_ns=4000)])
    stage.handle(Message(Utterance(pcm, speculative=True), turn=6, t_ns=2000))
    skipped = [e["pause_ns"] for e in port.reported if e["event"] == "asr_skipped"]
    assert skipped == [2000, 3000]
    assert [e["speculative"] for e in port.reported if e["event"] == "asr_final" and e["turn"] == 6] == [False]
    assert [m.turn for m in port.take()] == [6]
