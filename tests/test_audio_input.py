"""Bad audio input is refused with a clear error, before anything starts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from daemon.cli_kioskd import main as kioskd
from kiosk.audio_sources import AudioInputError, decode_file
from tests.speech import HUMAN_SPEECH


def test_missing_file() -> None:
    with pytest.raises(AudioInputError, match=r"nope\.wav: no such file"):
        decode_file(Path("/nonexistent/nope.wav"))


def test_non_audio_file(tmp_path: Path) -> None:
    fake = tmp_path / "question.wav"
    fake.write_text("this is not audio\n" * 100)
    with pytest.raises(AudioInputError, match=r"question\.wav: (not a readable audio file|has no audio stream)"):
        decode_file(fake)


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(AudioInputError, match="is a directory"):
        decode_file(tmp_path)


def test_real_recording_decodes_at_16k() -> None:
    pcm = decode_file(HUMAN_SPEECH)
    assert 9 < len(pcm) / 16000 < 13
    assert pcm.std() > 300


def test_decoding_stops_past_a_limit() -> None:
    """The recording is about 11 s: decoding stops in its first two, as soon as it is over one."""
    whole = decode_file(HUMAN_SPEECH)
    first = decode_file(HUMAN_SPEECH, max_s=1.0)
    assert 16000 < len(first) < 2 * 16000
    assert np.array_equal(first, whole[: len(first)])


def test_kioskd_refuses_a_bad_audio_file_clearly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fake = tmp_path / "q.wav"
    fake.write_bytes(b"\x00garbage" * 64)
    assert kioskd(["--audio-in", str(fake), "--runtime-dir", str(tmp_path / "run")]) == 1
    err = capsys.readouterr().err
    assert "q.wav" in err and "Traceback" not in err
    assert not (tmp_path / "run").exists()  # nothing was started


def test_kioskd_refuses_a_bad_config_clearly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert kioskd(["-o", "face.fps=fast", "--runtime-dir", str(tmp_path / "run")]) == 1
    assert "face.fps" in capsys.readouterr().err
