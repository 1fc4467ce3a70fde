"""A user's GGUF keeps working: one that carries a chat template is prompted through it, one without
(the embedded Gemma base model) as a plain transcript. The instruct stand-in is the embedded GGUF with
a chat template written into its metadata, made here with gguf's own tool."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from pathlib import Path

import pytest

from daemon.config import load, resolve
from models.llm_llama import LlamaLlm
from models.llm_prompt import ReplyCut, messages
from models.prepare import gemma_path

TEMPLATE = ("{% for m in messages %}<start_of_turn>{{ 'model' if m['role'] == 'assistant' else 'user' }}\n"
            "{{ m['content'] }}<end_of_turn>\n{% endfor %}<start_of_turn>model\n")


@pytest.fixture(scope="module")
def instruct_gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gguf") / "with-template.gguf"
    subprocess.run([sys.executable, "-m", "gguf.scripts.gguf_new_metadata", "--chat-template", TEMPLATE,
                    str(gemma_path()), str(out)], check=True, capture_output=True, timeout=120)
    return out


def _chat(question: str = "When are you open?") -> list[dict[str, str]]:
    persona = resolve(load().brain.persona).read_text(encoding="utf-8")
    return messages(persona, ["We are open Monday to Friday from nine until five."], question, [0])


def test_a_gguf_with_a_chat_template_is_prompted_through_it(instruct_gguf: Path) -> None:
    llm = LlamaLlm(instruct_gguf, 512, 1)
    assert llm.chat
    assert llm.warm(_chat()) is False
    with contextlib.suppress(ReplyCut):  # a base model in an instruct costume may say anything, or nothing
        "".join(llm.stream(_chat(), max_tokens=8, temperature=0.0))
    prompt = llm._llm.detokenize(llm._llm.input_ids[: llm._llm.n_tokens].tolist(), special=True).decode(errors="replace")
    assert "<start_of_turn>user" in prompt and "Visitor:" not in prompt


def test_a_base_model_gets_a_transcript_and_the_token_limit_is_reported() -> None:
    llm = LlamaLlm(gemma_path(), 512, 1)
    assert not llm.chat
    pieces: list[str] = []
    with pytest.raises(ReplyCut, match="limit of 2 tokens"):
        for piece in llm.stream(_chat(), max_tokens=2, temperature=0.0):
            pieces.append(piece)
    prompt = llm._llm.detokenize(llm._llm.input_ids[: llm._llm.n_tokens].tolist()).decode(errors="replace")
    assert "Visitor: When are you open?" in prompt and "<start_of_turn>" not in prompt and pieces


@pytest.mark.parametrize("chat_template", [False, True])
def test_a_prefilled_prompt_is_not_evaluated_again(chat_template: bool, request: pytest.FixtureRequest) -> None:
    """What the brain evaluates for a speculative transcript is what the final one's reply starts from:
    its first token is sampled without one prompt token decoded; a different question reuses the facts."""
    path = request.getfixturevalue("instruct_gguf") if chat_template else gemma_path()
    llm = LlamaLlm(path, 512, 1)
    llm.warm(_chat())
    decoded: list[int] = []
    evaluate = llm._llm.eval
    llm._llm.eval = lambda tokens: (decoded.append(len(tokens)), evaluate(tokens))[1]  # type: ignore[method-assign]

    def decoded_before_the_first_piece(chat: list[dict[str, str]]) -> int:
        decoded.clear()
        with contextlib.suppress(ReplyCut):
            next(iter(llm.stream(chat, max_tokens=4, temperature=0.0)), None)
        return sum(decoded)

    llm.prefill(_chat("Are you open on Saturday afternoon?"))
    assert decoded_before_the_first_piece(_chat("Are you open on Saturday afternoon?")) == 0
    assert 0 < decoded_before_the_first_piece(_chat("Is there parking?")) < 20  # the system message stays evaluated
