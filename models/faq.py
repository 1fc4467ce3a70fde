"""A site's FAQ: a YAML list of entries, each with the ways a visitor may ask and the answer to speak."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError


class FaqError(ValueError):
    """An FAQ file that cannot be used; the message names the file, the entry and the reason."""


class FaqEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    questions: list[str] = Field(min_length=1)
    answer: str = Field(min_length=1)


_ENTRIES = TypeAdapter(list[FaqEntry])


def load_faq(path: Path) -> list[FaqEntry]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FaqError(f"FAQ {path}: no such file") from None
    except yaml.YAMLError as exc:
        raise FaqError(f"FAQ {path}: not valid YAML: {exc}") from None
    try:
        entries = _ENTRIES.validate_python(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise FaqError(f"FAQ {path}: entry {where}: {err['msg']}") from None
    if not entries:
        raise FaqError(f"FAQ {path}: no entries")
    return entries
