"""The voice stage on a local port with the real Piper voice: configured openers are synthesised at start-up,
kept on disk, and a reply whose first clause is one of them plays without waiting for synthesis."""

from __future__ import annotations

from pathlib import Path

import pytest

from daemon.config import load, resolve
from daemon.messages import Message, Sentence, Speech
from daemon.stage import LocalPort
from daemon.workers.voice import Voice
from models.faq import load_dialogue, load_faq
from models.sentences import split
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
    assert "Of course," in voice.cache and split(dialogue.referral)[0] in voice.cache
    assert all(split(i.answer)[0] in voice.cache for i in dialogue.smalltalk)
    assert not any(e.answer in voice.cache for e in load_faq(resolve(load().brain.faq)))  # cache_faq=false
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
    assert again.cache["Of course,"].pcm.tobytes() == voice.cache["Of course,"].pcm.tobytes()


def test_an_empty_opener_is_refused() -> None:
    from daemon.config import ConfigError

    with pytest.raises(ConfigError, match=r"voice\.openers\.1"):
        load(overrides=['voice.openers=["Yes,", "  "]'])
