"""Quantised LLM through llama-cpp-python, prompted completion-style and grounded in FAQ facts.

The embedded Gemma 3 270M is a base model with no chat template, so the prompt is a plain document:
persona, the most relevant FAQ facts, then the visitor's question and an open answer line. The
persona comes first and never changes, so llama.cpp reuses its evaluated prefix between turns.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from models.registry import ModelError

STOP = ["\n", "Visitor:", "Question:"]


def grounded_prompt(persona: str, facts: list[str], question: str) -> str:
    lines = [persona.strip(), "", "Facts you may use:"]
    lines += [f"- {f}" for f in facts]
    lines += ["", f"Visitor: {question.strip()}", "Assistant:"]
    return "\n".join(lines)


class LlamaLlm:
    def __init__(self, path: Path, context: int, threads: int) -> None:
        from llama_cpp import Llama

        try:
            self._llm = Llama(model_path=str(path), n_ctx=context, n_threads=threads, n_batch=256, verbose=False)
        except ValueError as exc:  # llama-cpp-python reports unreadable GGUF files as ValueError
            raise ModelError(f"LLM {path}: cannot load ({exc})") from None

    def stream(self, prompt: str, max_tokens: int, temperature: float) -> Iterator[str]:
        """Text pieces of the completion as they are generated."""
        for part in self._llm(prompt, max_tokens=max_tokens, temperature=temperature, stop=STOP, stream=True):
            text = part["choices"][0]["text"]
            if text:
                yield text
