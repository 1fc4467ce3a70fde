"""Ring messages round-trip with their header fields and binary payload."""

from __future__ import annotations

import numpy as np

from daemon.messages import SPEECH, Message, new_turn_id


def test_round_trip_keeps_every_field() -> None:
    pcm = (np.arange(1000) - 500).astype(np.int16)
    msg = Message(SPEECH, turn=42, seq=3, t_ns=123, meta={"text": "héllo", "rate": 22050}, payload=pcm.tobytes())
    back = Message.decode(msg.encode())
    assert back == msg
    assert np.array_equal(np.frombuffer(back.payload, np.int16), pcm)


def test_turn_ids_increase() -> None:
    a = new_turn_id()
    b = new_turn_id()
    assert b >= a > 0
