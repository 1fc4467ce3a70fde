"""Messages that travel through the rings: kind, turn, seq, t_ns, small metadata and a binary payload.

Wire format: u32 little-endian header length, a JSON header, then the raw payload (PCM as int16).
"""

from __future__ import annotations

import json
import struct
import time
from dataclasses import dataclass, field
from typing import Any

_LEN = struct.Struct("<I")

# Kinds on the data path, in pipeline order.
UTTERANCE = "utterance"  # ear -> asr: int16 PCM of one spoken question (16 kHz mono)
TEXT = "text"  # asr -> brain: the transcript
SAY = "say"  # supervisor -> brain (via the bus): speak this text verbatim
SENTENCE = "sentence"  # brain -> voice: one reply sentence
SPEECH = "speech"  # voice -> face: int16 PCM of one sentence + viseme timeline
REPLY_END = "reply_end"  # brain -> voice -> face: the turn's reply is complete
REFERENCE = "reference"  # face -> ear (turn 0): the samples the speaker played, the echo reference


@dataclass(frozen=True)
class Message:
    kind: str
    turn: int
    seq: int = 0
    t_ns: int = field(default_factory=time.monotonic_ns)
    meta: dict[str, Any] = field(default_factory=dict)
    payload: bytes = b""

    def encode(self) -> bytes:
        header = json.dumps(
            {"kind": self.kind, "turn": self.turn, "seq": self.seq, "t_ns": self.t_ns, "meta": self.meta},
            separators=(",", ":"),
        ).encode()
        return _LEN.pack(len(header)) + header + self.payload

    @classmethod
    def decode(cls, data: bytes | memoryview) -> Message:
        data = bytes(data)
        (n,) = _LEN.unpack_from(data)
        header = json.loads(data[_LEN.size : _LEN.size + n])
        return cls(
            kind=header["kind"],
            turn=header["turn"],
            seq=header["seq"],
            t_ns=header["t_ns"],
            meta=header["meta"],
            payload=data[_LEN.size + n :],
        )


def new_turn_id() -> int:
    """Turn ids are milliseconds of the monotonic clock: unique, ordered and comparable across processes,
    so any process that opens a turn (ear for speech, supervisor for `say`) can allocate one."""
    return time.monotonic_ns() // 1_000_000
