"""Does a transcript sound like a finished sentence, or like a visitor who paused mid-thought?

Whisper punctuates everything, so the punctuation alone proves little; a last word that cannot end an
English sentence ("and", "the", "um", "to") or a trailing ellipsis or comma means "not finished".
"""

from __future__ import annotations

import re

# Words a finished question or request does not end on: conjunctions, articles, prepositions, fillers.
OPEN_ENDINGS = frozenset({
    "a", "an", "the", "and", "or", "but", "so", "because", "if", "then", "that", "to", "of", "for", "with",
    "from", "at", "in", "on", "by", "about", "into", "my", "your", "our", "their", "his", "her", "its", "is",
    "are", "was", "were", "be", "can", "could", "would", "should", "will", "do", "does", "did", "have",
    "has", "had", "um", "uh", "er", "erm", "hmm", "like",
})
_WORD = re.compile(r"[a-z']+")


def sounds_finished(text: str) -> bool:
    stripped = text.strip()
    if not stripped or stripped.endswith(("...", "…", ",", "-", ";", ":")):
        return False
    words = _WORD.findall(stripped.lower())
    return bool(words) and words[-1] not in OPEN_ENDINGS
