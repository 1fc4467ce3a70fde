"""Opening hours, as a pure function of the local time: the site config lists when the kiosk is open
(`schedule.open`, e.g. "mon-fri 09:00-17:30", "sat 10:00-13:00"); outside those hours the screen sleeps
and the microphone is not listened to. No list: always open.

A rule is DAYS HH:MM-HH:MM. DAYS is `daily`, a day (`mon` … `sun`), a range (`mon-fri`, `fri-mon`) or a
comma list of those (`mon,wed,fri-sat`). An end before the start runs past midnight into the next day
("fri 20:00-02:00"); 24:00 is the end of the day.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RULE = re.compile(r"^\s*(?P<days>[a-z,\-]+)\s+(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})\s*$")
LOOKAHEAD_DAYS = 8  # a week and a day: every weekly change is within it


@dataclass(frozen=True)
class Rule:
    days: frozenset[int]  # 0 = Monday
    start_min: int  # minutes after midnight
    end_min: int  # may be below start_min: the rule runs past midnight


def _minutes(text: str, rule: str) -> int:
    h, m = (int(x) for x in text.split(":"))
    if not (0 <= h <= 24 and 0 <= m < 60) or (h == 24 and m):
        raise ValueError(f"{rule!r}: {text} is not a time of day (00:00 to 24:00)")
    return h * 60 + m


def _days(text: str, rule: str) -> frozenset[int]:
    if text == "daily":
        return frozenset(range(7))
    out: set[int] = set()
    for part in text.split(","):
        ends = part.split("-")
        unknown = [d for d in ends if d not in DAYS]
        if unknown or len(ends) > 2:
            raise ValueError(f"{rule!r}: {part!r} is not a day or a range of days ({', '.join(DAYS)}, or daily)")
        first, last = DAYS.index(ends[0]), DAYS.index(ends[-1])
        out.update((first + i) % 7 for i in range((last - first) % 7 + 1))
    return frozenset(out)


def parse(rule: str) -> Rule:
    """One rule; ValueError naming it and what is wrong."""
    m = _RULE.match(rule.lower())
    if not m:
        raise ValueError(f"{rule!r}: write DAYS HH:MM-HH:MM, e.g. 'mon-fri 09:00-17:30'")
    start, end = _minutes(m["start"], rule), _minutes(m["end"], rule)
    if start == end:
        raise ValueError(f"{rule!r}: it opens and closes at the same time")
    return Rule(_days(m["days"], rule), start, end)


def is_open(rules: list[Rule], when: datetime) -> bool:
    if not rules:
        return True
    day, minute = when.weekday(), when.hour * 60 + when.minute
    for r in rules:
        if r.start_min < r.end_min:
            if day in r.days and r.start_min <= minute < r.end_min:
                return True
        elif (day in r.days and minute >= r.start_min) or ((day - 1) % 7 in r.days and minute < r.end_min):
            return True
    return False


def next_change(rules: list[Rule], when: datetime) -> datetime | None:
    """The first minute after `when` at which is_open changes (None: it never does)."""
    now = is_open(rules, when)
    t = when.replace(second=0, microsecond=0)
    candidates = sorted({t.replace(hour=0, minute=0) + timedelta(days=d, minutes=m)
                         for d in range(LOOKAHEAD_DAYS + 1) for r in rules
                         for m in (r.start_min, r.end_min)})
    return next((c for c in candidates if c > when and is_open(rules, c) != now), None)


def describe(rules: list[Rule], when: datetime) -> str:
    """'open until 17:30' / 'closed until Mon 09:00' / 'always open', for the status and the screen."""
    change = next_change(rules, when)
    if change is None:
        return "always open" if is_open(rules, when) else "closed"
    at = change.strftime("%H:%M") if change.date() == when.date() else change.strftime("%a %H:%M")
    return f"{'open' if is_open(rules, when) else 'closed'} until {at}"
