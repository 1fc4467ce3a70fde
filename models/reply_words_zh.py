"""What the reply check reads in Chinese text: its tokens, its figures and its content.

Chinese is not written in words, so a text's tokens are its character pairs (and any Latin words and
numbers in it): runs of pairs shared with the persona or the question are leaks and echoes, as runs of
words are in English. Figures are read as values after cn2an has written the numerals as digits
("百分之五点九" -> "5.9%", "九点" -> "9点"), so "5.9%" and "百分之五点九" are the same figure; "一" is
a figure only before a unit ("一小时", "一楼"), since "一下" and "一张" are everywhere.
"""

from __future__ import annotations

import re
import warnings

import cn2an

from models.language import HAN, HAN_RANGES

_RUN = re.compile(f"[{HAN_RANGES}]+|[a-z]+|\\d+(?:\\.\\d+)?")
_NUMBER = re.compile(r"(\d+(?:\.\d+)?)\s*(点|小时|个小时|分钟|%|元|块|欧元|美元|英镑|岁|楼|层|号|天|年|月|日|周|个工作日|台)?")
# Words that fix a day, a time or an amount as surely as a number does.
_FIGURE_WORDS = re.compile(r"周[一二三四五六日末]|星期[一二三四五六日天]|今天|明天|昨天|后天|周末|工作日|节假日|"
                           r"免费|中午|午夜|凌晨|半夜|全天")
# A visitor's voice, which a base model continuing the transcript falls into ("我想开个户"); the kiosk's own
# "I" is only polite or says what it can do.
AS_THE_VISITOR = re.compile(r"^(我|谢谢你)")
AS_THE_KIOSK = re.compile(r"^(我们|我很抱歉|我很遗憾|我可以|我很乐意|我无法|我不能|我来|我会)")
# Characters that carry no content alone: a pair made only of these says nothing of the facts.
_FUNCTION = set("的了吗呢吧啊呀哦嗯是在有和与或及就都也还很太更最又再把被给让对向从到于为以之这那哪个些么什怎样"
                "我你您他她它们请可以能会要想得地着过去来上下里中不没无别一此其该每各所如果因但而且并等")


def _digits(text: str) -> str:
    with warnings.catch_warnings():  # cn2an warns about every numeral it leaves as it is ("百" alone)
        warnings.simplefilter("ignore")
        return str(cn2an.transform(text, "cn2an"))


def tokens(text: str) -> list[str]:
    """The text's character pairs (a lone character stands for itself), Latin words and numbers, in order."""
    out: list[str] = []
    for run in _RUN.findall(text.lower()):
        if HAN.match(run):
            out += [run[i : i + 2] for i in range(max(1, len(run) - 1))]
        else:
            out.append(run)
    return out


def figures(text: str) -> set[str]:
    """The figures a Chinese text states: numbers as values, and the words that fix a day, a time or an
    amount ("周日", "免费")."""
    # The day words first, from the text as written: cn2an would make 周三 "周3", a bare number.
    out = {m.replace("星期", "周").replace("周天", "周日") for m in _FIGURE_WORDS.findall(text)}
    spelled = _digits(_FIGURE_WORDS.sub(" ", text))
    for m in _NUMBER.finditer(spelled):
        number, unit = m.group(1), m.group(2)
        value = str(float(number)).rstrip("0").rstrip(".") if "." in number else str(int(number))
        if value == "1" and not unit:
            continue
        out.add(value)
    return out


def content(toks: list[str]) -> set[str]:
    """The tokens that say something: character pairs not made only of function characters, and words."""
    return {t for t in toks if (HAN.match(t) and not set(t) <= _FUNCTION) or (t.isalpha() and len(t) > 2)}
