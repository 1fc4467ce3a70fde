"""The voice stage on a local port with the real voices: configured openers are synthesised at start-up, kept
on disk, and a reply whose first clause is one of them plays without waiting for synthesis; a sentence in
Chinese is said by the Chinese voice (espeak-ng's Mandarin), one in English by Piper, in the same process."""

from __future__ import annotations

from pathlib import Path

import pytest

from daemon.config import load, resolve
from daemon.messages import Message, Sentence, Speech
from daemon.stage import LocalPort
from daemon.workers.voice import Voice
from models.faq import load_dialogue, load_faq
from models.sentences import split
from models.speech_text import speakable
from models.tts_espeak import EspeakTts
from models.tts_piper import PiperTts
from tests.received import Received


def test_openers_play_at_once_and_are_kept_on_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIOSKD_CACHE_DIR", str(tmp_path / "cache"))
    config = load(overrides=["voice.cache_faq=false", 'voice.openers=["Of course,"]'])
    port = LocalPort(reported=Received())
    voice = Voice(config, port)
    voice.setup()
    dialogue = load_dialogue(resolve(load().brain.dialogue))
    # Every answer the brain speaks without the LLM starts from the cache, and so does the opener.
    assert ("en", "Of course,") in voice.cache and ("en", split(dialogue.referral)[0]) in voice.cache
    assert all(("en", split(i.answer)[0]) in voice.cache for i in dialogue.smalltalk)
    assert not any(("en", e.answer) in voice.cache for e in load_faq(resolve(load().brain.faq)))  # cache_faq=false
    assert list(voice.voices) == ["en"]  # asr.language en: the Chinese voice waits for a Chinese sentence
    voice.handle(Message(Sentence("Of course,"), 1))
    voice.handle(Message(Sentence("Of course not."), 2))
    out = port.take()
    assert [type(m.body) for m in out] == [Speech, Speech]
    assert all(isinstance(m.body, Speech) and len(m.body.pcm) > 4000 for m in out)  # real audio, not an empty stand-in
    assert isinstance(port.reported, Received)
    opener = port.reported.first(event="tts_first_audio", turn=1)
    other = port.reported.first(event="tts_first_audio", turn=2)
    assert opener["cached"] and opener["synth_ms"] < 5
    assert not other["cached"] and other["synth_ms"] > opener["synth_ms"]

    # A restarted voice finds the opener on disk: it synthesises nothing but its warm-up.
    spoken: list[str] = []
    synthesize = PiperTts.synthesize
    monkeypatch.setattr(PiperTts, "synthesize", lambda tts, text: spoken.append(text) or synthesize(tts, text))
    again = Voice(config, LocalPort())
    again.setup()
    assert spoken == ["Hello."]
    assert again.cache.keys() == voice.cache.keys()
    assert again.cache["en", "Of course,"].pcm.tobytes() == voice.cache["en", "Of course,"].pcm.tobytes()


def test_an_empty_opener_is_refused() -> None:
    from daemon.config import ConfigError

    with pytest.raises(ConfigError, match=r"voice\.openers\.1"):
        load(overrides=['voice.openers=["Yes,", "  "]'])


FAQ = """
- questions: ["When are you open?"]
  answer: We open at 9:30. See you soon.
  zh: 我们9:30开门。欢迎光临。
- questions: ["Is there a cash machine?"]
  answer: Yes, just outside.
"""
DIALOGUE = """
referral: Please ask at the service desk.
referral_zh: 请到服务台咨询。
smalltalk:
  - id: thanks
    questions: ["Thank you."]
    answer: You're welcome.
    zh: 不客气。
"""


def test_each_language_has_its_voice_and_its_ready_answers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIOSKD_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "faq.yaml").write_text(FAQ, encoding="utf-8")
    (tmp_path / "dialogue.yaml").write_text(DIALOGUE, encoding="utf-8")
    config = load(overrides=["asr.language=auto", f"brain.faq={tmp_path / 'faq.yaml'}",
                             f"brain.dialogue={tmp_path / 'dialogue.yaml'}", 'voice.openers=["OK."]'])
    port = LocalPort(reported=Received())
    voice = Voice(config, port)
    voice.setup()
    assert isinstance(voice.voices["zh"], EspeakTts) and isinstance(voice.voices["en"], PiperTts)
    # Each voice keeps ready what is written in its language: the Chinese forms for the Chinese voice, and an
    # answer without one ("Yes, just outside.") only in English.
    assert {text for language, text in voice.cache if language == "zh"} == {"我们9:30开门。", "请到服务台咨询。", "不客气。"}
    assert {"We open at 9:30.", "Yes, just outside.", "Please ask at the service desk.", "OK."} <= {
        text for language, text in voice.cache if language == "en"}

    voice.handle(Message(Sentence("我们9:30开门。", "neutral", "zh"), 1, 0))
    voice.handle(Message(Sentence("欢迎光临，请到ATM机取款。", "neutral", "zh"), 1, 1))
    voice.handle(Message(Sentence("OK.", "neutral", "zh"), 2, 0))  # the same words as the English opener
    voice.handle(Message(Sentence("OK.", "neutral", "en"), 3, 0))
    ready, mixed, ok_zh, ok_en = [m.body for m in port.take()]
    assert all(isinstance(b, Speech) for b in (ready, mixed, ok_zh, ok_en))
    assert ready.pcm == voice.cache["zh", "我们9:30开门。"].pcm.tobytes() and ready.text == "我们9:30开门。"
    # The Chinese voice says it, with its figures and letters as a Mandarin speaker says them: its length is
    # espeak-ng's for that text (which varies by a few samples from run to run).
    espeak = voice.voices["zh"].synthesize(speakable("欢迎光临，请到ATM机取款。", "zh"))
    assert abs(len(mixed.pcm) // 2 - len(espeak.pcm)) < 0.01 * len(espeak.pcm)
    assert 2.0 < len(mixed.pcm) // 2 / mixed.rate < 4.0  # 12 syllables and a pause
    assert isinstance(port.reported, Received)
    assert not port.reported.first(event="tts_first_audio", turn=2)["cached"]  # "OK." in Chinese: not the English
    assert port.reported.first(event="tts_first_audio", turn=3)["cached"]
    assert ok_en.pcm == voice.cache["en", "OK."].pcm.tobytes()
    assert abs(len(ok_zh.pcm) // 2 - len(voice.voices["zh"].synthesize("O-K.").pcm)) < 200  # spelled, by espeak-ng

    # A restarted voice finds both voices' sentences on disk: each synthesises nothing but its warm-up.
    spoken: list[str] = []
    for kind in (PiperTts, EspeakTts):
        monkeypatch.setattr(kind, "synthesize", lambda tts, text, real=kind.synthesize: spoken.append(text) or real(tts, text))
    again = Voice(config, LocalPort())
    again.setup()
    assert spoken == ["Hello.", "你好。"]
    assert again.cache.keys() == voice.cache.keys()


def test_a_chinese_sentence_loads_the_chinese_voice_when_it_comes(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIOSKD_CACHE_DIR", str(tmp_path / "cache"))
    port = LocalPort()
    voice = Voice(load(overrides=["voice.cache_faq=false"]), port, {"ready_answers": False})
    voice.setup()
    assert list(voice.voices) == ["en"]
    voice.handle(Message(Sentence("您好，欢迎光临。", "neutral", "zh"), 1, 0))  # a typed question, `kioskctl say`
    (said,) = [m.body for m in port.take()]
    assert isinstance(said, Speech) and isinstance(voice.voices["zh"], EspeakTts) and len(said.pcm) > 20000
