"""Captions in English and Chinese: set in a font that has the glyphs, wrapped to the screen, never wider."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from kiosk.captions import CJK_FONT, LINES, CaptionFont, wrap
from kiosk.renderer import Screen

ARTEFACTS = Path(__file__).resolve().parent.parent / "out" / "test-artefacts"
LONG_ZH = ("您好，欢迎光临示例银行。我们的营业时间是周一至周五上午九点到下午五点，周六上午九点到下午一点。"
           "请到ATM机取款，或者到服务台咨询。")


def _width(text: str) -> int:
    return len(text) * 10  # a monospaced stand-in: every character 10 px


def test_english_wraps_at_spaces_as_before() -> None:
    assert wrap("We open at nine and close at five", _width, 140) == ["We open at", "nine and close", "at five"]


def test_chinese_wraps_between_characters_and_never_before_closing_punctuation() -> None:
    lines = wrap("我们九点开门，五点关门。", _width, 60)
    assert lines == ["我们九点开", "门，五点关", "门。"]  # "，" stays with the character before it
    assert all(_width(line) <= 60 for line in lines)
    assert "".join(wrap("请到ATM机取款", _width, 60)) == "请到ATM机取款"  # mixed text keeps every character


def test_a_word_wider_than_the_screen_is_cut_not_overflowing() -> None:
    lines = wrap("see https://example.com/a/very/long/path", _width, 100)
    assert all(_width(line) <= 100 for line in lines) and len(lines) == LINES


def test_only_the_latest_lines_are_kept() -> None:
    latest = wrap(" ".join(f"w{i}" for i in range(30)), _width, 120)
    assert latest == ["w23 w24 w25", "w26 w27 w28", "w29"]
    assert len(wrap(LONG_ZH, _width, 100)) == LINES


@pytest.mark.skipif(not CJK_FONT.is_file(), reason=f"{CJK_FONT} missing: apt-get install fonts-noto-cjk")
def test_chinese_is_drawn_with_real_glyphs_inside_the_screen(screen: Screen) -> None:
    """pygame's own font draws every Chinese character as the same box; the caption font must not."""
    font = CaptionFont(24)
    width_of, render, _ = font.for_text("你")
    you, hao = (pygame_pixels(render(ch)) for ch in "你好")
    assert you.shape == hao.shape and not np.array_equal(you, hao)
    at = screen.portrait_rect((300, 200))
    face = np.full((at.h, at.w, 3), 90, np.uint8)
    screen.draw(face, at, LONG_ZH, "")
    shot = screen.bgrx()[:, :, :3]
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(ARTEFACTS / "caption-zh.png"), shot)
    band = shot[int(shot.shape[0] * 0.6):]
    bright = np.argwhere(band.max(axis=2) > 200)  # the caption's white strokes
    assert len(bright) > 500
    margin = shot.shape[1] * 0.05 - 2
    assert bright[:, 1].min() >= margin and bright[:, 1].max() <= shot.shape[1] - margin
    lines = wrap(LONG_ZH, width_of, int(shot.shape[1] * 0.9))
    assert len(lines) == LINES and all(width_of(line) <= shot.shape[1] * 0.9 for line in lines)


def pygame_pixels(surface: object) -> np.ndarray:
    import pygame

    assert isinstance(surface, pygame.Surface)
    return pygame.surfarray.array_alpha(surface) if surface.get_flags() & pygame.SRCALPHA else \
        pygame.surfarray.array3d(surface)
