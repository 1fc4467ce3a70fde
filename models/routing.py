"""One decision per question: the FAQ's answer, a grounded LLM answer, small talk, or the referral line.

Retrieval scores alone cannot say "I don't know": e5 similarities are compressed, so an unrelated
question scores ~0.88 against its nearest FAQ question. The router therefore scores the question
against labelled examples of every outcome in one index (the FAQ's question variants, small-talk
phrases, and off-topic questions: everyday questions, the same words about somebody else's business, and
the branch's business that the FAQ does not answer) and takes the nearest outcome, then asks for a
margin. An FAQ entry or small-talk intent scores the mean of its two closest examples (one lucky
variant is not enough); off-topic questions are all different, so the closest one counts:

1. an attempt to change or reveal the kiosk's instructions is refused before anything else;
2. small talk answers when its phrase is the nearest example and is close enough;
3. the FAQ answers when its entry is nearest, close enough and clearly ahead of the runner-up entry;
4. a question nearer to an off-topic example than to any FAQ entry gets the referral line;
5. what is still near the FAQ (but not one entry) goes to the LLM, grounded in the nearest entries,
   unless it names a topic the LLM never answers (rates, fees, accounts): that topic's answer (such a
   question needs a closer FAQ match, `faq_guarded`, for the FAQ to answer it in step 3);
6. everything else gets the referral line.

A follow-up ("and on Sunday?") is routed together with the question before it when it starts like one,
or when it is short and together the two reach an FAQ entry that alone it does not, or a nearer one.
Thresholds live in the config (brain.routing) and are calibrated with `python -m bench.routing_bench
--calibrate` on the tuning halves of the labelled sets in tests/data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from enum import StrEnum

from models.disk_cache import DiskCache
from models.faq import Dialogue, FaqEntry, GuardedTopic
from models.retrieval_e5 import ExampleIndex

# Attempts to override or extract the instructions: generic English, no site says otherwise.
_OVERRIDE = re.compile(
    r"\b(ignore|disregard|forget|override|bypass)\b.{0,40}\b(instructions?|rules|prompt|above|previous|guidelines|"
    r"programming|everything)\b"
    r"|\b(pretend|imagine)\b.{0,20}\b(you are|you're|to be)\b"
    r"|\b(you are|you're) now\b|\bact as\b|\brole ?play\b|\bjailbreak|\bdeveloper mode\b|\bdan\b"
    r"|\b(system|initial|original|hidden|secret) (prompt|instructions?|message)\b"
    r"|\byour (prompt|instructions|rules|programming|guidelines)\b"
    r"|\b(repeat|print|show|reveal|recite|output)\b.{0,30}\b(above|prompt|instructions?|told|words before)\b"
    r"|\bwhat were you (told|instructed|programmed)\b|\bfrom now on\b",
    re.IGNORECASE,
)
_FOLLOW_UP = re.compile(r"^\s*(and|but|also|so|then|or|what about|how about|what if|same)\b", re.IGNORECASE)
# A short question may lean on the one before: "for how long?", "do I need to book?", "what's the rate?"
_SHORT = re.compile(r"^\W*(\w+\W+){0,5}\w+\W*$")
_FILLERS = re.compile(r"\b(um+|uh+|erm+|er|hmm+|mm+)\b[,.]?\s*", re.IGNORECASE)


class Route(StrEnum):
    FAQ = "faq"
    LLM = "llm"
    SMALLTALK = "smalltalk"
    REFERRAL = "referral"


@dataclass(frozen=True)
class Thresholds:
    faq: float = 0.87  # nearest FAQ entry at least this similar ...
    faq_margin: float = 0.01  # ... and this far ahead of the runner-up entry
    smalltalk: float = 0.86
    llm: float = 0.8  # below this, nothing in the FAQ is related: referral
    offtopic_margin: float = -0.02  # an off-topic example this far ahead of the FAQ wins
    faq_guarded: float = 0.92  # a question naming a topic the LLM never answers needs this for the FAQ


@dataclass(frozen=True)
class Scores:
    text: str
    override: bool  # tries to change or reveal the instructions
    nearest: list[int]  # FAQ entries, nearest first
    faq: float  # the nearest entry's score (the mean of its two closest examples)
    runner_up: float  # the next entry's
    smalltalk: int | None  # the small-talk intent, when one is the nearest of all labels
    best: float  # the nearest label's score
    offtopic: float  # the nearest off-topic example's
    guard: GuardedTopic | None  # a topic the LLM never answers, named in the text


@dataclass(frozen=True)
class Decision:
    route: Route
    answer: str | None = None  # what to speak (all routes but LLM)
    entry: int | None = None  # the FAQ entry answered
    nearest: list[int] = field(default_factory=list)  # FAQ entries to ground an LLM answer in, nearest first
    reason: str = ""
    score: float = 0.0
    question: str = ""  # what was routed (a follow-up joined to the question before it)
    follow_up: bool = False  # understood only with the question before it


class Router:
    def __init__(self, faq: list[FaqEntry], dialogue: Dialogue, thresholds: Thresholds = Thresholds(),
                 cache: DiskCache | None = None) -> None:
        self.faq = faq
        self.dialogue = dialogue
        self.t = thresholds
        examples = [(f"faq:{i}", q) for i, e in enumerate(faq) for q in e.questions]
        examples += [(f"smalltalk:{k}", q) for k, intent in enumerate(dialogue.smalltalk) for q in intent.questions]
        examples += [("offtopic", q) for q in dialogue.offtopic]
        self.index = ExampleIndex(examples, cache=cache)
        self._guards = [(re.compile(r"\b(" + "|".join(re.escape(w) for w in g.words) + r")\b", re.IGNORECASE), g)
                        for g in dialogue.never_llm]

    def route(self, question: str, previous: str | None = None) -> Decision:
        text = _FILLERS.sub("", question).strip() or question.strip()
        together = f"{previous.strip()} {text}" if previous else ""
        joined: Decision | None = None
        if previous and _FOLLOW_UP.search(text):  # "and on Sunday?" means nothing alone
            joined = self._decide(together)
            if joined.route in (Route.FAQ, Route.LLM):
                return replace(joined, follow_up=True)
        alone = self._decide(text)
        if previous and alone.route is not Route.SMALLTALK and _SHORT.search(text):
            joined = joined or self._decide(together)
            # Joined, a short question may find its entry where alone it found none, or a nearer one ("what's
            # the rate?" after a loan question is the loan's rate, not the savings rate it is nearest alone).
            if joined.route is Route.FAQ and (alone.route is not Route.FAQ or joined.score > alone.score):
                return replace(joined, follow_up=True)
        return alone

    def _decide(self, text: str) -> Decision:
        return self.choose(self.scores(text))

    def scores(self, text: str) -> Scores:
        """What the index says of `text`; everything a decision needs, none of the thresholds."""
        override = bool(_OVERRIDE.search(text))
        ranked = self.index.rank(text, top=2, single=frozenset({"offtopic"}))
        faq = [m for m in ranked if m.label.startswith("faq:")]
        best = ranked[0]
        return Scores(
            text=text, override=override,
            nearest=[int(m.label[4:]) for m in faq[:3]],
            faq=faq[0].score, runner_up=faq[1].score if len(faq) > 1 else 0.0,
            smalltalk=int(best.label.split(":")[1]) if best.label.startswith("smalltalk:") else None,
            best=best.score,
            offtopic=next((m.score for m in ranked if m.label == "offtopic"), 0.0),
            guard=next((g for pattern, g in self._guards if pattern.search(text)), None),
        )

    def choose(self, s: Scores) -> Decision:
        """The decision the thresholds make of `s` (pure: calibration calls it for every grid point)."""
        t, text = self.t, s.text
        if s.override:
            return self._referral("asks to change or reveal the instructions", 0.0, text)
        if s.smalltalk is not None and s.best >= t.smalltalk:
            intent = self.dialogue.smalltalk[s.smalltalk]
            return Decision(Route.SMALLTALK, intent.answer, reason=f"small talk ({intent.id})", score=s.best,
                            question=text)
        if s.faq >= t.faq and s.faq - s.runner_up >= t.faq_margin and s.faq > s.offtopic and (
                s.guard is None or s.faq >= t.faq_guarded):
            entry = s.nearest[0]
            return Decision(Route.FAQ, self.faq[entry].answer, entry, s.nearest, f"FAQ entry {entry}", s.faq, text)
        if s.offtopic - s.faq > t.offtopic_margin:
            return self._referral(f"off-topic (nearest example {s.offtopic:.3f})", s.faq, text)
        if s.faq >= t.llm:
            if s.guard is not None:
                return Decision(Route.REFERRAL, s.guard.answer, None, s.nearest, f"never for the LLM: {s.guard.topic}",
                                s.faq, text)
            return Decision(Route.LLM, None, None, s.nearest, "related to the FAQ", s.faq, text)
        return self._referral("nothing related in the FAQ", s.faq, text)

    def _referral(self, reason: str, score: float, text: str) -> Decision:
        return Decision(Route.REFERRAL, self.dialogue.referral, reason=reason, score=score, question=text)
