"""Brain worker: transcript in, reply sentences out.

A question close enough to an FAQ entry gets that entry's answer (about 10 ms); anything else goes to
the LLM, grounded in the nearest FAQ facts, and its sentences are sent on as they are generated.
`kioskctl say` arrives here as a bus command and is spoken verbatim.

The LLM loads behind `ready`, on a thread (~1 s, most of it llama.cpp building Gemma's 262k-token
vocabulary): FAQ answers need only the index, and a brain restarted after a hang is back within the 4 s
that allows (3 s of silence before the supervisor calls it one). A question for the LLM that comes
sooner waits for it. A model file that cannot be loaded leaves the FAQ working: LLM questions get the
fallback answer and the worker reports the problem.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from concurrent.futures import Future
from pathlib import Path

from daemon.config import resolve
from daemon.messages import REPLY_END, SENTENCE, TEXT, Message
from daemon.paths import cache_dir
from daemon.worker import Worker
from models.disk_cache import DiskCache
from models.faq import load_faq
from models.llm_llama import LlamaLlm, grounded_prompt
from models.registry import resolve as resolve_model
from models.retrieval_e5 import FaqIndex
from models.sentences import SentenceSplitter, split

FACTS = 3  # FAQ answers given to the LLM as grounding


class Brain(Worker):
    name = "brain"
    # Once the first clause is out, the LLM generating the rest competes for the two cores with the
    # voice synthesising that clause, which is what the visitor is waiting for: niced, the LLM yields.
    # Piper's "Yes," beside a generating LLM: 134 ms; LLM niced by 5: 121 ms, by 10: 77 ms (alone: 51 ms).
    nice = 10

    def setup(self) -> None:
        c = self.config.brain
        self.faq = load_faq(resolve(c.faq))
        self.persona = resolve(c.persona).read_text(encoding="utf-8")
        self.index = FaqIndex(self.faq, cache=DiskCache("embeddings", cache_dir()))
        path = resolve_model(c.llm.model, "brain.llm.model")  # a missing file is refused here, at once
        self.llm: Future[LlamaLlm] = Future()
        # A daemon thread: a worker told to stop while loading does not wait for the load.
        threading.Thread(target=self._load_llm, args=(path,), name="llm-load", daemon=True).start()

    def _load_llm(self, path: Path) -> None:
        c = self.config.brain.llm
        try:
            llm = LlamaLlm(path, c.context, c.threads)
            # The persona prefix is evaluated now, so the first visitor who needs the LLM does not pay for
            # it; after the first boot it comes from the disk cache.
            llm.warm(grounded_prompt(self.persona, [], "Hello"), DiskCache("llm", cache_dir()))
        except Exception as exc:
            self.llm.set_exception(exc)
            self.status(f"the LLM is unavailable, questions outside the FAQ get the fallback answer: {exc}",
                        problem=True)
            return
        self.llm.set_result(llm)

    def handle(self, msg: Message) -> None:
        if msg.kind != TEXT:
            return
        question = msg.meta["text"]
        ranked = self.index.rank(question)
        match = ranked[0]
        margin = match.score - ranked[1].score if len(ranked) > 1 else 1.0
        c = self.config.brain
        if match.score >= c.faq_threshold and margin >= c.faq_margin:
            self.emit("reply", msg.turn, source="faq", entry=match.entry, score=round(match.score, 3))
            self._speak(msg.turn, split(self.faq[match.entry].answer))
            return
        self.emit("reply", msg.turn, source="llm", entry=match.entry, score=round(match.score, 3))
        self._speak(msg.turn, self._generate(msg.turn, question, [m.entry for m in ranked[:FACTS]]), fallback=c.fallback)
        # llama-cpp-python's sampler refers to itself through its cleanup stack, so each reply leaves one
        # (with ~3 MB of native buffers) for the cyclic collector, which an otherwise idle worker runs
        # rarely: the brain grew by that much per LLM reply over a soak. Collect now, the reply is sent.
        self.release_memory()

    def on_command(self, cmd: dict[str, object]) -> None:
        if cmd.get("type") == "say":
            self._speak(int(str(cmd["turn"])), split(str(cmd["text"])))

    def _generate(self, turn: int, question: str, nearest: list[int]) -> Iterable[str]:
        c = self.config.brain
        facts = [self.faq[i].answer for i in nearest]
        splitter = SentenceSplitter()
        first = True
        with self.long_step():  # loading, then the prompt's evaluation: native calls, before the first piece
            try:
                llm = self.llm.result()
            except Exception:  # _load_llm reported it; the caller speaks the fallback
                return
            for piece in llm.stream(grounded_prompt(self.persona, facts, question), c.llm.max_tokens,
                                         c.llm.temperature):
                if first:
                    self.emit("llm_first_token", turn)
                    first = False
                self.poll_commands()
                if self.is_stale(turn):
                    return
                yield from splitter.feed(piece)
            yield from splitter.flush()

    def _speak(self, turn: int, sentences: Iterable[str], fallback: str | None = None) -> None:
        seq = 0
        for text in sentences:
            if self.is_stale(turn):
                return
            self.emit("sentence", turn, text=text, seq=seq)
            self.send(Message(SENTENCE, turn, seq, meta={"text": text}))
            seq += 1
        if seq == 0 and fallback:
            self.emit("sentence", turn, text=fallback, seq=0)
            self.send(Message(SENTENCE, turn, 0, meta={"text": fallback}))
            seq = 1
        self.send(Message(REPLY_END, turn, seq))


WORKER = Brain
