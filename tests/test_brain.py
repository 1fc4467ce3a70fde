"""The brain worker in-process with the real models: LLM replies leave no native memory behind."""

from __future__ import annotations

import gc
import os
from pathlib import Path

from llama_cpp._internals import LlamaSampler

from daemon.config import load
from daemon.messages import SENTENCE, TEXT, Message
from daemon.ring import Ring
from daemon.worker import WorkerSpec
from daemon.workers.brain import Brain


def test_llm_replies_leave_no_sampler_behind(runtime_dir: Path, supervisor_messages: list) -> None:
    ring = Ring.create(f"kioskd-test.{os.getpid()}.brain", 1 << 18)
    brain = Brain(WorkerSpec("brain", runtime_dir, load().model_dump(mode="json"), None, ring.name))
    try:
        brain.setup()
        for turn in (1, 2, 3):
            brain.handle(Message(TEXT, turn, meta={"text": "Tell me a story about a dragon."}))
        kinds = []
        while (data := ring.get_nowait()) is not None:
            kinds.append(Message.decode(data).kind)
        assert kinds.count(SENTENCE) >= 3  # three replies were spoken (the LLM's or the fallback)
        # Each reply's sampler is freed with it, not left for a cyclic collection that may never come.
        assert sum(isinstance(o, LlamaSampler) for o in gc.get_objects()) <= 1
    finally:
        brain.bus.close()
        ring.close()
        ring.unlink()
