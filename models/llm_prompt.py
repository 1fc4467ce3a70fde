"""The grounded conversation an LLM is asked to continue, as chat messages or as a plain document.

The system message (persona, the rules, and every FAQ answer as a numbered fact) is the same for every
question of a site, so llama.cpp evaluates it once (at start-up, or restored from the disk cache) and
a question costs only its own tokens: prompt evaluation on two cores is slow enough that three facts
evaluated per question would cost more than the whole reply. The nearest facts are named
in the user message, which keeps a small model on the right entry.

Instruct models get the messages through their own chat template; base models (no template) get the
same content as a document ending on an open answer line.
"""

from __future__ import annotations

from dataclasses import dataclass

RULES = (
    "Answer in one or two short sentences, using only the facts below. "
    "Never give a number, price, rate, time or day that is not in the facts. "
    "If the facts do not answer the question, say that the service desk can help."
)
# A question asked in Chinese carries its nearest facts in Chinese, and this: the system message stays the
# same for both languages, so its evaluation is cached once.
IN_CHINESE = "请只用上面的事实，用一两句中文简短回答。"
# Lines of the prompt's own scaffolding: a reply that repeats them is a leak (models/reply_check.py).
SCAFFOLD = [RULES, "Facts:", "Relevant facts:", "Visitor:", "Assistant:", IN_CHINESE]
STOP = ["\n", "Visitor:", "Question:", "Assistant:"]


class ReplyCut(Exception):
    """The reply stopped before its end (the token limit, a server gone mid-answer): its unfinished last
    sentence must not be spoken; what was complete before it stands."""


@dataclass(frozen=True)
class Exchange:
    question: str
    answer: str


def system_message(persona: str, facts: list[str]) -> str:
    lines = [persona.strip(), RULES, "", "Facts:"] + [f"{i + 1}. {f}" for i, f in enumerate(facts)]
    return "\n".join(lines)


def user_message(question: str, nearest: list[int], chinese: list[str] | None = None) -> str:
    hint = ", ".join(str(i + 1) for i in nearest)
    text = f"{question.strip()}\n(Relevant facts: {hint})" if nearest else question.strip()
    return "\n".join([text, *chinese, IN_CHINESE]) if chinese else text


def messages(persona: str, facts: list[str], question: str, nearest: list[int],
             chinese: list[str] | None = None) -> list[dict[str, str]]:
    """The chat for one question: the system message (the same for every question) and the question; for a
    question in Chinese, `chinese` holds its nearest facts in Chinese."""
    return [{"role": "system", "content": system_message(persona, facts)},
            {"role": "user", "content": user_message(question, nearest, chinese)}]


def document(chat: list[dict[str, str]]) -> str:
    """The same conversation for a base model: a transcript that ends on an open answer line."""
    lines = [chat[0]["content"], ""]
    for m in chat[1:]:
        lines.append(f"{'Visitor' if m['role'] == 'user' else 'Assistant'}: {m['content']}")
    lines.append("Assistant:")
    return "\n".join(lines)
