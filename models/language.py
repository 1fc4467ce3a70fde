"""Which language a text is written in, told by its script: what a typed question or a text to render is said in
when nothing else says so.

Chinese when its Han characters are at least as many as its words in other letters (a character is a syllable,
and a word about one): "请到ATM机取款。" is Chinese, "Welcome to the 中国银行 branch today" English. Only Chinese
is told apart; anything else counts as English, the kiosk's other language.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

# The CJK Unified Ideographs, Extension A and the compatibility ideographs; the rarer extensions lie above
# U+20000. HAN_RANGES goes inside a character class: "[^\\W" + HAN_RANGES + "]" is a letter but not a Han one.
HAN_RANGES = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
HAN = re.compile(f"[{HAN_RANGES}]")
_WORD = re.compile(r"[^\W\d_]+")


def written_in(text: str) -> Literal["zh", "en"]:
    text = unicodedata.normalize("NFKC", text)  # full-width Ａ is a Latin letter
    han = len(HAN.findall(text))
    words = len(_WORD.findall(HAN.sub(" ", text)))
    return "zh" if han and han >= words else "en"
