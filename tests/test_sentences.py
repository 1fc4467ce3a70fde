"""Reply text is released sentence by sentence as it streams, the first clause early."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from models.sentences import SentenceSplitter, split


def test_split_sentences() -> None:
    assert split("We open at nine. We close at five! Any questions?") == [
        "We open at nine.", "We close at five!", "Any questions?"]


def test_streaming_releases_a_sentence_when_it_ends() -> None:
    s = SentenceSplitter()
    assert s.feed("We open") == []
    assert s.feed(" at nine. We") == ["We open at nine."]
    assert s.feed(" close at five") == []
    assert s.flush() == ["We close at five"]


def test_long_first_sentence_is_cut_at_a_clause() -> None:
    s = SentenceSplitter()
    out = s.feed("To open an account with us today, please bring a photo ID and ")
    assert out == ["To open an account with us today,"]
    # Later sentences are not cut at clauses.
    assert s.feed("a proof of address. Then, if you like, ") == ["please bring a photo ID and a proof of address."]
    assert s.feed("wait here at the desk for a moment.") == []
    assert s.flush() == ["Then, if you like, wait here at the desk for a moment."]


@given(st.lists(st.text(alphabet="abc ,.!?", max_size=12), max_size=30))
def test_streaming_loses_no_words(pieces: list[str]) -> None:
    s = SentenceSplitter()
    out = [x for p in pieces for x in s.feed(p)] + s.flush()
    assert " ".join(out).split() == "".join(pieces).split()
