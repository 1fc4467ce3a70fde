"""Split a reply into speakable sentences as its text streams in.

The first sentence is what the visitor waits for, so it is released as soon as it is complete. While
text streams from the LLM it is also cut at its first clause boundary (comma, semicolon, colon): "Yes,"
or "Of course," is generated and synthesised in a fraction of the time of the whole sentence and plays
while the rest is, and a comma is where a speaker pauses anyway. Text known in full (an FAQ answer,
whose first sentence is synthesised ahead) is split into whole sentences only; later sentences are
always kept whole, for their intonation. Chinese text is cut the same way at 。！？ and at ，；：、 (mixed
text such as "请到ATM机取款。" included).
"""

from __future__ import annotations

import re

# Latin punctuation ends a sentence or clause only once a space follows ("5.9", "1,000", "9:30" stay whole);
# Chinese full-width punctuation is never inside a number and is followed by no space, so it ends one at once.
# A match runs from the punctuation through its closing quotes and the space after: the piece is what it ends.
# A Chinese sentence ends once something other than a closing quote follows it (the quote may come next).
_END = re.compile(r"[.!?…][\"')\]]*\s+|[。！？][”’」』）]*\s*(?=[^”’」』）\s])")
CLAUSE_MARKS = ",;:"  # what ends a clause in English (once a space follows) ...
CLAUSE_MARKS_ZH = "，；：、"  # ... and in Chinese (at once)
_CLAUSE = re.compile(f"[{CLAUSE_MARKS}]\\s+|[{CLAUSE_MARKS_ZH}]\\s*")


class SentenceSplitter:
    def __init__(self, first_clause: bool = True) -> None:
        self._first_clause = first_clause
        self._buf = ""
        self._released = 0

    def feed(self, text: str) -> list[str]:
        """Add streamed text; return the sentences completed by it."""
        self._buf += text
        out: list[str] = []
        while True:
            m = _END.search(self._buf)
            if self._first_clause and self._released == 0:
                # The first clause alone, if it ends before the first sentence does.
                clause = _CLAUSE.search(self._buf)
                if clause is not None and (m is None or clause.start() < m.start()):
                    m = clause
            if m is None:
                return out
            piece, self._buf = self._buf[: m.end()].strip(), self._buf[m.end() :]
            if piece:
                out.append(piece)
                self._released += 1

    @property
    def pending(self) -> str:
        """The text fed that no sentence or clause has taken yet."""
        return self._buf

    def flush(self) -> list[str]:
        """The unterminated rest, at the end of the reply."""
        piece, self._buf = self._buf.strip(), ""
        return [piece] if piece else []


def first_clause_apart(sentence: str) -> list[str]:
    """A reply's first sentence with its first clause apart ("Yes," + "we open at nine."): the clause is
    often one of the voice's cached openers and plays at once while the rest is synthesised."""
    s = SentenceSplitter(first_clause=True)
    return s.feed(sentence) + s.flush()


def split(text: str) -> list[str]:
    s = SentenceSplitter(first_clause=False)
    return s.feed(text) + s.flush()
