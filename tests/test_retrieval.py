"""FAQ retrieval with multilingual-e5: paraphrased questions find their entry; unrelated ones score low."""

from __future__ import annotations

import pytest

from daemon.config import load, resolve
from models.faq import FaqError, load_faq
from models.retrieval_e5 import FaqIndex

FAQ = load_faq(resolve(load().brain.faq))


def entry_about(word: str) -> int:
    return next(i for i, e in enumerate(FAQ) if word in e.answer.lower())


@pytest.fixture(scope="module")
def index() -> FaqIndex:
    return FaqIndex(FAQ)


@pytest.mark.parametrize(
    ("question", "answer_word"),
    [
        ("what are your opening hours", "monday to friday"),
        ("When does the bank open on Saturday?", "monday to friday"),
        ("I'd like to open an account", "photo id"),
        ("where can I get some cash", "cash machines"),
        ("someone stole my card", "block the card"),
    ],
)
def test_paraphrase_finds_its_entry(index: FaqIndex, question: str, answer_word: str) -> None:
    best, runner_up = index.rank(question)[:2]
    assert best.entry == entry_about(answer_word)
    cfg = load().brain
    assert best.score >= cfg.faq_threshold and best.score - runner_up.score >= cfg.faq_margin


@pytest.mark.parametrize("question", ["What is the capital of France?", "Can you sing me a song?", "How old are you?",
                                      "The birch canoe slid on the smooth planks."])
def test_unrelated_question_is_not_an_faq_hit(index: FaqIndex, question: str) -> None:
    best, runner_up = index.rank(question)[:2]
    cfg = load().brain
    assert best.score < cfg.faq_threshold or best.score - runner_up.score < cfg.faq_margin


def test_bank_faq_has_enough_entries() -> None:
    assert len(FAQ) >= 15


def test_bad_faq_file_is_named(tmp_path: object) -> None:
    from pathlib import Path

    bad = Path(str(tmp_path)) / "faq.yaml"
    bad.write_text("- questions: []\n  answer: hi\n")
    with pytest.raises(FaqError, match=r"faq\.yaml: entry 0\.questions"):
        load_faq(bad)
