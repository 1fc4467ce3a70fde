"""Text as it is said: figures written out in words before synthesis (English here, Chinese in
models/speech_text_zh.py); and the letters a voice cannot read at all.

Piper's phonemiser reads "9:30" as "nine colon thirty" or "$3.50" as "dollar three point five zero";
a receptionist says "nine thirty" and "three dollars fifty". Times, amounts, percentages, "24/7",
ordinals, ISO dates, years and phone numbers are written out here with num2words, so the voice says
them right and the same sentence always sounds the same. Captions keep the written form.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from num2words import num2words

_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"]
_CURRENCY = {"$": ("dollar", "dollars", "cent", "cents"), "£": ("pound", "pounds", "penny", "pence"),
             "€": ("euro", "euros", "cent", "cents")}
_DIGITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


def _n(number: str) -> str:
    return num2words(float(number) if "." in number else int(number))


def _time(m: re.Match[str]) -> str:
    hour, minute, suffix = int(m["h"]), int(m["m"]), (m["ampm"] or "").replace(".", "").lower()
    words = num2words(hour)
    if minute == 0:
        words += "" if suffix else " o'clock"
    elif minute < 10:
        words += f" oh {num2words(minute)}"
    else:
        words += f" {num2words(minute)}"
    return words + (f" {' '.join(suffix)}" if suffix else "") + _full_stop(m)


def _hour(m: re.Match[str]) -> str:
    return f"{num2words(int(m['h']))} {' '.join(m['ampm'].replace('.', '').lower())}" + _full_stop(m)


def _full_stop(m: re.Match[str]) -> str:
    """The dot of "p.m." that also ends the sentence."""
    rest = m.string[m.end():]
    return "." if m[0].endswith(".") and (not rest.strip() or re.match(r"\s+[A-Z]", rest)) else ""


def _money(m: re.Match[str]) -> str:
    one, many, cent, cents = _CURRENCY[m["sym"]]
    whole = int(m["whole"].replace(",", ""))
    frac = int((m["frac"] or "0").ljust(2, "0"))
    if not whole and frac:
        return f"{num2words(frac)} {cent if frac == 1 else cents}"
    return f"{num2words(whole)} {one if whole == 1 else many}" + (f" {num2words(frac)}" if frac else "")


def _percent(m: re.Match[str]) -> str:
    return f"{_n(m['num'])} percent"


def _ordinal(m: re.Match[str]) -> str:
    return str(num2words(int(m["num"]), to="ordinal"))


def _iso_date(m: re.Match[str]) -> str:
    year, month, day = int(m["y"]), int(m["mo"]), int(m["d"])
    if not 1 <= month <= 12 or not 1 <= day <= 31:
        return m[0]
    return f"{_MONTHS[month - 1]} {num2words(day, to='ordinal')}, {num2words(year, to='year')}"


def _phone(m: re.Match[str]) -> str:
    groups = re.findall(r"\d+", m[0])
    spoken = [" ".join("oh" if d == "0" else _DIGITS[int(d)] for d in g) for g in groups]
    return ("plus " if m[0].startswith("+") else "") + ", ".join(spoken)


def _year(m: re.Match[str]) -> str:
    return f"{m['pre']}{num2words(int(m['y']), to='year')}"


def _number(m: re.Match[str]) -> str:
    return _n(m[0].replace(",", ""))


# Order matters: the specific shapes first, bare numbers last.
_RULES: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (re.compile(r"(?<!\d)(?P<y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})(?!\d)"), _iso_date),
    (re.compile(r"(?<![\d.])\+?\d{2,4}(?:[ -]\d{3,4}){2,3}(?!\d)"), _phone),
    (re.compile(r"(?P<h>\d{1,2}):(?P<m>\d{2})\s*(?P<ampm>[ap]\.?m\.?)?(?![\w])", re.IGNORECASE), _time),
    (re.compile(r"(?<![\d.])(?P<h>\d{1,2})\s*(?P<ampm>[ap]\.?m\.?)(?![\w])", re.IGNORECASE), _hour),
    (re.compile(r"(?P<sym>[$£€])\s?(?P<whole>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?P<frac>\d{1,2}))?(?!\d)"), _money),
    (re.compile(r"(?P<num>\d+(?:\.\d+)?)\s?(?:%|per ?cent\b)"), _percent),
    (re.compile(r"\b24/7\b"), lambda _m: "twenty-four seven"),
    (re.compile(r"\b(?P<num>\d+)(?:st|nd|rd|th)\b"), _ordinal),
    (re.compile(r"(?P<pre>\b(?:in|since|from|until|of|by) )(?P<y>1[89]\d\d|20\d\d)\b", re.IGNORECASE), _year),
    (re.compile(r"(?<![\w.])\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\w])|(?<![\w.])\d+(?:\.\d+)?(?![\w])"), _number),
]


def speakable(text: str, language: str = "en") -> str:
    """`text` with its figures written out as a speaker of `language` says them: Chinese ("zh") or English."""
    if language == "zh":
        from models import speech_text_zh  # cn2an takes 0.1 s to import: only for a voice that speaks Chinese

        return speech_text_zh.speakable(text)
    for pattern, say in _RULES:
        text = pattern.sub(say, text)
    return text


# The languages whose voices read each script, by espeak-ng language (the part before any "-"). espeak-ng
# reads a letter of another script as its name ("Chinese letter", over and over, for a line of Chinese), or
# spells it. Every voice reads Latin letters.
_READ_BY: dict[str, set[str]] = {script: set(languages.split()) for script, languages in {
    "LATIN": "en fr de es it pt nl pl cs sk sl hr ro hu fi sv da nb no is ca eu tr vi sw lb lv lt et cy ga id ms",
    "CJK": "zh cmn yue ja ko", "HIRAGANA": "ja", "KATAKANA": "ja", "HANGUL": "ko",
    "CYRILLIC": "ru uk bg sr mk be kk ky", "GREEK": "el", "ARABIC": "ar fa ur", "HEBREW": "he",
    "DEVANAGARI": "hi ne mr", "GEORGIAN": "ka",
}.items()}
_KNOWN = set().union(*_READ_BY.values())


def unreadable(text: str, language: str) -> list[str]:
    """The letters of `text`, each once and in order, written in a script a voice of this espeak-ng language
    ("en-us", "zh") does not read. A language not known here is not judged (nothing is returned)."""
    lang = language.lower().split("-")[0]
    if lang not in _KNOWN:
        return []
    found: dict[str, None] = {}
    for ch in text:
        if ch.isalpha() and not _scriptless(ch):
            script = unicodedata.name(unicodedata.normalize("NFKC", ch)[0], "").split(" ")[0]  # "Ａ" is a Latin A
            if script != "LATIN" and lang not in _READ_BY.get(script, ()):
                found[ch] = None
    return list(found)


def _scriptless(letter: str) -> bool:
    """A letter of no script: a modifier letter (the ʻokina of "Hawaiʻi", the apostrophe ʼ) or a unit's sign
    (µ, Ω, whose compatibility forms are Greek letters)."""
    name = unicodedata.name(letter, "")
    return name.startswith("MODIFIER LETTER ") or (name.endswith(" SIGN") and "LETTER" not in name)
