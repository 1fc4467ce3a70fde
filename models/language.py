"""Which language a text is written in, for text that comes without one (a typed question, a render's
text): Chinese when Chinese characters make up a good share of its letters, else English. "请到ATM机取款"
is Chinese; "Press the 取消 button" is English."""

from __future__ import annotations

import re

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LETTER = re.compile(r"[^\W\d_]")
CHINESE_SHARE = 0.3  # of the letters; a Chinese character carries a syllable, a Latin letter a fraction of one


def written_in(text: str) -> str:
    letters = _LETTER.findall(text)
    if not letters:
        return "en"
    return "zh" if sum(1 for c in letters if _CJK.match(c)) / len(letters) >= CHINESE_SHARE else "en"
