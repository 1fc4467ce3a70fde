"""Ring messages round-trip through the one codec: the envelope, each body's fields and its PCM; bodies
without PCM carry none."""

from __future__ import annotations

import numpy as np
import pytest

from daemon.messages import Body, Message, Reference, ReplyEnd, Sentence, Speech, Text, Utterance, new_turn_id

PCM = (np.arange(1000) - 500).astype(np.int16).tobytes()


@pytest.mark.parametrize("body", [
    Utterance(PCM, speculative=True), Text("héllo"), Sentence("We are open."), ReplyEnd(), Reference(PCM, 22050),
    Speech(PCM, 22050, ((0.0, 220.0, 0.4, 0.5), (220.0, 900.0, 0.1, 0.2)), "héllo"),
], ids=lambda b: b.kind)
def test_round_trip_keeps_every_field(body: Body) -> None:
    msg = Message(body, turn=42, seq=3, t_ns=123)
    wire = msg.encode()
    assert Message.decode(wire) == msg
    assert (PCM in wire) == hasattr(body, "pcm")


def test_speech_gives_its_samples() -> None:
    speech = Message.decode(Message(Speech(PCM, 16000, (), "x"), 1).encode()).body
    assert isinstance(speech, Speech)
    assert np.array_equal(speech.samples(), np.frombuffer(PCM, np.int16))


def test_turn_ids_increase() -> None:
    a = new_turn_id()
    b = new_turn_id()
    assert b >= a > 0
