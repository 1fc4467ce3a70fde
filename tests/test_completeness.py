"""Whether a speculative transcript sounds finished."""

from __future__ import annotations

import pytest

from models.completeness import sounds_finished


@pytest.mark.parametrize("text", ["What are your opening hours?", "I lost my card.", "Where is the nearest ATM"])
def test_finished(text: str) -> None:
    assert sounds_finished(text)


@pytest.mark.parametrize("text", ["I would like to open an account and", "Where is the", "Can I, um", "So...", "",
                                  "I want to talk to,"])
def test_unfinished(text: str) -> None:
    assert not sounds_finished(text)
