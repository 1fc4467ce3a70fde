"""The language a text is written in, for text that comes without one (typed questions, renders)."""

from __future__ import annotations

import pytest

from models.language import written_in


@pytest.mark.parametrize(("text", "language"), [
    ("你们几点开门？", "zh"),
    ("请到ATM机取款。", "zh"),  # Latin letters inside a Chinese sentence
    ("WiFi密码是多少？", "zh"),
    ("Connect to Bank Guest, 网络", "en"),
    ("Press the 取消 button to cancel.", "en"),  # a Chinese word inside an English sentence
    ("Where is the ATM?", "en"),
    ("9:30", "en"),  # no letters at all
    ("", "en"),
])
def test_the_language_follows_the_share_of_chinese_characters(text: str, language: str) -> None:
    assert written_in(text) == language
