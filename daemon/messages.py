"""What travels through the rings: a typed body (one frozen dataclass per kind) in an envelope that says
which turn it belongs to, its place in the turn and its time.

Wire format, the one codec: u32 little-endian header length, a JSON header (`kind`, `turn`, `seq`,
`t_ns` and the body's small fields), then the body's PCM as raw int16. Receivers `match` on the body.
"""

from __future__ import annotations

import json
import struct
import time
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

import numpy as np

_LEN = struct.Struct("<I")


@dataclass(frozen=True)
class Utterance:
    """ear -> asr: one spoken question (16 kHz mono int16); speculative: the visitor only paused;
    continues: the turn whose utterance this one carries on (and begins with), 0 for none."""

    kind: ClassVar[str] = "utterance"
    pcm: bytes
    speculative: bool = False
    continues: int = 0


@dataclass(frozen=True)
class Text:
    """asr -> brain: the transcript; speculative: of a pause the ear is still judging (the brain may get
    ready to answer it, and answers only the final one); continues: as the Utterance's; language: the one
    it was heard in ("en", "zh"), which the reply is given in."""

    kind: ClassVar[str] = "text"
    text: str
    speculative: bool = False
    continues: int = 0
    language: str = "en"


@dataclass(frozen=True)
class Sentence:
    """brain -> voice: one reply sentence (the envelope's seq is its place in the reply), in `language`
    (the voice for it says it)."""

    kind: ClassVar[str] = "sentence"
    text: str
    mood: str = "neutral"  # how the face says it (models/mood.py)
    language: str = "en"


@dataclass(frozen=True)
class Speech:
    """voice -> face: one sentence as int16 PCM at `rate`, its viseme timeline (rows of start sample,
    end sample, jaw, width), its text for the caption and the mood the face says it with."""

    kind: ClassVar[str] = "speech"
    pcm: bytes
    rate: int
    timeline: tuple[tuple[float, ...], ...]
    text: str
    mood: str = "neutral"

    def samples(self) -> np.ndarray:
        return np.frombuffer(self.pcm, np.int16)


@dataclass(frozen=True)
class ReplyEnd:
    """brain -> voice -> face: the turn's reply is complete."""

    kind: ClassVar[str] = "reply_end"


@dataclass(frozen=True)
class Reference:
    """face -> ear (turn 0): the samples the speaker played from the envelope's t_ns, the echo reference."""

    kind: ClassVar[str] = "reference"
    pcm: bytes
    rate: int


Body = Utterance | Text | Sentence | Speech | ReplyEnd | Reference
_BY_KIND: dict[str, type[Any]] = {b.kind: b for b in (Utterance, Text, Sentence, Speech, ReplyEnd, Reference)}


@dataclass(frozen=True)
class Message:
    body: Body
    turn: int
    seq: int = 0
    t_ns: int = field(default_factory=time.monotonic_ns)

    def encode(self) -> bytes:
        small = {f.name: getattr(self.body, f.name) for f in fields(self.body) if f.name != "pcm"}
        header = json.dumps({"kind": self.body.kind, "turn": self.turn, "seq": self.seq, "t_ns": self.t_ns, **small},
                            separators=(",", ":")).encode()
        return _LEN.pack(len(header)) + header + getattr(self.body, "pcm", b"")

    @classmethod
    def decode(cls, data: bytes | memoryview) -> Message:
        data = bytes(data)
        (n,) = _LEN.unpack_from(data)
        header = json.loads(data[_LEN.size : _LEN.size + n])
        body_class = _BY_KIND[header.pop("kind")]
        envelope = {k: header.pop(k) for k in ("turn", "seq", "t_ns")}
        if "pcm" in {f.name for f in fields(body_class)}:
            header["pcm"] = data[_LEN.size + n :]
        if "timeline" in header:
            header["timeline"] = tuple(tuple(row) for row in header["timeline"])
        return cls(body_class(**header), **envelope)


def new_turn_id() -> int:
    """Turn ids are milliseconds of the monotonic clock: unique, ordered and comparable across processes,
    so any process that opens a turn (ear for speech, supervisor for `say`) can allocate one."""
    return time.monotonic_ns() // 1_000_000
