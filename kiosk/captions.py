"""Caption text on screen: the font for its script, and lines that fit the screen's width.

pygame's own font has no Chinese glyphs (every character would be the same empty box), so a caption with
Chinese in it is set in Noto Sans CJK SC (Debian's fonts-noto-cjk; its collection holds the Japanese,
Korean and Chinese cuts, and the Simplified Chinese one is face 2). English captions keep pygame's font.
Chinese has no spaces to break at, so lines break between any two characters, never before the
punctuation that closes a clause, and a word too long for a line is cut rather than overflowing it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path

import pygame
import pygame.freetype

log = logging.getLogger("kioskd.face")
CJK_FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
CJK_FACE_SC = 2  # the collection's Simplified Chinese face
LINES = 3  # the latest three lines: a caption is read as it is spoken

_CJK = "\u2e80-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef"
_CLOSING = "，。！？、；：”’）》」』,.!?;:)"
_HAS_CJK = re.compile(f"[{_CJK}]")
# A Chinese character, or a run of anything else that is not a space, with the punctuation that closes it.
_TOKEN = re.compile(f"[{_CJK}][{_CLOSING}]*|[^\\s{_CJK}]+[{_CLOSING}]*| ")


class CaptionFont:
    """Measures and renders one script's captions at one size."""

    def __init__(self, size: int) -> None:
        self._latin = pygame.font.Font(None, size)
        self._size = size

    def for_text(self, text: str) -> tuple[Callable[[str], int], Callable[[str], pygame.Surface], int]:
        """(width of a line, the line rendered in white, line height) in the font `text` needs."""
        cjk = _cjk_font(self._size) if _HAS_CJK.search(text) else None
        if cjk is None:
            latin = self._latin
            return (lambda line: latin.size(line)[0], lambda line: latin.render(line, True, (250, 250, 250)),
                    latin.get_linesize())
        return (lambda line: cjk.get_rect(line).width, lambda line: cjk.render(line, (250, 250, 250))[0],
                int(cjk.get_sized_height() * 1.15))


@cache
def _cjk_font(size: int) -> pygame.freetype.Font | None:
    try:
        pygame.freetype.init()
        return pygame.freetype.Font(str(CJK_FONT), size, font_index=CJK_FACE_SC)
    except (OSError, pygame.error) as exc:  # a missing file; a damaged one, or a collection without that face
        log.warning("no font for Chinese captions (%s: %s): apt-get install fonts-noto-cjk", CJK_FONT, exc)
        return None


def wrap(text: str, width_of: Callable[[str], int], width: int) -> list[str]:
    """`text` in lines no wider than `width`, the latest LINES of them."""
    lines: list[str] = []
    line = ""
    for token in _TOKEN.findall(" ".join(text.split())):
        if token == " ":
            line += " " if line else ""
            continue
        for piece in _cut(token, width_of, width) if width_of(token) > width else [token]:
            if line.strip() and width_of(line + piece) > width:
                lines.append(line.rstrip())
                line = piece
            else:
                line += piece
    if line.strip():
        lines.append(line.rstrip())
    return lines[-LINES:]


def _cut(token: str, width_of: Callable[[str], int], width: int) -> list[str]:
    """A token wider than a line, in pieces that fit (a long URL or number has nowhere else to break)."""
    pieces = [""]
    for ch in token:
        if pieces[-1] and width_of(pieces[-1] + ch) > width:
            pieces.append("")
        pieces[-1] += ch
    return pieces
