"""Figures are written out as an English speaker says them before synthesis; letters a voice cannot read are found."""

from __future__ import annotations

import pytest

from models.speech_text import speakable, unreadable


@pytest.mark.parametrize(("written", "said"), [
    ("We open at 9:30.", "We open at nine thirty."),
    ("We open at 9:00.", "We open at nine o'clock."),
    ("It starts at 10:05 a.m. tomorrow.", "It starts at ten oh five a m tomorrow."),
    ("We close at 5pm.", "We close at five p m."),
    ("Open at 9 a.m. Come early.", "Open at nine a m. Come early."),
    ("It costs $3.50.", "It costs three dollars fifty."),
    ("A ticket is £12, or €1.", "A ticket is twelve pounds, or one euro."),
    ("Only $0.50.", "Only fifty cents."),
    ("Rates start at 5.9%.", "Rates start at five point nine percent."),
    ("It pays 2.5 percent.", "It pays two point five percent."),
    ("The machines work 24/7.", "The machines work twenty-four seven."),
    ("On the 2nd floor.", "On the second floor."),
    ("See you on 2026-03-12.", "See you on March twelfth, twenty twenty-six."),
    ("Call 0800 123 4567.", "Call oh eight oh oh, one two three, four five six seven."),
    ("Since 2019.", "Since twenty nineteen."),
    ("Desk 2 and counter 4.", "Desk two and counter four."),
    ("We have 1,200 members.", "We have one thousand, two hundred members."),
    ("No figures here.", "No figures here."),
])
def test_figures_are_spoken(written: str, said: str) -> None:
    assert speakable(written) == said


def test_no_digit_survives() -> None:
    text = "Open 9:30-5pm, $4.99 or 3%, desk 12, 2024-01-31, call +44 20 7946 0958, the 21st, 24/7."
    assert not any(ch.isdigit() for ch in speakable(text)), speakable(text)


@pytest.mark.parametrize("text", ["Aloha from Hawaiʻi.", "I don’t know.", "Theyʼre here.", "A hair is 70 µm wide.",
                                  "Use a 10 k\u2126 resistor.",  # the ohm sign, not the Greek capital omega
                                  "Ｆｕｌｌ width, café, naïve, Øresund."])
def test_an_english_voice_reads_modifier_letters_and_unit_signs(text: str) -> None:
    assert unreadable(text, "en-us") == []


@pytest.mark.parametrize(("text", "letters"), [
    ("Say 你好 to µ.", ["你", "好"]),
    ("Привет, Hawaiʻi.", ["П", "р", "и", "в", "е", "т"]),
    ("π ≈ 3.14", ["π"]),  # a Greek letter, not a unit's sign
])
def test_an_english_voice_cannot_read_other_scripts(text: str, letters: list[str]) -> None:
    assert unreadable(text, "en-us") == letters
