"""The turn tracker on a synthetic clock: events in, commands out."""

from __future__ import annotations

from typing import Any

from daemon.commands import Visitor, Words
from daemon.turn_tracker import LINGER_S, Finish, Interrupt, Tell, TurnClosed, TurnTracker


def ev(name: str, turn: int | None = None, **fields: Any) -> dict[str, Any]:
    return {"event": name, "turn": turn, **fields}


def test_the_face_follows_the_visitor_and_the_ear_hears_the_words_verdict() -> None:
    t = TurnTracker()
    assert t.on_event(ev("speech_start", 5), 0.0) == [Tell("face", Visitor("listening"))]
    assert t.on_event(ev("asr_speculative", 5, finished=True, pause_ns=42), 0.1) == [
        Tell("ear", Words(5, True, 42))]
    assert t.on_event(ev("speech_end", 5), 0.2) == [Tell("face", Visitor("thinking"))]
    assert t.open == {5}
    assert t.on_event(ev("sentence", 5, text="Hello."), 0.3) == []


def test_a_visitor_speaking_over_the_reply_closes_every_older_turn() -> None:
    t = TurnTracker()
    for turn in (3, 4):
        t.on_event(ev("speech_end", turn), 0.0)
    t.on_event(ev("speech_start", 9), 1.0)
    assert t.on_event(ev("barge_in", 9), 1.1) == [
        Interrupt(8), TurnClosed(3, "the visitor spoke over the reply"), TurnClosed(4, "the visitor spoke over the reply")]
    assert t.open == set()



def test_a_visitor_who_carried_on_drops_the_fragments_reply_before_it_is_heard() -> None:
    """'Where is the nearest' was taken for a whole turn (7); the visitor went on ('...cash machine?', turn 8, which
    continues 7): turn 7 is interrupted unanswered, and turn 8 is the one that will be answered."""
    t = TurnTracker()
    t.on_event(ev("speech_end", 7), 0.0)
    assert t.on_event(ev("speech_start", 8, continues=7), 0.4) == [Tell("face", Visitor("listening"))]
    reason = "the visitor carried on: answered as one turn with the next"
    assert t.on_event(ev("speech_resumed", 8, continues=7), 0.7) == [Interrupt(7), TurnClosed(7, reason)]
    t.on_event(ev("speech_end", 8), 1.5)
    assert t.open == {8}


def test_a_lost_worker_gives_up_the_open_turns_and_nothing_else() -> None:
    t = TurnTracker()
    assert t.worker_lost("asr hung") == []
    t.on_event(ev("speech_end", 7), 0.0)
    assert t.worker_lost("asr hung") == [Interrupt(7), TurnClosed(7, "asr hung")]


def test_the_run_ends_a_linger_after_the_wanted_turns() -> None:
    t = TurnTracker(turns_wanted=2)
    for turn, at in ((1, 1.0), (2, 5.0)):
        t.on_event(ev("speech_end", turn), at - 0.5)
        t.on_event(ev("turn_end", turn, answered=True), at)
    assert t.answered == 2
    assert t.due(5.0 + LINGER_S - 0.01, drain_s=30) == []
    assert t.due(5.0 + LINGER_S, drain_s=30) == [Finish("2 turn(s) answered")]


def test_unanswered_turns_are_not_counted() -> None:
    t = TurnTracker(turns_wanted=1)
    t.on_event(ev("speech_end", 1), 0.0)
    t.on_event(ev("turn_end", 1, answered=False), 1.0)
    assert t.due(10.0, drain_s=30) == []


def test_after_the_input_ends_the_run_waits_for_open_turns_then_gives_up() -> None:
    t = TurnTracker()
    t.on_event(ev("speech_end", 1), 0.0)
    t.on_event(ev("input_end"), 1.0)
    assert t.due(5.0, drain_s=20) == []
    assert t.due(21.5, drain_s=20) == [Finish("audio input ended but turn(s) [1] were not answered within 20 s", 1)]
    answered = TurnTracker()
    answered.on_event(ev("speech_end", 1), 0.0)
    answered.on_event(ev("input_end"), 1.0)
    answered.on_event(ev("turn_end", 1, answered=True), 3.0)
    assert answered.due(3.0 + LINGER_S, drain_s=20) == [Finish("audio input ended and every turn is answered")]


def test_the_kiosks_activity_follows_the_turn() -> None:
    t = TurnTracker()
    seen = [t.activity]
    for name in ("speech_start", "speech_pause", "speech_end", "sentence", "playback_start", "turn_end",
                 "speech_start", "speech_discarded", "playback_start", "playback_stop",
                 "playback_start", "speech_start", "barge_in", "playback_stop"):
        t.on_event(ev(name, 5), 0.0)
        seen.append(t.activity)
    assert seen == ["idle", "listening", "listening", "thinking", "thinking", "speaking", "idle",
                    "listening", "idle", "speaking", "idle", "speaking", "listening", "listening", "listening"]
