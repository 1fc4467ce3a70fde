"""What a site knows and says: its FAQ, and its dialogue lines for everything the FAQ does not answer.

FAQ file: a YAML list of entries, each with an id, the ways a visitor may ask, and the answer to speak.
Dialogue file: the referral line, small-talk intents, off-topic examples, and the topics the LLM never
answers (see configs/dialogue/bank-lobby.yaml).

Every answer may carry its Chinese form beside it (`zh:`; the dialogue's referral line: `referral_zh:`).
A question heard in Chinese gets that form; where there is none, the answer as written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, ValidationError, model_validator

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class FaqError(ValueError):
    """An FAQ or dialogue file that cannot be used; the message names the file, the entry and the reason."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Answered(_Strict):
    answer: Text
    zh: Text | None = None  # the answer in Chinese

    def answer_in(self, language: str) -> str:
        return self.zh if language == "zh" and self.zh else self.answer

    def spoken_in(self, language: str) -> str:
        """The language `answer_in(language)` is written in: English where the site wrote no Chinese form."""
        return "zh" if language == "zh" and self.zh else "en"


class FaqEntry(_Answered):
    id: Text | None = None
    questions: list[Text] = Field(min_length=1)


class Intent(_Answered):
    id: Text
    questions: list[Text] = Field(min_length=1)


class GuardedTopic(_Answered):
    topic: Text
    words: list[Text] = Field(min_length=1)


class Dialogue(_Strict):
    referral: Text
    referral_zh: Text | None = None
    smalltalk: list[Intent] = []
    offtopic: list[Text] = []
    never_llm: list[GuardedTopic] = []

    def referral_in(self, language: str) -> str:
        return self.referral_zh if language == "zh" and self.referral_zh else self.referral

    def referral_spoken_in(self, language: str) -> str:
        return "zh" if language == "zh" and self.referral_zh else "en"

    @model_validator(mode="after")
    def _unique_intents(self) -> Dialogue:
        ids = [i.id for i in self.smalltalk]
        if len(ids) != len(set(ids)):
            raise ValueError(f"small-talk ids must be unique (got {ids})")
        return self


_ENTRIES = TypeAdapter(list[FaqEntry])
_DIALOGUE = TypeAdapter(Dialogue)
T = TypeVar("T")


def _load(path: Path, adapter: TypeAdapter[T], what: str) -> T:
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FaqError(f"{what} {path}: no such file") from None
    except yaml.YAMLError as exc:
        raise FaqError(f"{what} {path}: not valid YAML: {exc}") from None
    try:
        return adapter.validate_python(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        raise FaqError(f"{what} {path}: entry {where}: {err['msg']}") from None


def load_faq(path: Path) -> list[FaqEntry]:
    entries = _load(path, _ENTRIES, "FAQ")
    if not entries:
        raise FaqError(f"FAQ {path}: no entries")
    ids = [e.id for e in entries if e.id is not None]
    if len(ids) != len(set(ids)):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise FaqError(f"FAQ {path}: entry id {dup!r} is used twice")
    return entries


def load_dialogue(path: Path) -> Dialogue:
    return _load(path, _DIALOGUE, "dialogue")


def site_texts(faq: list[FaqEntry], dialogue: Dialogue) -> list[str]:
    """Every question and answer the site wrote, in both languages: its vocabulary."""
    answered: list[_Answered] = [*faq, *dialogue.smalltalk, *dialogue.never_llm]
    questions = [q for item in [*faq, *dialogue.smalltalk] for q in item.questions]
    answers = [text for item in answered for text in (item.answer, item.zh) if text]
    referrals = [text for text in (dialogue.referral, dialogue.referral_zh) if text]
    return [*questions, *answers, *referrals, *dialogue.offtopic]
