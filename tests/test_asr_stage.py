"""The asr stage on a local port: what Whisper heard goes to the brain, a Chinese transcript with the site's
own words put back (models/vocabulary_zh.py), an English one as heard. Whisper itself stands aside here
(a canned transcript): the homophones it writes depend on the CPU's int8 kernels, and the words' rewriting
has tests of its own (tests/test_vocabulary_zh.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from daemon.config import load
from daemon.messages import Message, Text, Utterance
from daemon.stage import LocalPort
from daemon.workers.asr import Asr
from models.asr_whisper import Heard


@dataclass
class Canned:
    heard: Heard

    def transcribe(self, pcm: np.ndarray) -> Heard:
        return self.heard


def heard_by_the_stage(language: str, heard: Heard, overrides: list[str] | None = None) -> tuple[str, Asr]:
    port = LocalPort()
    stage = Asr(load(overrides=[f"asr.language={language}", *(overrides or [])]), port)
    stage.setup()
    stage.asr = Canned(heard)  # type: ignore[assignment]
    stage.handle(Message(Utterance(np.zeros(16000, np.int16).tobytes()), turn=1))
    texts = [m.body for m in port.sent if isinstance(m.body, Text)]
    assert len(texts) == 1
    return texts[0].text, stage


@pytest.fixture(autouse=True)
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIOSKD_CACHE_DIR", str(tmp_path))


@pytest.mark.parametrize("language", ["zh", "auto"])
def test_a_chinese_transcript_gets_the_sites_words_back(language: str) -> None:
    text, _ = heard_by_the_stage(language, Heard("请问区款机在哪里？", "zh"))
    assert text == "请问取款机在哪里？"


def test_an_english_transcript_is_sent_as_heard() -> None:
    text, _ = heard_by_the_stage("auto", Heard("Where is the ATM?", "en"))
    assert text == "Where is the ATM?"


def test_an_english_kiosk_gathers_no_chinese_words() -> None:
    text, stage = heard_by_the_stage("en", Heard("Where is the ATM?", "en"))
    assert text == "Where is the ATM?" and stage.vocabulary is None


def test_a_site_whose_words_cannot_be_read_gets_its_transcripts_as_heard(tmp_path: Path) -> None:
    broken = tmp_path / "faq.yaml"
    broken.write_text("- questions: [unclosed\n", encoding="utf-8")
    text, _ = heard_by_the_stage("zh", Heard("请问区款机在哪里？", "zh"), [f"brain.faq={broken}"])
    assert text == "请问区款机在哪里？"
