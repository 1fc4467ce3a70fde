"""The brain worker in-process with the real models: LLM replies leave no native memory behind; the LLM
loads behind `ready`, and one that cannot load leaves the FAQ answering."""

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
from tests.received import Received


def test_llm_replies_leave_no_sampler_behind(runtime_dir: Path, supervisor_messages: Received) -> None:
    ring = Ring.create(f"kioskd-test.{os.getpid()}.brain", 1 << 18)
    brain = Brain(WorkerSpec("brain", runtime_dir, load().model_dump(mode="json"), None, ring.name))
    try:
        brain.setup()
        assert not brain.llm.done()  # ready before the LLM has loaded (~1 s); the questions below wait for it
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


def _replies(ring: Ring) -> list[str]:
    return [m.meta["text"] for m in map(Message.decode, iter(ring.get_nowait, None)) if m.kind == SENTENCE]


def test_a_broken_llm_leaves_the_faq_answering(runtime_dir: Path, supervisor_messages: Received,
                                               tmp_path: Path) -> None:
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + os.urandom(4096))
    config = load(overrides=[f"brain.llm.model={broken}"])
    ring = Ring.create(f"kioskd-test.{os.getpid()}.brain-broken", 1 << 18)
    brain = Brain(WorkerSpec("brain", runtime_dir, config.model_dump(mode="json"), None, ring.name))
    try:
        brain.setup()
        brain.handle(Message(TEXT, 1, meta={"text": "What are your opening hours?"}))
        assert _replies(ring)[0].startswith("We are open Monday to Friday")
        brain.handle(Message(TEXT, 2, meta={"text": "Tell me a story about a dragon."}))
        assert _replies(ring) == [config.brain.fallback]
        status = supervisor_messages.first(type="status")
        assert status["problem"] and "broken.gguf" in status["text"]
        assert [m for m in supervisor_messages if m.get("type") == "status"] == [status]  # reported once
    finally:
        brain.bus.close()
        ring.close()
        ring.unlink()
