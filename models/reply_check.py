"""The check every LLM reply passes before it is spoken.

A small model grounded in FAQ facts still invents ("Yes, you can bring your dog", "10.5%"), reads out
its instructions, or gives the visitor's words back. A bank may speak none of that, so a reply is
spoken only when:

- every figure in it (number, amount, percentage, time, day, month, "free") is among the figures of
  the FAQ facts it was given: numbers are compared as values, whether written "5.9%", "five point nine
  percent" or "nine thirty" (text2num reads the words);
- none of its sentences repeats five words in a row of the persona or of the prompt's own lines;
- it is not empty, does not give the question back, and does not speak as the visitor ("I have a
  personal loan", "I can take out money": a base model continuing the transcript);
- it says something, and most of it is found in the facts: it has content words (not "yes",
  "please", "desk"; a bare "Yes." confirms whatever was asked), and at least half of them are words
  of the facts. The question's words do not count: "Yes, you can rent a
  safe deposit box" borrows every word from the question and states a service the bank never named.

`ReplyChecker.check` says why a reply fails; the brain speaks the referral line instead. While a sentence
is still being written, `doomed` says when its opening already fails in a way more words cannot undo,
so the visitor hears that line without waiting for the model to finish a sentence that cannot be said.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import chain

from text_to_num import alpha2digit

from models import reply_words_zh as zh
from models.language import written_in
from models.sentences import CLAUSE_MARKS, CLAUSE_MARKS_ZH, SentenceSplitter, first_clause_apart

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?(?:[.:/][0-9]+)*")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
# A base model continues the transcript as the visitor would: "I have a personal loan.", "I can take out
# money." The kiosk speaks as the bank ("we", "you"); its own "I" is only polite ("I'm sorry", "I can help").
_AS_THE_VISITOR = re.compile(r"(i|i'm|i've|i'd|my)\b", re.IGNORECASE)
_AS_THE_KIOSK = re.compile(r"(i'm|i am) (sorry|afraid|glad|happy)|i( can| will|'ll) help|i('d| would) be (glad|happy)",
                           re.IGNORECASE)
_DAYS = {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "weekend", "weekends",
         "weekday", "weekdays", "today", "tonight", "tomorrow", "yesterday", "holiday", "holidays"}
_MONTHS = {"january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december"}
# Words that state an amount or a time as surely as a number does.
_FIGURE_WORDS = _DAYS | (_MONTHS - {"may", "march"}) | {"free", "half", "quarter", "noon", "midnight", "dozen"}
# A number with one of these after it is a quantity of that unit: "two hours" is not confirmed by "two cash
# machines". (Times of day, "at nine" or "9 am", are compared as plain numbers.)
_QUANTITY = {"%": "percent", "per": "percent", "percent": "percent", "pound": "pound", "pounds": "pound",
             "dollar": "dollar", "dollars": "dollar", "euro": "euro", "euros": "euro", "cent": "cent", "cents": "cent",
             "hour": "hour", "hours": "hour", "minute": "minute", "minutes": "minute", "day": "day", "days": "day",
             "week": "week", "weeks": "week", "month": "month", "months": "month", "year": "year", "years": "year"}
_SYMBOLS = {"$": "dollar", "£": "pound", "€": "euro"}
# "one" and "first" are a figure only beside a unit or a time word ("one percent", "until one", "first
# floor"); elsewhere they are ordinary words ("one moment", "first, choose ...").
_UNITS = set(_QUANTITY) | {"o'clock", "am", "pm", "floor", "time", "times"}
_TIME_WORDS = {"at", "until", "till", "from", "to", "before", "after", "by"} | set(_SYMBOLS)
_STOPWORDS = frozenset([
    "a", "an", "the", "and", "or", "but", "if", "so", "of", "to", "in", "on", "at", "by", "for", "from", "with",
    "without", "about", "into", "over", "under", "up", "down", "out", "off", "is", "are", "was", "were", "be", "been",
    "being", "am", "do", "does", "did", "have", "has", "had", "will", "would", "can", "could", "shall", "should",
    "may", "might", "must", "i", "you", "he", "she", "it", "we", "they", "me", "him", "her", "us", "them", "my",
    "your", "his", "its", "our", "their", "this", "that", "these", "those", "there", "here", "what", "which", "who",
    "whom", "whose", "when", "where", "why", "how", "not", "no", "nor", "yes", "as", "than", "then", "too", "very",
    "just", "also", "only", "any", "some", "all", "each", "every", "more", "most", "much", "many", "such", "own",
    "same", "other", "both", "few", "again", "once", "please", "thank", "thanks", "sorry", "sure", "certainly",
    "well", "course", "of", "okay", "ok", "oh", "hello", "hi", "let", "me", "help", "glad", "happy", "ask", "get",
    "go", "come", "see", "like", "want", "need", "know", "tell", "right", "away", "one", "just", "really", "here's",
    "there's", "it's", "i'm", "you're", "we're", "that's", "don't", "can't", "won't", "i'll", "you'll", "we'll",
    "service", "desk", "staff", "member", "members", "visitor",
])
_CLAUSE_ENDS = CLAUSE_MARKS + CLAUSE_MARKS_ZH  # what ends a first clause, in English and in Chinese
_PERSONA_RUN = 5  # words in a row shared with the persona or prompt that make a sentence a leak
_LAST_RUN = re.compile(r"\S+$")  # what follows the last space may still be being written ("9:" of "9:30")
_KIOSK_OPENING = 4  # words of an unfinished sentence that decide whether it speaks as the kiosk ("i'd be glad to")


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str = ""


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("’", "'"))


def figures(text: str) -> set[str]:
    """The figures a text states, in one canonical form: numbers as values ("5.9", "9", "30"), day and
    month names, and the words that fix an amount or a time ("free", "noon")."""
    spelled = alpha2digit(text.lower().replace("’", "'").replace("-", " "), "en", threshold=0)
    spelled = re.sub(r"(\d)\s*%", r"\1 %", spelled)
    spelled = re.sub(r"([$£€])\s*(\d)", r"\1 \2", spelled)
    tokens = re.findall(r"[a-z']+|\d+(?:[.,:/]\d+)*(?:st|nd|rd|th)?|[%$£€]", spelled)
    out: set[str] = set()
    for i, tok in enumerate(tokens):
        if tok in _FIGURE_WORDS:
            out.add(tok)
            continue
        if not tok[0].isdigit():
            continue
        values = [_value(n) for n in _NUMBER.findall(tok.replace(":", " ").replace("/", " "))]
        ordinal = tok[-2:].isalpha()
        before, after = tokens[i - 1] if i else "", tokens[i + 1] if i + 1 < len(tokens) else ""
        if values == ["1"] and not _figure_context(before, after, ordinal):
            continue
        unit = _QUANTITY.get(after) or _SYMBOLS.get(before)
        out.update(values if not unit or ordinal else (f"{v} {unit}" for v in values))
    return out


def _confirmed_by(facts: set[str]) -> set[str]:
    """What the facts' figures confirm: each figure, and each quantity's number on its own too (facts that
    say "two cash machines" confirm "two", and "one hour" confirms "one hour" and "one")."""
    return facts | {f.split(" ")[0] for f in facts}


def _value(number: str) -> str:
    number = number.replace(",", "") if re.fullmatch(r"\d{1,3}(,\d{3})+", number) else number.replace(",", ".")
    if "." in number:
        number = number.rstrip("0").rstrip(".")
    return str(int(number)) if number.isdigit() else number


def _figure_context(before: str, after: str, ordinal: bool) -> bool:
    if ordinal:
        return after in {"floor", "of"} | _MONTHS
    return after in _UNITS or before in _TIME_WORDS


def _runs(words: list[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def _content(words: Iterable[str]) -> set[str]:
    return {_stem(w) for w in words if w not in _STOPWORDS and not w[0].isdigit() and len(w) > 2}


def _stem(word: str) -> str:
    """Crude suffix folding, enough to match "machines"/"machine", "opened"/"open", "bringing"/"bring"."""
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


class ReplyChecker:
    """Checks replies against one persona and prompt template; built once per brain."""

    def __init__(self, persona: str, prompt_lines: Iterable[str] = ()) -> None:
        self._leaks = _runs(_words(persona), _PERSONA_RUN)
        self._leaks_zh = _runs(zh.tokens(persona), _PERSONA_RUN)
        for line in prompt_lines:
            self._leaks |= _runs(_words(line), min(_PERSONA_RUN, max(2, len(_words(line)))))
            self._leaks_zh |= _runs(zh.tokens(line), min(_PERSONA_RUN, max(2, len(zh.tokens(line)))))

    def check(self, reply: str, facts: Iterable[str], question: str, strict: bool = False,
              language: str = "en") -> Verdict:
        """Why `reply` may not be spoken, or ok. `strict`: every content word must be a word of the facts
        (for a first clause spoken before its sentence is complete). A reply must be in `language`, the
        visitor's: the voice that says it is chosen by it."""
        if not re.search(r"\w", reply):
            return Verdict(False, "empty")
        if written_in(reply) != language:
            return Verdict(False, "not in the visitor's language")
        if language == "zh":
            return self._check_zh(reply, list(facts), question, strict)
        words = _words(reply)
        if not words:
            return Verdict(False, "empty")
        facts = list(facts)
        fact_text = " ".join(facts)
        invented = figures(reply) - _confirmed_by(figures(fact_text))
        if invented:
            return Verdict(False, f"figures not in the facts: {', '.join(sorted(invented))}")
        if reply.rstrip().endswith("?"):
            # The visitor asked; a question back ("What is the name of the bank?") answers nothing.
            return Verdict(False, "asks instead of answering")
        for sentence in re.split(r"(?<=[.!?])\s+", reply.strip()):
            if reason := self._voice(sentence):
                return Verdict(False, reason)
        q = _words(question)
        if words == q or _echoes(words, q):
            return Verdict(False, "gives the question back")
        said = _content(words)
        grounded = _content(_words(fact_text))
        if not said:
            # A bare "Yes." to "Can I bring my dog?" confirms whatever was asked.
            return Verdict(False, "says nothing of the facts")
        if len(said & grounded) * (1 if strict else 2) < len(said):
            return Verdict(False, f"not found in the facts: {', '.join(sorted(said - grounded))}")
        return Verdict(True)

    def _check_zh(self, reply: str, facts: list[str], question: str, strict: bool) -> Verdict:
        """`check` for a reply in Chinese: the same rules, read in character pairs and cn2an's figures."""
        toks = zh.tokens(reply)
        if not toks:
            return Verdict(False, "empty")
        fact_text = " ".join(facts)
        invented = zh.figures(reply) - zh.figures(fact_text)
        if invented:
            return Verdict(False, f"figures not in the facts: {', '.join(sorted(invented))}")
        if re.search(r"[?？]\s*$", reply):
            return Verdict(False, "asks instead of answering")
        for sentence in re.split(r"(?<=[。！？!?])", reply.strip()):
            if sentence and (reason := self._voice_zh(sentence)):
                return Verdict(False, reason)
        if _echoes(toks, zh.tokens(question)):
            return Verdict(False, "gives the question back")
        said, grounded = zh.content(toks), zh.content(zh.tokens(fact_text))
        if not said:
            return Verdict(False, "says nothing of the facts")
        if len(said & grounded) * (1 if strict else 2) < len(said):
            return Verdict(False, f"not found in the facts: {', '.join(sorted(said - grounded))}")
        return Verdict(True)

    def _voice_zh(self, sentence: str) -> str | None:
        st = zh.tokens(sentence)
        if any(run in self._leaks_zh for n in range(2, _PERSONA_RUN + 1) for run in _runs(st, n)):
            return "repeats the persona or the prompt"
        if zh.AS_THE_VISITOR.match(sentence.strip()) and not zh.AS_THE_KIOSK.match(sentence.strip()):
            return "speaks as the visitor"
        return None

    def doomed(self, unfinished: str, question: str) -> str | None:
        """Why a sentence still being written will fail `check` whatever its end, or None: so the visitor
        hears the referral line as soon as that is known, not after the model has written the rest. Only
        what more words cannot undo counts: a run of the persona or the question (its last, maybe unfinished
        word left out), and speaking as the visitor once the opening is long enough to tell "I have ..."
        from the kiosk's "I'm sorry" or "I'd be glad"."""
        # The text after the last space may be a word or number still being written ("9:" of "9:30").
        complete = _LAST_RUN.sub("", unfinished)
        words = _words(complete)
        if len(words) < _KIOSK_OPENING:
            return None
        return self._voice(complete) or ("gives the question back" if _echoes(words, _words(question)) else None)

    def _voice(self, sentence: str) -> str | None:
        """Why one sentence is not the kiosk speaking, or None."""
        sentence = sentence.replace("’", "'")
        sw = _words(sentence)
        if any(run in self._leaks for n in range(2, _PERSONA_RUN + 1) for run in _runs(sw, n)):
            return "repeats the persona or the prompt"
        if _AS_THE_VISITOR.match(sentence) and not _AS_THE_KIOSK.match(sentence):
            return "speaks as the visitor"
        return None


def _echoes(words: list[str], question: list[str]) -> bool:
    """The reply repeats five words in a row of the question (all of a shorter one of three or more)."""
    n = min(len(question), 5)
    return len(question) >= 3 and bool(_runs(question, n) & _runs(words, n))


def checked_sentences(pieces: Iterable[str], checker: ReplyChecker, facts: list[str], question: str,
                      rejected: Callable[[str], None], language: str = "en") -> Iterator[str]:
    """A streamed reply as speakable pieces, each checked before it is released; the reply ends at the first
    sentence that fails (its reason goes to `rejected`).

    The visitor waits for the first piece, so the first sentence's first clause ("Customers can park
    free for one hour,") is released on its own when it passes the check strictly: it states something
    and every content word of it is in the facts. Otherwise it waits for its whole sentence: a "Yes,"
    whose sentence then fails would be a false yes. Later pieces are whole sentences. Every piece must be
    in `language`, the visitor's."""
    splitter = SentenceSplitter(first_clause=True)
    space = "" if language == "zh" else " "  # between a held clause and the rest of its sentence
    held = ""  # a first clause not spoken alone: it is checked with the rest of its sentence
    first = True
    for piece in chain(pieces, [None]):  # None: the end of the reply
        for part in splitter.flush() if piece is None else splitter.feed(piece):
            if first and part[-1] in _CLAUSE_ENDS and not held:
                if checker.check(part, facts, question, strict=True, language=language).ok:
                    first = False
                    yield part
                else:
                    held = part
                continue
            sentence = f"{held}{space}{part}" if held else part
            verdict = checker.check(sentence, facts, question, language=language)
            if not verdict.ok:
                rejected(verdict.reason)
                return
            yield from first_clause_apart(sentence) if held else [sentence]
            held, first = "", False
        if splitter.pending and (reason := checker.doomed(f"{held}{space}{splitter.pending}".strip(), question)):
            rejected(reason)
            return
    if held:  # the reply was one unfinished clause
        verdict = checker.check(held, facts, question, language=language)
        if not verdict.ok:
            rejected(verdict.reason)
            return
        yield held
