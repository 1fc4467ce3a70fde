"""Whether a speculative transcript sounds finished."""

from __future__ import annotations

import pytest

from models.completeness import sounds_finished, surely_finished


@pytest.mark.parametrize("text", ["What are your opening hours?", "I lost my card.", "Where is the nearest ATM"])
def test_finished(text: str) -> None:
    assert sounds_finished(text)


@pytest.mark.parametrize("text", ["I would like to open an account and", "Where is the", "Can I, um", "So...", "",
                                  "I want to talk to,"])
def test_unfinished(text: str) -> None:
    assert not sounds_finished(text)


@pytest.mark.parametrize("text", [
    "你们几点开门？",
    "请问营业时间是什么时候",  # no punctuation at all
    "我的银行卡丢了。",
    "可以换外币吗",
    "然后呢？",  # "and then?": a question, though it starts with a filler
    "嗯，我想问一下营业时间。",  # a filler at the start says nothing
    "那我们走吧。",
    "今天天气很暖和。",  # 暖和 is a word, not "and"
    "他这个人很随和",
    "我想开一个account",  # mixed: the English word decides
])
def test_finished_mandarin(text: str) -> None:
    assert sounds_finished(text)


@pytest.mark.parametrize("text", [
    "我想开户和",
    "我想问一下那个。",  # Whisper's full stop after a filler
    "嗯。",
    "呃",
    "我的卡丢了，然后",
    "就是",
    "取款机在哪里，还有",
    "我想存钱或者",
    "因为。",
    "我想取钱但是",
    "所以",
    "如果明天下雨的话",
    "如果",
    "周六营业吗，",  # a comma: more is coming
    "我想办一张信用卡、",
    "请问……",
    "你们周末开门还是",
])
def test_unfinished_mandarin(text: str) -> None:
    assert not sounds_finished(text)


@pytest.mark.parametrize(("text", "sure"), [
    ("可以换外币吗", True),
    ("你们几点开门？", True),
    ("我想开一个account", False),  # ends in English: the voice's verdict counts as for English
    ("周六营业吗，", False),  # the comma: more is coming
    ("我的卡丢了，然后", False),
    ("What are your opening hours?", False),  # English: the voice still judges
])
def test_finished_chinese_words_decide_alone(text: str, sure: bool) -> None:
    assert surely_finished(text) is sure
