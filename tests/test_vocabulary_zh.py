"""The site's Chinese words put back where Whisper wrote a homophone (models/vocabulary_zh.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from daemon.config import resolve
from models.faq import load_dialogue, load_faq, site_texts
from models.vocabulary_zh import ChineseVocabulary


@pytest.fixture(scope="module")
def bank() -> ChineseVocabulary:
    return ChineseVocabulary(site_texts(load_faq(resolve(Path("faq/bank-lobby.yaml"))),
                                        load_dialogue(resolve(Path("dialogue/bank-lobby.yaml")))))


@pytest.mark.parametrize(("heard", "meant"), [
    ("请问区款机在哪里", "请问取款机在哪里"),  # the one word Whisper base got wrong of the bench's spoken questions
    ("我的银行卡丢了怎么半？", "我的银行卡丢了怎么办？"),
    ("ATM，区款机在哪？", "ATM，取款机在哪？"),  # Latin letters and punctuation are left where they are
])
def test_a_homophone_of_the_sites_words_is_written_as_the_site_writes_it(bank: ChineseVocabulary, heard: str,
                                                                        meant: str) -> None:
    assert bank.correct(heard) == meant


@pytest.mark.parametrize("heard", [
    "你们几点开门？",  # right already
    "我想去北京旅游",  # nothing the bank's FAQ says
    "区块链是什么",  # 区 sounds like 取 but the run sounds like nothing the FAQ writes
    "问题出在哪",  # 出在 sounds like 处在 (of 存包处在哪里, an off-topic example) and is no word, but it is no likelier
    "我有书要还",  # 有书 sounds like 有数 (of 有数硬币): no likelier either
    "账户里有书",
    "Where is the ATM?",
    "",
])
def test_what_does_not_sound_like_the_sites_words_is_left_alone(bank: ChineseVocabulary, heard: str) -> None:
    assert bank.correct(heard) == heard


def test_a_run_that_shares_no_character_is_not_rewritten() -> None:
    """Three characters that only sound like the site's word are another word, not a mishearing of it."""
    vocabulary = ChineseVocabulary(["取款机在门外"])
    assert vocabulary.correct("去宽几") == "去宽几"
    assert vocabulary.correct("取宽机") == "取款机"


def test_a_sound_the_site_writes_two_ways_is_left_alone() -> None:
    assert ChineseVocabulary(["按公式计算"]).correct("按公试计算") == "按公式计算"
    assert ChineseVocabulary(["按公式计算", "因公事外出"]).correct("按公试计算") == "按公试计算"  # gong shi, twice


def test_a_heard_run_that_is_a_word_of_its_own_is_left_alone() -> None:
    assert ChineseVocabulary(["请付现金"]).correct("现今很多人用手机") == "现今很多人用手机"


def test_a_heard_run_that_cuts_through_a_word_is_left_alone() -> None:
    """在加 sounds like the site's 在家 and is no word, but its 加 begins 加拿大 (a bank's FAQ says 在家 of a
    visitor at home; Whisper heard a son studying in Canada right)."""
    assert ChineseVocabulary(["可以在家办理"]).correct("我儿子在加拿大读书") == "我儿子在加拿大读书"


def test_an_english_site_has_no_chinese_words(tmp_path: Path) -> None:
    vocabulary = ChineseVocabulary(["Where is the ATM?"], cache=tmp_path)
    assert vocabulary.correct("请问区款机在哪里") == "请问区款机在哪里"
