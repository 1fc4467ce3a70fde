"""Nearest labelled example with multilingual-e5, and the site files it is built from."""

from __future__ import annotations

from pathlib import Path

import pytest

from daemon.config import load, resolve
from models.faq import FaqError, load_dialogue, load_faq
from models.retrieval_e5 import ExampleIndex

FAQ = load_faq(resolve(load().brain.faq))


def entry_about(word: str) -> str:
    return next(f"faq:{i}" for i, e in enumerate(FAQ) if word in e.answer.lower())


@pytest.fixture(scope="module")
def index() -> ExampleIndex:
    return ExampleIndex([(f"faq:{i}", q) for i, e in enumerate(FAQ) for q in e.questions])


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
def test_paraphrase_finds_its_entry(index: ExampleIndex, question: str, answer_word: str) -> None:
    best, runner_up = index.rank(question)[:2]
    assert best.label == entry_about(answer_word)
    assert best.score > runner_up.score


def test_each_label_is_scored_once_by_its_closest_example(index: ExampleIndex) -> None:
    ranked = index.rank("Where is the restroom?")
    assert len(ranked) == len(FAQ) == len({m.label for m in ranked})
    assert ranked[0].example == "Where is the restroom?" and ranked[0].score == pytest.approx(1.0, abs=1e-3)
    assert [m.score for m in ranked] == sorted((m.score for m in ranked), reverse=True)


def test_a_label_can_be_scored_by_the_mean_of_its_closest_examples(index: ExampleIndex) -> None:
    question = "Where is the restroom?"
    one, two = index.rank(question), index.rank(question, top=2)
    vector = index.embed(question)
    for pooled in two:
        scores = sorted((float(index.embed(t) @ vector) for lab, t in zip(index._labels, index._texts, strict=True)
                         if lab == pooled.label), reverse=True)
        assert pooled.score == pytest.approx(sum(scores[:2]) / len(scores[:2]), abs=1e-4)
    # The entry's one exact example no longer scores it 1.0 alone; a label in `single` keeps its closest.
    assert two[0].score < one[0].score == pytest.approx(1.0, abs=1e-3)
    kept = index.rank(question, top=2, single=frozenset({one[0].label}))
    assert next(m for m in kept if m.label == one[0].label).score == pytest.approx(one[0].score)


def test_bank_faq_has_enough_entries_with_ids() -> None:
    assert len(FAQ) >= 15
    assert all(e.id for e in FAQ)


def test_bad_faq_file_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "faq.yaml"
    bad.write_text("- questions: []\n  answer: hi\n")
    with pytest.raises(FaqError, match=r"faq\.yaml: entry 0\.questions"):
        load_faq(bad)
    bad.write_text("- {id: a, questions: [x], answer: y}\n- {id: a, questions: [z], answer: w}\n")
    with pytest.raises(FaqError, match="entry id 'a' is used twice"):
        load_faq(bad)


def test_bad_dialogue_file_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "dialogue.yaml"
    bad.write_text("smalltalk: []\n")
    with pytest.raises(FaqError, match=r"dialogue .*dialogue\.yaml: entry referral: Field required"):
        load_dialogue(bad)
    bad.write_text("referral: Ask at the desk.\nsmalltalk:\n  - {id: hi, questions: [Hello], answer: Hi}\n"
                   "  - {id: hi, questions: [Hey], answer: Hey}\n")
    with pytest.raises(FaqError, match="small-talk ids must be unique"):
        load_dialogue(bad)
    bad.write_text("referral: Ask at the desk.\nnever_llm: [{topic: fees, words: [], answer: x}]\n")
    with pytest.raises(FaqError, match=r"entry never_llm\.0\.words"):
        load_dialogue(bad)
