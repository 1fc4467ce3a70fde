"""Reply text is released sentence by sentence as it streams, the first clause early."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from models.sentences import SentenceSplitter, split


def test_split_sentences() -> None:
    assert split("We open at nine. We close at five! Any questions?") == [
        "We open at nine.", "We close at five!", "Any questions?"]


def test_closing_quotes_and_brackets_stay_with_their_sentence() -> None:
    assert split('Press "help." Then wait (a moment.) Done.') == ['Press "help."', "Then wait (a moment.)", "Done."]


def test_streaming_releases_a_sentence_when_it_ends() -> None:
    s = SentenceSplitter()
    assert s.feed("We open") == []
    assert s.feed(" at nine. We") == ["We open at nine."]
    assert s.feed(" close at five") == []
    assert s.flush() == ["We close at five"]


def test_streamed_first_sentence_is_cut_at_its_first_clause() -> None:
    s = SentenceSplitter()
    assert s.feed("Yes,") == []  # the comma may still be part of a number
    assert s.feed(" I can recommend a good") == ["Yes,"]
    # Later sentences are not cut at clauses.
    assert s.feed(" restaurant. Then, if you like, ") == ["I can recommend a good restaurant."]
    assert s.feed("ask at the desk.") == []
    assert s.flush() == ["Then, if you like, ask at the desk."]


def test_first_sentence_ending_before_any_clause_is_released_whole() -> None:
    s = SentenceSplitter()
    assert s.feed("We open at nine. Then, if you like, ") == ["We open at nine."]
    assert s.feed("come in.") == []
    assert s.flush() == ["Then, if you like, come in."]


def test_text_known_in_full_is_split_into_whole_sentences() -> None:
    # An FAQ answer's first sentence is synthesised ahead whole; cutting it would only add a seam.
    assert split("Yes, on the second floor. Take the lift, then turn left.") == [
        "Yes, on the second floor.", "Take the lift, then turn left."]


@given(st.lists(st.text(alphabet="abc ,.!?", max_size=12), max_size=30), st.booleans())
def test_streaming_loses_no_words(pieces: list[str], first_clause: bool) -> None:
    s = SentenceSplitter(first_clause)
    out = [x for p in pieces for x in s.feed(p)] + s.flush()
    assert " ".join(out).split() == "".join(pieces).split()


def test_chinese_and_mixed_text_split_at_full_width_punctuation() -> None:
    assert split("我们周一到周五九点开门。请到ATM机取款！利率是5.9%吗？") == [
        "我们周一到周五九点开门。", "请到ATM机取款！", "利率是5.9%吗？"]
    assert split("他说：“好的。”然后走了。") == ["他说：“好的。”", "然后走了。"]
    assert split("Open at 9:30. 我们9:30开门。") == ["Open at 9:30.", "我们9:30开门。"]


def test_a_streamed_chinese_reply_releases_its_first_clause_at_once() -> None:
    """No space follows Chinese punctuation: the first clause goes to the voice as soon as its comma arrives,
    as early as an English one does."""
    s = SentenceSplitter()
    assert s.feed("您好") == []
    assert s.feed("，我们") == ["您好，"]
    assert s.feed("有人民币、美元") == []  # later clauses stay with their sentence
    assert s.feed("和欧元。请到") == ["我们有人民币、美元和欧元。"]  # "请" shows no closing quote follows
    assert s.flush() == ["请到"]
    first = SentenceSplitter()
    assert first.feed("人民币、美元") == ["人民币、"]
    quoted = SentenceSplitter(first_clause=False)
    assert quoted.feed("他说：“欢迎。") == [] and quoted.feed("”然后") == ["他说：“欢迎。”"]  # the quote came next
    assert quoted.flush() == ["然后"]


@given(st.lists(st.text(alphabet="ab1.,。，、！", max_size=12), max_size=30), st.booleans())
def test_streaming_chinese_loses_no_characters(pieces: list[str], first_clause: bool) -> None:
    s = SentenceSplitter(first_clause)
    out = [x for p in pieces for x in s.feed(p)] + s.flush()
    assert "".join(out).replace(" ", "") == "".join(pieces).replace(" ", "")
