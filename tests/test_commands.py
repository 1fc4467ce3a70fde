"""The bus vocabulary's codec: every command survives the wire, events keep their fields, and a message
outside the vocabulary is refused by name (the bus logs and skips it)."""

from __future__ import annotations

import json
import logging
import socket
from pathlib import Path

import pytest

from daemon.bus import Bus
from daemon.commands import (
    Ask,
    Command,
    Hear,
    Heartbeat,
    Interrupt,
    Ready,
    Report,
    Say,
    Start,
    Status,
    Stop,
    UnknownCommand,
    Visitor,
    Words,
    decode,
    encode,
)

EVERY = [Start(), Stop(), Interrupt(7), Say(8, "Hello."), Ask(9, "When are you open?"), Hear("/tmp/q.wav"),
         Words(9, True, 123), Visitor("listening"), Status("brain", "ready", False), Ready("ear", 412),
         Heartbeat("face", 99), Report("asr", "asr_final", 9, 1000, {"text": "hi", "speculative": False})]


@pytest.mark.parametrize("cmd", EVERY, ids=lambda c: c.type)
def test_every_command_survives_the_wire(cmd: Command) -> None:
    assert decode(json.loads(json.dumps(encode(cmd)))) == cmd


def test_an_event_travels_flat_and_is_recorded_with_its_fields() -> None:
    report = Report("asr", "asr_final", 9, 1000, {"text": "hi"})
    assert encode(report) == {"type": "event", "worker": "asr", "event": "asr_final", "turn": 9, "t_ns": 1000,
                              "text": "hi"}
    assert report.record() == {"event": "asr_final", "turn": 9, "t_ns": 1000, "worker": "asr", "text": "hi"}


@pytest.mark.parametrize(("wire", "named"), [
    ({"type": "reboot"}, "'reboot'"),
    ({"turn": 3}, "None"),
    ({"type": "interrupt"}, "'interrupt'"),
    ({"type": "say", "turn": 1, "text": "x", "volume": 11}, "volume"),
])
def test_a_message_outside_the_vocabulary_is_refused_by_name(wire: dict, named: str) -> None:
    with pytest.raises(UnknownCommand, match=named):
        decode(wire)


def test_the_bus_skips_what_it_cannot_decode(runtime_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    a, b = Bus(runtime_dir / "a.bus"), Bus(runtime_dir / "b.bus")
    try:
        raw = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        raw.sendto(b'{"type": "reboot"}', str(runtime_dir / "b.bus"))
        raw.close()
        assert a.send(runtime_dir / "b.bus", Interrupt(4))
        with caplog.at_level(logging.WARNING, logger="kioskd.bus"):
            assert b.recv(timeout=1.0) == Interrupt(4)
        assert "unknown bus message type 'reboot'" in caplog.text
    finally:
        a.close()
        b.close()
