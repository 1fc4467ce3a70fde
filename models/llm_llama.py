"""Quantised LLM through llama-cpp-python, given a grounded conversation (models/llm_prompt.py).

A GGUF that carries a chat template (instruct models) is prompted through it; one without (a base
model such as Gemma 3 270M) gets the conversation as a plain document. The system message comes
first and never changes, so llama.cpp reuses its evaluated prefix between turns; `warm` evaluates it
at start-up, or restores it from the disk cache (a few MB of KV state, restored in milliseconds
instead of seconds of prompt evaluation on two cores). `gpu_layers` offloads that many layers (-1: all) to
a GPU when llama-cpp-python was built with one (README "Accelerators").
"""

from __future__ import annotations

import contextlib
import ctypes
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from models.disk_cache import DiskCache, file_key
from models.llm_prompt import STOP, ReplyCut, document
from models.registry import ModelError

Chat = list[dict[str, str]]


class LlamaLlm:
    def __init__(self, path: Path, context: int, threads: int, gpu_layers: int = 0, verbose: bool = False) -> None:
        from llama_cpp import Llama

        # An offloaded model's evaluated state is kept apart from the CPU's (whose key is as it always was).
        self._key = f"{file_key(path)}|n_ctx={context}" + (f"|n_gpu_layers={gpu_layers}" if gpu_layers else "")
        try:
            self._llm = Llama(model_path=str(path), n_ctx=context, n_threads=threads, n_batch=256,
                              n_gpu_layers=gpu_layers, verbose=verbose)
        except ValueError as exc:  # llama-cpp-python reports unreadable GGUF files as ValueError
            raise ModelError(f"LLM {path}: cannot load ({exc})") from None
        self.chat = bool(self._llm.metadata.get("tokenizer.chat_template"))

    def stream(self, chat: Chat, max_tokens: int, temperature: float) -> Iterator[str]:
        """Text pieces of the reply as they are generated; ReplyCut when the token limit ended it."""
        if self.chat:
            # The template's end-of-turn token ends a chat reply; a line break inside one is only a pause.
            parts = self._llm.create_chat_completion(chat, max_tokens=max_tokens, temperature=temperature,  # type: ignore[arg-type]
                                                     stream=True)
        else:
            parts = self._llm(document(chat), max_tokens=max_tokens, temperature=temperature, stop=STOP, stream=True)
        for part in parts:
            choice = part["choices"][0]  # type: ignore[index]
            text = choice["delta"].get("content") if self.chat else choice["text"]  # type: ignore[typeddict-item]
            if text:
                yield text
            if choice.get("finish_reason") == "length":
                raise ReplyCut(f"the reply reached the limit of {max_tokens} tokens")

    def prefill(self, chat: Chat) -> None:
        """Evaluate `chat`'s prompt now, so that a `stream` of the same chat samples its first token at once
        (llama-cpp-python reuses the evaluated prompt when it matches exactly, and as much of it as matches
        otherwise). The one token asked for is sampled, never evaluated."""
        with contextlib.suppress(ReplyCut):
            for _ in self.stream(chat, max_tokens=1, temperature=0.0):
                pass

    def warm(self, chat: Chat, cache: DiskCache | None = None) -> bool:
        """Evaluate `chat` (one that starts like every real conversation) so later ones decode only what
        differs; restored from `cache` when it holds this model's state for it. True when restored."""
        import llama_cpp

        key = f"{self._key}|llama-cpp-python {llama_cpp.__version__}|{json.dumps(chat)}"
        entry = cache.get(key) if cache is not None else None
        if entry is not None and self._restore(entry["state"], entry["tokens"]):
            return True
        self.prefill(chat)
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
