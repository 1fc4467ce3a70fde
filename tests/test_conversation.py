"""The conversation remembers the last exchanges and is forgotten after an idle timeout (synthetic clock)."""

from __future__ import annotations

from models.conversation import KEPT, Conversation


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_follow_up_sees_the_question_before_it() -> None:
    clock = Clock()
    c = Conversation(45, clock)
    assert c.previous_question is None and c.describe().startswith("waiting")
    c.add("What are your opening hours?", "We are open Monday to Friday.", 1)
    clock.now += 10
    assert c.previous_question == "What are your opening hours?"
    assert "1 question(s), last 10 s ago" in c.describe()


def test_an_idle_conversation_ends_and_the_next_visitor_starts_afresh() -> None:
    clock = Clock()
    c = Conversation(45, clock)
    c.add("What are your opening hours?", "Monday to Friday.", 1)
    clock.now += 44.9
    assert c.history and not c.expire()
    clock.now += 0.2
    assert c.expire()
    assert c.previous_question is None and c.history == []
    assert not c.expire()  # already over: nothing ends twice


def test_only_the_last_exchanges_are_kept_and_the_rest_forgotten() -> None:
    """A busy lobby never goes idle: the visitors' words must not pile up until it does."""
    c = Conversation(45, Clock())
    for i in range(5):
        c.add(f"q{i}", f"a{i}", i + 1)
    assert [ex.question for ex in c.history] == [f"q{i}" for i in range(5 - KEPT, 5)]
    assert [ex.question for ex in c._exchanges] == [f"q{i}" for i in range(5 - KEPT - 1, 5)]
    assert "5 question(s)" in c.describe()
    c.withdraw(5)
    assert c.previous_question == "q3" and "4 question(s)" in c.describe()


def test_a_turn_the_visitor_carried_on_is_withdrawn_from_the_conversation() -> None:
    c = Conversation(45, Clock())
    c.add("What are your opening hours?", "Monday to Friday.", 1)
    c.add("Where is the nearest?", "The cash machine is by the door.", 2)
    c.withdraw(2)  # "...cash machine, please?": turn 3 carries turn 2 on
    c.withdraw(0)  # a turn that carries nothing on withdraws nothing
    c.withdraw(7)
    assert [ex.question for ex in c.history] == ["What are your opening hours?"]
