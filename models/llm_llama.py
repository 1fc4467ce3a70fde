"""Quantised LLM through llama-cpp-python, prompted completion-style and grounded in FAQ facts.

The embedded Gemma 3 270M is a base model with no chat template, so the prompt is a plain document:
persona, the most relevant FAQ facts, then the visitor's question and an open answer line. The
persona comes first and never changes, so llama.cpp reuses its evaluated prefix between turns; `warm`
evaluates it at start-up, or restores it from the disk cache (the KV state is ~1.5 MB, restored in
milliseconds instead of ~0.5-2 s of prompt evaluation on two cores).
"""

from __future__ import annotations

import ctypes
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from models.disk_cache import DiskCache, file_key
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

        self._key = f"{file_key(path)}|n_ctx={context}"
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

    def warm(self, prompt: str, cache: DiskCache | None = None) -> bool:
        """Evaluate `prompt` (one that starts like every real prompt) so later prompts decode only what
        differs; restored from `cache` when it holds this model's state for it. True when restored."""
        import llama_cpp

        key = f"{self._key}|llama-cpp-python {llama_cpp.__version__}|{prompt}"
        entry = cache.get(key) if cache is not None else None
        if entry is not None and self._restore(entry["state"], entry["tokens"]):
            return True
        for _ in self.stream(prompt, max_tokens=1, temperature=0.0):
            pass
        if cache is not None:
            cache.put(key, self._snapshot())
        return False

    def _snapshot(self) -> dict[str, np.ndarray]:
        import llama_cpp

        size = llama_cpp.llama_state_get_size(self._llm.ctx)
        buf = (ctypes.c_uint8 * size)()
        used = llama_cpp.llama_state_get_data(self._llm.ctx, buf, size)
        return {"state": np.frombuffer(buf, np.uint8, used).copy(),
                "tokens": np.array(self._llm.input_ids[: self._llm.n_tokens], np.intc)}

    def _restore(self, state: np.ndarray, tokens: np.ndarray) -> bool:
        import llama_cpp

        buf = (ctypes.c_uint8 * len(state)).from_buffer_copy(state.tobytes())
        if llama_cpp.llama_state_set_data(self._llm.ctx, buf, len(state)) != len(state):
            return False
        # What llama-cpp-python's own load_state sets, minus the logits it keeps (not needed: the next
        # prompt always decodes at least one token, which refreshes them).
        self._llm.input_ids[: len(tokens)] = tokens
        self._llm.n_tokens = len(tokens)
        return True
