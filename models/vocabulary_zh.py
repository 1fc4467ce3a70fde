"""The site's own Chinese words put back where Whisper heard a homophone of them: "请问区款机在哪里" becomes
"请问取款机在哪里" for a bank whose FAQ says 取款机.

Mandarin has few syllables and many characters for each, so Whisper base often writes the right sounds with
the wrong characters, and most often in the words a site is about (取款机, 网银, 挂失). Giving it the FAQ's
words as a decoding prompt made its character error rate worse on real recordings (the prompt's phrases were
copied into transcripts that did not say them), so the bias is applied after decoding instead, where it can
only swap characters for others that sound the same. The site's words are the dictionary words jieba finds in
its texts (two characters or more; not the ones it guesses, such as 我想取). A heard run is written as the
site's word when its toneless pinyin is the word's, it shares a character with the word, and it is no word of
its own in jieba's dictionary (现今 stays 现今 for a site that says 现金) nor cuts through one (在加拿大 stays,
for a site that says 在家), and the rewrite makes the run clearly likelier Chinese by jieba's word frequencies
(问题出在哪 stays, for a site that says 存包处在哪里). A sound the site writes two ways is left alone.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import re
from collections.abc import Iterable
from pathlib import Path

import jieba
from pypinyin import lazy_pinyin

from models.language import HAN_RANGES

# In natural log: a rewrite must make the run about five times likelier. The homophones Whisper writes for a
# site's words scored 1.7-12 more than what was heard (one, 去哪不办 -> 补办, -0.5); rewrites of right text that
# passed the other checks, -0.3 to +1.0.
MARGIN = 1.5
_HAN_RUN = re.compile(f"[{HAN_RANGES}]+")
_HAN_WORD = re.compile(f"[{HAN_RANGES}]{{2,}}")
jieba.setLogLevel(logging.WARNING)  # it logs its dictionary's loading at INFO, on every start


class ChineseVocabulary:
    """The site's Chinese words, by their sound. `cache` is a folder for jieba's dictionary index (built in
    ~1 s, loaded from there in ~0.3 s); None keeps it in the temporary folder."""

    def __init__(self, texts: Iterable[str], cache: Path | None = None) -> None:
        self.by_sound: dict[tuple[str, ...], str] = {}
        self.tokenizer = jieba.Tokenizer()
        texts = [text for text in texts if _HAN_RUN.search(text)]
        if not texts:  # an English-only site: nothing to load
            return
        if cache is not None:
            with contextlib.suppress(OSError):  # no folder of its own: jieba keeps its index in the temporary one
                cache.mkdir(parents=True, exist_ok=True)
                self.tokenizer.tmp_dir = str(cache)
        spelled_twice: set[tuple[str, ...]] = set()
        for text in texts:
            for word in self.tokenizer.lcut(text, HMM=False):  # dictionary words: no guessed ones ("我想取")
                if _HAN_WORD.fullmatch(word):
                    key = tuple(lazy_pinyin(word))
                    if self.by_sound.setdefault(key, word) != word:
                        spelled_twice.add(key)
        for key in spelled_twice:
            del self.by_sound[key]
        self.longest = max((len(key) for key in self.by_sound), default=0)

    def correct(self, heard: str) -> str:
        """`heard` with each run that sounds like one of the site's words, shares a character with it, is no
        word of its own and reads likelier as the site's word, written as the site writes it."""
        return _HAN_RUN.sub(lambda m: self._correct_run(m.group()), heard) if self.by_sound else heard

    def _correct_run(self, run: str) -> str:
        sounds = lazy_pinyin(run)
        # Where the heard words begin and end: a run that cuts through one (加拿 of 加拿大) is not rewritten.
        bounds = set(itertools.accumulate(len(w) for w in self.tokenizer.lcut(run, HMM=False)))
        out, i = "", 0
        while i < len(run):
            for n in range(min(self.longest, len(run) - i), 1, -1):
                heard, word = run[i : i + n], self.by_sound.get(tuple(sounds[i : i + n]))
                # A run already written right is kept whole: no shorter, shifted run may rewrite part of it.
                if word == heard or (word is not None and self._misheard(heard, word) and {i, i + n} <= bounds | {0}
                                     and self._likelier(out + word + run[i + n :], out + run[i:])):
                    out += word
                    i += n
                    break
            else:
                out += run[i]
                i += 1
        return out

    def _misheard(self, heard: str, word: str) -> bool:
        """Whether `heard`, which sounds like the site's `word`, may be that word misheard: it shares a
        character with it and is no word of its own."""
        return any(a == b for a, b in zip(word, heard, strict=True)) and not self.tokenizer.FREQ.get(heard)

    def _likelier(self, rewritten: str, heard: str) -> bool:
        """Whether `rewritten` is clearly the likelier Chinese: its best segmentation into jieba's dictionary
        words is at least MARGIN more probable (log) than `heard`'s. 问题出在哪 does not become 问题处在哪 for a
        site that says 存包处在哪里 (-0.3), nor 我有书 我有数 (+1.0); 区款机 becomes 取款机 (+11.7)."""
        return self._log_probability(rewritten) - self._log_probability(heard) >= MARGIN

    def _log_probability(self, run: str) -> float:
        route: dict[int, tuple[float, int]] = {}
        self.tokenizer.calc(run, self.tokenizer.get_DAG(run), route)
        return route[0][0]
