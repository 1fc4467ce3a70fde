"""Chinese text as it is said: figures written out in characters before synthesis (cn2an), abbreviations in
Latin capitals spelled.

espeak-ng's Mandarin reads "9:30" as 九 三十, "¥3.50" as 三点五零 (the sign unsaid), the hotline 95588 as
九万五千五百八十八, "2.5%" as 二点五 and an English "percent", "24/7" with an English "slash", and full-width
letters (ＡＴＭ) as their code points. A receptionist says 九点半, 三元五角, 九五五八八, 百分之二点五, 全天候 and
A-T-M. Times, money, percentages, dates, phone numbers, ranges and "24/7" are written out here so the voice
says them so; captions keep the written form. The English counterpart is models/speech_text.py.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from cn2an import an2cn

# Full-width letters, digits and the signs of figures as their ASCII selves; the full-width punctuation that
# ends a Chinese clause or sentence stays, as models/sentences.py and the voice's pauses read it.
_WIDE = {c: unicodedata.normalize("NFKC", chr(c)) for c in [*range(0xFF01, 0xFF5F), 0xFFE5]
         if chr(c) not in "，！？；：（）"}
_PLAIN = "零一二三四五六七八九"
_PHONE = "零幺二三四五六七八九"  # digit by digit, 1 is 幺 (yāo), as any number read out digit by digit is said
_CURRENCY = {"¥": "元", "$": "美元", "€": "欧元", "£": "英镑"}
# A figure followed by one of these counts something: said as a number, however long it is.
_UNITS = "元块角万亿千百人个位次笔张件份台辆米克斤吨天年岁%"
# Counted, 2 is 两 (两个, 两天, 两点); as a name or an order it stays 二 (二楼, 二号, 第二, 二年级).
_MEASURED = "个|位|次|张|件|天|周|种|条|本|台|家|项|份|笔|名|岁|元|块|角|点|小时|分钟|年(?!级)"


def _n(number: str) -> str:
    return str(an2cn(number.replace(",", ""), "low"))


def _count(number: str) -> str:
    return "两" if number == "2" else _n(number)


def _digits(run: str) -> str:
    return "".join(_PHONE[int(d)] for d in run)


def _time(hour: int, minute: int) -> str:
    said = f"{_count(str(hour))}点"
    if minute == 0:
        return said
    if minute == 30:
        return f"{said}半"
    return f"{said}{'零' if minute < 10 else ''}{_n(str(minute))}分"


_CLOCK = r"(?P<{0}h>\d{{1,2}})[:：](?P<{0}m>[0-5]\d)"


def _times(m: re.Match[str]) -> str:
    hour, minute = int(m["ah"]), int(m["am"])
    if hour > 24:
        return m[0]
    said = _time(hour, minute)
    if m["bh"] is not None and int(m["bh"]) <= 24:
        said += f"到{_time(int(m['bh']), int(m['bm']))}"
    return said


def _iso_date(m: re.Match[str]) -> str:
    month, day = int(m["mo"]), int(m["d"])
    if not 1 <= month <= 12 or not 1 <= day <= 31:
        return m[0]
    return f"{m['y']}年{month}月{day}日"  # the year's own rule and the numbers' then say it


def _year(m: re.Match[str]) -> str:
    return "".join(_PLAIN[int(d)] for d in m[0])


def _phone(m: re.Match[str]) -> str:
    plus = "加" if m[0].startswith("+") else ""
    return plus + "，".join(_digits(g) for g in re.findall(r"\d+", m[0]))


def _money(m: re.Match[str]) -> str:
    unit = _CURRENCY[m["sym"]]
    number = m["num"].replace(",", "")
    if m["big"] or unit != "元":
        if "." in number:  # $3.50 is 三点五美元
            number = number.rstrip("0").rstrip(".")
        return f"{_n(number)}{m['big'] or ''}{unit}"
    return _yuan(number)


def _yuan(number: str) -> str:
    """An amount of yuan in 元, 角 and 分, as a cashier says it: 3.50 is 三元五角, 3.05 三元零五分, 0.50 五角."""
    whole, _, frac = number.replace(",", "").partition(".")
    if len(frac) > 2:
        return f"{_n(number)}元"
    jiao, fen = (d for d in frac.ljust(2, "0"))
    said = f"{_count(whole)}元" if int(whole) or jiao == fen == "0" else ""
    if jiao != "0":
        said += f"{_count(jiao)}角"
    elif fen != "0" and said:
        said += "零"
    if fen != "0":
        said += f"{_count(fen)}分"
    return said


def _percent(m: re.Match[str]) -> str:
    return f"{'百分之' if m['sign'] == '%' else '千分之'}{_n(m['num'])}"


def _range(m: re.Match[str]) -> str:
    return f"{_n(m['a'])}到{_n(m['b'])}"


_NUM = r"\d+(?:,\d{3})*(?:\.\d+)?"

# Order matters: the specific shapes first, bare numbers last.
_RULES: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (re.compile(r"(?<![\d.])(?P<y>\d{4})[-/](?P<mo>\d{1,2})[-/](?P<d>\d{1,2})(?![\d.])"), _iso_date),
    (re.compile(r"(?<![\d.])\d{4}(?=\s*年)"), _year),
    # Hotlines and mobiles in groups (400-820-8820, 138 0013 8000), a number with its area code (010-12345678).
    (re.compile(r"(?<![\d.])(?:\+\d{1,3}[ -]?)?(?:\d{3,4}[ -]\d{3,4}[ -]\d{4}|0\d{2,3}-\d{7,8})(?![\d.])"), _phone),
    (re.compile(rf"(?<![\d.]){_CLOCK.format('a')}(?:\s*[-–—~～至到]\s*{_CLOCK.format('b')})?(?![\d:])"), _times),
    (re.compile(rf"(?P<sym>[¥$€£])\s?(?P<num>{_NUM})(?P<big>[万亿])?"), _money),
    (re.compile(r"(?<![\d.,])(?P<num>\d+(?:,\d{3})*\.\d+)\s*元"), lambda m: _yuan(m["num"])),
    (re.compile(rf"(?P<num>{_NUM})\s*(?P<sign>[%‰])"), _percent),
    (re.compile(r"(?<!\d)24\s*/\s*7(?!\d)"), lambda _m: "全天候"),
    (re.compile(r"(?<!\d)7\s*[x×*]\s*24(?!\d)"), lambda _m: "七乘二十四"),
    # A hotline or code alone (95588, 010): said digit by digit, unless a unit after it says it counts something.
    (re.compile(rf"(?<![\d.,])(?:0\d+|\d{{5,}})(?![\d.,])(?!\s*[{_UNITS}])"), lambda m: _digits(m[0])),
    (re.compile(rf"(?<![\d.,])(?P<a>{_NUM})\s*[-–—~～]\s*(?P<b>{_NUM})(?![\d.])"), _range),
    (re.compile(rf"(?<![\d.,第])2(?=\s*(?:{_MEASURED}))"), lambda _m: "两"),
    (re.compile(_NUM), lambda m: _n(m[0])),
    # Abbreviations in capitals are spelled, as Chinese speakers say them: espeak-ng's English reads VIP and PIN
    # as words, V-I-P letter by letter (with spaces a lone A would be the article, with dots it says "space").
    (re.compile(r"(?<![A-Za-z])[A-Z]{2,5}(?![A-Za-z])"), lambda m: "-".join(m[0])),
]


def speakable(text: str) -> str:
    """`text` with its figures written out as a Mandarin speaker says them."""
    text = text.translate(_WIDE)
    for pattern, say in _RULES:
        text = pattern.sub(say, text)
    return text
