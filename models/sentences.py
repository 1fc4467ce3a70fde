"""Split a reply into speakable sentences as its text streams in.

The first sentence is what the visitor waits for, so it is released as soon as it is complete;
a long first sentence is cut at a clause boundary (comma, semicolon) once it is long enough to be
worth saying alone.
"""

from __future__ import annotations

import re

_END = re.compile(r"(?<=[.!?…])[\"')\]]*\s+")
_CLAUSE = re.compile(r"(?<=[,;:])\s+")
FIRST_CLAUSE_MIN_CHARS = 40


class SentenceSplitter:
    def __init__(self) -> None:
        self._buf = ""
        self._released = 0

    def feed(self, text: str) -> list[str]:
        """Add streamed text; return the sentences completed by it."""
        self._buf += text
        out: list[str] = []
        while True:
            m = _END.search(self._buf)
            if m is None and self._released == 0 and len(self._buf) >= FIRST_CLAUSE_MIN_CHARS:
                # Synthesise the first clause alone: the visitor hears it while the rest is generated.
                m = next((c for c in _CLAUSE.finditer(self._buf) if c.start() >= FIRST_CLAUSE_MIN_CHARS // 2), None)
            if m is None:
                return out
            piece, self._buf = self._buf[: m.start()].strip(), self._buf[m.end() :]
            if piece:
                out.append(piece)
                self._released += 1

    def flush(self) -> list[str]:
        """The unterminated rest, at the end of the reply."""
        piece, self._buf = self._buf.strip(), ""
        return [piece] if piece else []


def split(text: str) -> list[str]:
    s = SentenceSplitter()
    return s.feed(text) + s.flush()
