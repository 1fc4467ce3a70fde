"""One decision per question: the FAQ's answer, a grounded LLM answer, small talk, or the referral line.

Retrieval scores alone cannot say "I don't know": e5 similarities are compressed, so an unrelated
question scores ~0.88 against its nearest FAQ question. The router therefore scores the question
against labelled examples of every outcome in one index (the FAQ's question variants, small-talk
phrases, and off-topic questions) and takes the nearest outcome, then asks for a margin:

1. an attempt to change or reveal the kiosk's instructions is refused before anything else;
2. small talk answers when its phrase is the nearest example and is close enough;
3. the FAQ answers when its entry is nearest, close enough and clearly ahead of the runner-up entry;
4. a question nearer to an off-topic example than to any FAQ entry gets the referral line;
5. what is still near the FAQ (but not one entry) goes to the LLM, grounded in the nearest entries,
   unless it names a topic the LLM never answers (rates, fees, accounts): that topic's answer (such a
   question needs a closer FAQ match, `faq_guarded`, for the FAQ to answer it in step 3);
6. everything else gets the referral line.

A short follow-up ("and on Sunday?") is routed together with the question before it, when alone it
would not reach the FAQ. Thresholds live in the config (brain.routing) and are calibrated with
`python -m bench.routing_bench` on the tuning half of tests/data/routing_questions.yaml.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from enum import StrEnum

from models.disk_cache import DiskCache
from models.faq import Dialogue, FaqEntry
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
# A short question that leans on the one before: "for how long?", "do I need a password for it?"
_REFERS_BACK = re.compile(r"^(?=(?:\S+\s+){0,6}\S+\s*$).*(\b(it|that|this|there|they|them|those|one|long|much)\b|^\W*\w+\W*$)",
                          re.IGNORECASE)
_FILLERS = re.compile(r"\b(um+|uh+|erm+|er|hmm+|mm+)\b[,.]?\s*", re.IGNORECASE)


class Route(StrEnum):
    FAQ = "faq"
    LLM = "llm"
    SMALLTALK = "smalltalk"
    REFERRAL = "referral"


@dataclass(frozen=True)
class Thresholds:
    faq: float = 0.86  # nearest FAQ question at least this similar ...
    faq_margin: float = 0.0  # ... and this far ahead of the runner-up entry
    smalltalk: float = 0.86
    llm: float = 0.84  # below this, nothing in the FAQ is related: referral
    offtopic_margin: float = -0.02  # an off-topic example this far ahead of the FAQ wins
    faq_guarded: float = 0.9  # a question naming a topic the LLM never answers needs this for the FAQ


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
        joined: Decision | None = None
        if previous and _FOLLOW_UP.search(text):  # "and on Sunday?" means nothing alone
            joined = self._decide(f"{previous.strip()} {text}")
            if joined.route in (Route.FAQ, Route.LLM):
                return replace(joined, follow_up=True)
        alone = self._decide(text)
        if previous and alone.route in (Route.REFERRAL, Route.LLM) and _REFERS_BACK.search(text):
            joined = joined or self._decide(f"{previous.strip()} {text}")
            if joined.route is Route.FAQ:
                return replace(joined, follow_up=True)
        return alone

    def _decide(self, text: str) -> Decision:
        if _OVERRIDE.search(text):
            return self._referral("asks to change or reveal the instructions", 0.0, text)
        ranked = self.index.rank(text)
        faq = [m for m in ranked if m.label.startswith("faq:")]
        best = ranked[0]
        top, runner_up = faq[0], faq[1] if len(faq) > 1 else None
        nearest = [int(m.label[4:]) for m in faq[:3]]
        if best.label.startswith("smalltalk:") and best.score >= self.t.smalltalk:
            intent = self.dialogue.smalltalk[int(best.label.split(":")[1])]
            return Decision(Route.SMALLTALK, intent.answer, reason=f"small talk ({intent.id})", score=best.score,
                            question=text)
        margin = top.score - runner_up.score if runner_up else 1.0
        offtopic = next((m.score for m in ranked if m.label == "offtopic"), 0.0)
        guard = next((g for pattern, g in self._guards if pattern.search(text)), None)
        if top.score >= self.t.faq and margin >= self.t.faq_margin and top.score > offtopic and (
                guard is None or top.score >= self.t.faq_guarded):
            entry = nearest[0]
            return Decision(Route.FAQ, self.faq[entry].answer, entry, nearest, f"FAQ entry {entry}", top.score, text)
        if offtopic - top.score > self.t.offtopic_margin:
            return self._referral(f"off-topic (nearest example {offtopic:.3f})", top.score, text)
        if top.score >= self.t.llm:
            if guard is not None:
                return Decision(Route.REFERRAL, guard.answer, None, nearest, f"never for the LLM: {guard.topic}",
                                top.score, text)
            return Decision(Route.LLM, None, None, nearest, "related to the FAQ", top.score, text)
        return self._referral("nothing related in the FAQ", top.score, text)

    def _referral(self, reason: str, score: float, text: str) -> Decision:
        return Decision(Route.REFERRAL, self.dialogue.referral, reason=reason, score=score, question=text)
