"""Opening hours on a synthetic calendar (2026-11-30 is a Monday): the rules, their errors, and the next
change the status and the screen announce; then a real kiosk outside its hours."""

from __future__ import annotations

import signal
import time
from datetime import datetime
from pathlib import Path

import av
import numpy as np
import pytest

from daemon.control import request
from daemon.events import read_jsonl
from daemon.opening_hours import DAYS, describe, is_open, next_change, parse
from daemon.paths import control_socket
from tests.speech import SAMPLE_WAV, espeak, silence, write_wav
from tests.test_end_to_end import kioskd, run_to_end, wait_ready


def at(day: int, hh: int, mm: int = 0) -> datetime:
    """Monday 30 November 2026 + `day` days, at hh:mm."""
    return datetime(2026, 11, 30 + day, hh, mm) if day < 1 else datetime(2026, 12, day, hh, mm)


BANK = [parse("mon-fri 09:00-17:30"), parse("sat 10:00-13:00")]


@pytest.mark.parametrize(("when", "open_"), [
    (at(0, 8, 59), False), (at(0, 9), True), (at(0, 17, 29), True), (at(0, 17, 30), False),
    (at(5, 12), True),  # Saturday 5 December
    (at(6, 12), False),  # Sunday
])
def test_a_bank_is_open_on_weekdays_and_saturday_mornings(when: datetime, open_: bool) -> None:
    assert is_open(BANK, when) is open_


def test_no_rules_is_always_open_and_late_rules_run_past_midnight() -> None:
    assert is_open([], at(6, 3)) and describe([], at(6, 3)) == "always open"
    late = [parse("fri 20:00-02:00")]
    assert is_open(late, at(4, 23)) and is_open(late, at(5, 1, 59))  # Friday night into Saturday
    assert not is_open(late, at(5, 2)) and not is_open(late, at(3, 23))
    assert is_open([parse("fri-mon 00:00-24:00")], at(0, 12)) and not is_open([parse("fri-mon 00:00-24:00")], at(1, 12))


def test_the_next_change_is_announced() -> None:
    assert describe(BANK, at(0, 12)) == "open until 17:30"
    assert describe(BANK, at(0, 18)) == "closed until Tue 09:00"
    assert describe(BANK, at(5, 14)) == "closed until Mon 09:00"  # Saturday afternoon
    assert next_change(BANK, at(4, 17, 29)) == at(4, 17, 30)
    assert next_change([parse("daily 00:00-24:00")], at(2, 12)) is None


@pytest.mark.parametrize(("rule", "said"), [
    ("mon-fry 09:00-17:00", "'mon-fry' is not a day or a range of days"),
    ("weekdays 9-5", "write DAYS HH:MM-HH:MM"),
    ("mon 25:00-26:00", "25:00 is not a time of day"),
    ("tue 09:00-09:00", "opens and closes at the same time"),
])
def test_a_bad_rule_is_named_with_what_is_wrong(rule: str, said: str) -> None:
    with pytest.raises(ValueError, match=said) as err:
        parse(rule)
    assert rule in str(err.value)


def test_outside_opening_hours_the_screen_sleeps_and_nobody_is_heard(tmp_path: Path) -> None:
    """A kiosk open only on a day three days from now: a question spoken into it opens no turn, the events
    say it is closed and until when, and the recording shows a dark screen."""
    day = DAYS[(datetime.now().weekday() + 3) % 7]
    wav = write_wav(tmp_path / "visitor.wav", np.concatenate([silence(2.0), espeak("What are your opening hours?"),
                                                            silence(1.5)]))
    events, record = tmp_path / "events.jsonl", tmp_path / "out.mp4"
    assert run_to_end("--audio-in", str(wav), "--events", str(events), "--record", str(record),
                      "-o", f'schedule.open=["{day} 00:00-24:00"]', run_dir=tmp_path / "run") == 0
    got = read_jsonl(events)
    (opening,) = [e for e in got if e["event"] == "opening"]
    assert opening["open"] is False and opening["note"] == f"closed until {day.capitalize()} 00:00"
    assert not [e for e in got if e["event"] in ("speech_start", "asr_final", "sentence")]
    with av.open(str(record)) as c:
        frames = [f.to_ndarray(format="gray") for f in c.decode(video=0)]
    assert len(frames) > 30 and max(float(f.mean()) for f in frames[-30:]) < 8  # dark, bar a dim line of text


def test_a_reload_that_opens_the_kiosk_wakes_it(tmp_path: Path) -> None:
    """An operator changes the hours of a closed kiosk: after the reload it is open within a second or
    two (status and event), and a question played into it is heard and answered."""
    day = DAYS[(datetime.now().weekday() + 3) % 7]
    site = tmp_path / "site.yaml"
    site.write_text(f'schedule:\n  open: ["{day} 00:00-24:00"]\n')
    events, run = tmp_path / "events.jsonl", tmp_path / "run"
    proc = kioskd("--audio-in", "none", "--config", str(site), "--events", str(events), run_dir=run)
    sock = control_socket(run)
    try:
        assert not wait_ready(run)["opening"]["open"]
        site.write_text("schedule:\n  open: []\n")
        assert request(sock, {"cmd": "reload"}, timeout=60)["ok"]
        deadline = time.monotonic() + 10
        while not request(sock, {"cmd": "status"})["opening"]["open"]:
            assert time.monotonic() < deadline, "still closed after the reload"
            time.sleep(0.2)
        assert request(sock, {"cmd": "hear", "path": str(SAMPLE_WAV)})["ok"]
        deadline = time.monotonic() + 60
        while not any(e["event"] == "turn_end" and e.get("answered") for e in read_jsonl(events)):
            assert time.monotonic() < deadline, "the question was not answered after waking"
            time.sleep(0.3)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    states = [(e["open"], e["note"]) for e in read_jsonl(events) if e["event"] == "opening"]
    assert states == [(False, f"closed until {day.capitalize()} 00:00"), (True, "always open")]
