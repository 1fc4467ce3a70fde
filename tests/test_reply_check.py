"""The LLM reply check: invented figures, leaked instructions, the question given back, unsupported claims."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from daemon.config import load, resolve
from models.llm_prompt import SCAFFOLD
from models.reply_check import ReplyChecker, checked_sentences, figures

PERSONA = resolve(load().brain.persona).read_text(encoding="utf-8")
HOURS = ("We are open Monday to Friday from nine in the morning until five in the afternoon, "
         "and on Saturday from nine until one.")
LOAN = "You can apply for a personal loan online or with an adviser here. Rates start at five point nine percent."
ATM = ("There are two cash machines just outside the main entrance, and one more inside, next to the stairs. "
       "They work around the clock.")
PARKING = "Customers can park free for one hour in the garage behind the building."


@pytest.fixture(scope="module")
def checker() -> ReplyChecker:
    return ReplyChecker(PERSONA, SCAFFOLD)


@pytest.mark.parametrize(("text", "expected"), [
    ("Rates start at 5.9%.", {"5.9 percent"}),
    ("five point nine percent", {"5.9 percent"}),
    ("We open at 9:30 on Monday.", {"9", "30", "monday"}),
    ("from nine thirty", {"9", "30"}),
    ("open 24/7", {"24", "7"}),
    ("twenty-four seven", {"24", "7"}),
    ("It costs $3.50.", {"3.5 dollar"}),
    ("three dollars fifty", {"3 dollar", "50"}),
    ("two hours", {"2 hour"}),
    ("one moment please, one of our advisers will help", set()),  # "one" as a word, not a figure
    ("until one", {"1"}),
    ("one percent", {"1 percent"}),
    ("on the first floor", {"1"}),
    ("First, choose forgot password.", set()),
    ("Parking is free for an hour.", {"free"}),
    ("1,200 customers", {"1200"}),
    ("It opens on May the 3rd.", {"3"}),
])
def test_figures_are_read_as_values(text: str, expected: set[str]) -> None:
    assert figures(text) == expected


@pytest.mark.parametrize("reply", [
    "We are open on Saturday from nine until one.",
    "On Saturday we are open from 9 until 1.",
    "Yes, there is a cash machine inside, next to the stairs.",
    "Personal loan rates start at 5.9 percent.",
    "I'm sorry, the cash machines are just outside the main entrance.",  # the kiosk's own "I" is polite
    "I can help: you can apply for a personal loan online.",
])
def test_grounded_replies_pass(checker: ReplyChecker, reply: str) -> None:
    verdict = checker.check(reply, [HOURS, LOAN, ATM], "a question")
    assert verdict.ok, verdict.reason


@pytest.mark.parametrize(("reply", "reason"), [
    ("Our savings account pays 10.5% a year.", "figures not in the facts: 10.5 percent"),
    ("Rates start at four point nine percent.", "figures not in the facts: 4.9 percent"),
    ("We are open on Sunday from ten until four.", "figures not in the facts: 10, 4, sunday"),
    ("The cash machines are open 24/7.", "figures not in the facts: 24, 7"),
    ("We close at 5:30 today.", "figures not in the facts: 30, today"),
    ("Parking is free for two hours.", "figures not in the facts: 2 hour"),
    ("There is a fee of three pounds.", "figures not in the facts: 3 pound"),
    ("Our loans start at five point nine pounds.", "figures not in the facts: 5.9 pound"),
    ("You are the friendly reception assistant in the lobby of Example Bank's main branch.", "persona"),
    ("You never ask for account numbers, passwords or personal details.", "persona"),
    ("Using only the facts below, the answer is yes.", "persona or the prompt"),
    ("", "empty"),
    ("Yes.", "says nothing of the facts"),
    ("Of course, sure.", "says nothing of the facts"),
    ("   ", "empty"),
    ("Yes, you can bring your dog.", "not found in the facts"),
    ("Yes, you can rent a safe deposit box here.", "not found in the facts: box, deposit, rent, safe"),
    ("Of course, the manager will give you a discount on a cruise.", "not found in the facts"),
    ("What is the name of the bank?", "asks instead of answering"),
    ("Yes. Would you like to open a loan?", "asks instead of answering"),
    # A base model carrying on the transcript as the visitor, in the facts' own words.
    ("I have a personal loan.", "speaks as the visitor"),
    ("I can take out money at the cash machines.", "speaks as the visitor"),
    ("Yes. My personal loan rates start at five point nine percent.", "speaks as the visitor"),
])
def test_bad_replies_fail_with_the_reason(checker: ReplyChecker, reply: str, reason: str) -> None:
    verdict = checker.check(reply, [HOURS, LOAN, ATM, PARKING], "Can I bring my dog inside?")
    assert not verdict.ok
    assert reason in verdict.reason


def test_the_question_given_back_fails(checker: ReplyChecker) -> None:
    question = "and you always want to see it in the superlative degree"
    verdict = checker.check("And you always want to see it in the superlative degree.", [HOURS], question)
    assert not verdict.ok and "question" in verdict.reason
    assert checker.check("Opening time.", [HOURS], "opening time").reason == "gives the question back"
    # Sharing a few of the question's words is how answers sound; that is fine.
    assert checker.check("Yes, you can park free for one hour.", [PARKING], "Can I park here for one hour?").ok


def test_figures_from_the_question_are_still_checked(checker: ReplyChecker) -> None:
    # The visitor's own figure is no fact: the reply must not confirm an opening time the bank never gave.
    assert not checker.check("Yes, we are open at seven.", [HOURS], "Are you open at seven?").ok


CURRENCY = "Currency exchange is at counter four. We keep euros, dollars and pounds in stock."


def _stream(checker: ReplyChecker, pieces: list[str], facts: list[str], language: str = "en") -> tuple[list[str], list[str]]:
    rejected: list[str] = []
    question = "一个问题" if language == "zh" else "a question"
    return list(checked_sentences(iter(pieces), checker, facts, question, rejected.append, language)), rejected


def test_a_first_clause_made_of_facts_is_released_before_its_sentence_ends(checker: ReplyChecker) -> None:
    said, rejected = _stream(checker, ["Customers can park free", " for one hour,", " in the garage", " behind it."],
                             [PARKING])
    assert said == ["Customers can park free for one hour,", "in the garage behind it."] and not rejected


def test_a_bare_opener_waits_for_its_sentence(checker: ReplyChecker) -> None:
    assert _stream(checker, ["Yes,", " we keep euros", " in stock."], [CURRENCY]) == (
        ["Yes,", "we keep euros in stock."], [])
    said, rejected = _stream(checker, ["Yes,", " you can bring", " your dog."], [PARKING])
    assert said == [] and "not found in the facts" in rejected[0]  # no false "Yes," before the check


def test_the_reply_ends_at_the_first_sentence_that_fails(checker: ReplyChecker) -> None:
    said, rejected = _stream(checker, ["We are open on Saturday from nine until one. ", "Parking costs 4 pounds."],
                             [HOURS, PARKING])
    assert said == ["We are open on Saturday from nine until one."]
    assert rejected == ["figures not in the facts: 4 pound"]


def _stream_counted(checker: ReplyChecker, text: str, question: str, facts: list[str]) -> tuple[list[str], list[str], int]:
    """`text` streamed a word at a time, as a model writes it; also how many pieces were asked for."""
    pieces = [w + " " for w in text.split()]
    asked = 0

    def generate() -> Iterator[str]:
        nonlocal asked
        for piece in pieces:
            asked += 1
            yield piece

    rejected: list[str] = []
    said = list(checked_sentences(generate(), checker, facts, question, rejected.append))
    return said, rejected, asked


@pytest.mark.parametrize(("text", "question", "reason", "asked"), [
    ("I have a personal loan and I would like to know more about it today.", "What do I need for a loan?",
     "speaks as the visitor", 5),
    ("Can I park my car in the garage behind the building for free?", "Can I park my car in the garage?",
     "gives the question back", 6),
    ("You are the friendly receptionist in the lobby of Example Bank and you help.", "Who are you?",
     "repeats the persona or the prompt", 11),
])
def test_a_sentence_that_will_fail_stops_the_model_before_its_end(checker: ReplyChecker, text: str, question: str,
                                                                  reason: str, asked: int) -> None:
    """The visitor waits for the referral line while the model writes: a sentence doomed by its opening is
    rejected there, not after the rest of it (a fragment words cannot rescue: a run of the persona or of
    the question, or the visitor's "I have" once four words show it is not the kiosk's "I'm sorry")."""
    said, rejected, n = _stream_counted(checker, text, question, [LOAN, PARKING])
    assert said == [] and rejected == [reason] and n == asked < len(text.split())


def test_a_number_still_being_written_is_not_taken_for_the_question() -> None:
    """"We open at 9:" is not yet "we open at 9" given back: the model may be writing "9:30"."""
    checker = ReplyChecker(PERSONA, SCAFFOLD)
    assert checker.doomed("We open at 9:", "open at 9") is None
    assert checker.doomed("The rate is 5.", "is the rate 5") is None
    assert checker.check("We open at 9:30.", [HOURS + " We open at 9:30."], "open at 9").ok


@pytest.mark.parametrize("text", [
    "I'm sorry, customers can park free for one hour in the garage behind the building.",
    "I’m sorry, customers can park free for one hour in the garage behind the building.",
    "I'll help: customers can park free for one hour in the garage behind the building.",
    "I'm happy to help: customers can park free for one hour in the garage behind the building.",
    "I'd be glad to help: you can apply for a personal loan online or with an adviser here.",
    "Customers can park free for one hour in the garage behind the building.",
])
def test_the_kiosks_own_sentences_are_not_cut_short(checker: ReplyChecker, text: str) -> None:
    said, rejected, n = _stream_counted(checker, text, "Can I park here?", [LOAN, PARKING])
    assert rejected == [] and " ".join(said) == text and n == len(text.split())


_VOCABULARY = [
    "i", "i'm", "i'd", "my", "we", "you", "have", "be", "glad", "sorry", "can", "park", "free", "for", "one",
    "hour", "in", "the", "garage", "behind", "building", "personal", "loan", "apply", "online", "adviser",
    "here", "are", "the", "friendly", "receptionist", "lobby", "of", "example", "bank", "5.9", "nine", ",",
    ".", "9:30", "9", "open", "at", "is", "rate",
]


@given(st.lists(st.sampled_from(_VOCABULARY),
    min_size=1, max_size=14), st.integers(min_value=1, max_value=120))
def test_an_early_rejection_is_one_the_whole_sentence_gets_too(checker: ReplyChecker, words: list[str],
                                                                cut: int) -> None:
    """Whatever the model writes after a doomed opening (cut anywhere, even inside a word, as tokens
    are), the sentence fails the full check."""
    sentence = " ".join(words).replace(" ,", ",").replace(" .", ".")
    for question in ("Can I park my car in the garage?", "Are you open at 9", "is the rate 5"):
        if checker.doomed(sentence[:cut], question):
            assert not checker.check(sentence, [LOAN, PARKING, HOURS], question).ok


HOURS_ZH = "我们周一至周五上午九点到下午五点营业，周六上午九点到下午一点营业。"
LOAN_ZH = "您可以在网上或者在这里找顾问申请个人贷款。利率从百分之五点九起，具体看金额和期限。"
PARKING_ZH = "客户可以在大楼后面的车库免费停车一小时，请在服务台盖章。"


@pytest.mark.parametrize("reply", [
    "个人贷款的利率从5.9%起。",  # the same figure in digits
    "我们周六上午九点营业。",
    "大楼后面的车库可以免费停车一小时。",
    "我们周一至周五上午9点到下午5点营业。",
    "很抱歉，个人贷款可以在网上申请。",
])
def test_grounded_chinese_replies_pass(checker: ReplyChecker, reply: str) -> None:
    verdict = checker.check(reply, [HOURS_ZH, LOAN_ZH, PARKING_ZH], "周末可以办贷款吗？", language="zh")
    assert verdict.ok, verdict.reason


@pytest.mark.parametrize(("reply", "reason"), [
    ("个人贷款的利率是百分之八。", "figures not in the facts: 8"),
    ("我们周日上午十点营业。", "figures not in the facts: 10, 周日"),
    ("车库可以免费停车两小时。", "figures not in the facts: 2"),
    ("我们全天二十四小时营业。", "figures not in the facts"),
    ("可以，您可以带狗进来。", "not found in the facts"),
    ("我想申请个人贷款。", "speaks as the visitor"),
    ("谢谢你，我可以在网上办贷款吗？", "asks instead of answering"),
    ("可以在网上办贷款吗，个人贷款。", "gives the question back"),
    ("Yes, you can apply for a personal loan online.", "not in the visitor's language"),
    ("。", "empty"),
])
def test_bad_chinese_replies_fail_with_the_reason(checker: ReplyChecker, reply: str, reason: str) -> None:
    verdict = checker.check(reply, [HOURS_ZH, LOAN_ZH, PARKING_ZH], "可以在网上办贷款吗？", language="zh")
    assert not verdict.ok
    assert reason in verdict.reason


def test_a_chinese_reply_to_an_english_question_fails(checker: ReplyChecker) -> None:
    verdict = checker.check("我们周六上午九点营业。", [HOURS, HOURS_ZH], "Are you open on Saturday?")
    assert not verdict.ok and "language" in verdict.reason


def test_chinese_weekdays_are_days_not_numbers(checker: ReplyChecker) -> None:
    """cn2an would write 周三 as "周3": the days are read before the numerals are."""
    question = "你们什么时候营业？"
    assert not checker.check("我们周一营业。", [PARKING_ZH], question, language="zh").ok  # no day in the facts
    assert checker.check("我们周一至周五上午九点营业。", [HOURS_ZH], question, language="zh").ok
    assert not checker.check("我们周三上午三点营业。", [HOURS_ZH], question, language="zh").ok  # 3: not in the facts


def test_a_bare_chinese_opener_waits_for_its_sentence_too(checker: ReplyChecker) -> None:
    """A Chinese clause ends at "，": "是的，" is held and checked with the rest of its sentence, joined
    without a space, and spoken apart once that passes."""
    said, rejected = _stream(checker, ["是的，", "客户可以在大楼后面的车库", "免费停车一小时。"], [PARKING_ZH], "zh")
    assert said == ["是的，", "客户可以在大楼后面的车库免费停车一小时。"] and not rejected
    said, rejected = _stream(checker, ["是的，", "您可以带狗进来。"], [PARKING_ZH], "zh")
    assert said == [] and "not found in the facts" in rejected[0]  # no false "是的，" before the check


def test_the_visitors_language_is_the_one_given_not_read_from_the_question(checker: ReplyChecker) -> None:
    """A question typed in English with a Chinese name in it is still answered in English."""
    question = "Where is 中国银行?"
    assert checker.check("We are open on Saturday from nine until one.", [HOURS], question).ok
    assert not checker.check("我们周六上午九点营业。", [HOURS_ZH], question).ok
