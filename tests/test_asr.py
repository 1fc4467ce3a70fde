"""faster-whisper tiny.en on real recordings; a broken model folder is a clear error."""

from __future__ import annotations

from pathlib import Path

import pytest

from daemon.audio_sources import decode_file
from models.asr_whisper import WhisperAsr
from models.registry import ModelError
from tests.speech import HUMAN_SPEECH, espeak


@pytest.fixture(scope="module")
def asr() -> WhisperAsr:
    return WhisperAsr("embedded:tiny.en")


def test_transcribes_human_speech(asr: WhisperAsr) -> None:
    text = asr.transcribe(decode_file(HUMAN_SPEECH)).lower()
    # Harvard sentences read by a male speaker.
    assert "canoe" in text and "planks" in text


def test_transcribes_a_spoken_question(asr: WhisperAsr) -> None:
    text = asr.transcribe(espeak("Where is the nearest cash machine?")).lower()
    assert "cash machine" in text


def test_broken_model_folder(tmp_path: Path) -> None:
    (tmp_path / "model.bin").write_bytes(b"not a model")
    with pytest.raises(ModelError, match=str(tmp_path)):
        WhisperAsr(str(tmp_path))


def test_missing_model_folder(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="does not exist"):
        WhisperAsr(str(tmp_path / "nowhere"))
