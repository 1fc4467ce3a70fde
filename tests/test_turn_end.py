"""smart-turn, the end-of-turn classifier: its real model on real speech, and clear errors for a file that
is not one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kiosk.audio_sources import decode_file
from models.registry import ModelError
from models.turn_end import SmartTurn
from models.vad_silero import SAMPLE_RATE, embedded_model
from tests.speech import HUMAN_SPEECH


@pytest.fixture(scope="module")
def smart_turn() -> SmartTurn:
    return SmartTurn()


def test_a_finished_sentence_sounds_finished_and_a_cut_one_does_not(smart_turn: SmartTurn) -> None:
    # "The birch canoe slid on the smooth planks." ends at ~2.45 s; "slid on the" is mid-sentence (~1.1 s).
    speech = decode_file(HUMAN_SPEECH)
    pause = np.zeros(SAMPLE_RATE // 10, np.int16)  # the 96 ms of silence a pause is judged after
    finished = smart_turn(np.concatenate([speech[: int(2.5 * SAMPLE_RATE)], pause]))
    cut = smart_turn(np.concatenate([speech[: int(1.1 * SAMPLE_RATE)], pause]))
    assert finished > 0.5 > cut, (finished, cut)


def test_input_longer_than_its_window_keeps_the_end(smart_turn: SmartTurn) -> None:
    speech = decode_file(HUMAN_SPEECH)
    end = np.concatenate([speech[: int(2.5 * SAMPLE_RATE)], np.zeros(SAMPLE_RATE // 10, np.int16)])
    longer = np.concatenate([np.zeros(10 * SAMPLE_RATE, np.int16), end])
    assert smart_turn(longer) == pytest.approx(smart_turn(end), abs=0.05)


def test_a_broken_file_is_refused_by_name(tmp_path: Path) -> None:
    broken = tmp_path / "turn.onnx"
    broken.write_bytes(b"not a model")
    with pytest.raises(ModelError, match=f"vad.turn_model: cannot load {broken}"):
        SmartTurn(str(broken))


def test_another_onnx_model_is_refused() -> None:
    with pytest.raises(ModelError, match="not a smart-turn v3 model"):
        SmartTurn(str(embedded_model()))  # Silero VAD


def test_a_missing_file_is_refused() -> None:
    with pytest.raises(ModelError, match="does not exist"):
        SmartTurn("/nonexistent/turn.onnx")
