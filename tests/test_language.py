"""Which language a text is written in, by its script: Chinese when its Han characters are at least as many
as its words in other letters."""

from __future__ import annotations

import pytest

from models.language import written_in


@pytest.mark.parametrize(("text", "language"), [
    ("您好，欢迎光临。", "zh"),
    ("请到ATM机取款。", "zh"),
    ("您可以用Visa或Mastercard付款", "zh"),
    ("ＡＴＭ机在哪里？", "zh"),  # full-width letters are Latin words
    ("WiFi密码是多少？", "zh"),
    ("Press the 取消 button to cancel.", "en"),  # a Chinese word inside an English sentence
    ("When are you open?", "en"),
    ("Welcome to the 中国银行 branch today", "en"),
    ("9:30", "en"),  # no letters at all: the kiosk's first language
    ("", "en"),
    ("こんにちは", "en"),  # Japanese kana are not Chinese
])
def test_written_in(text: str, language: str) -> None:
    assert written_in(text) == language
