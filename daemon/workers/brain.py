"""Brain worker: transcript in, reply sentences out.

Each question gets one decision from the router (models/routing.py): the FAQ's answer, small talk, the
referral line, or an LLM answer grounded in the FAQ. Only the last is generated, and nothing it writes
is spoken before it passes the reply check (models/reply_check.py): a sentence with a figure the facts
do not give, a line of the persona, or the question given back ends the reply there, and if nothing was
said yet the referral line is spoken instead. The conversation so far lets a follow-up ("and on
Sunday?") be understood; it is forgotten after `brain.conversation_timeout_s` of quiet.
`kioskctl say` arrives here as a bus command and is spoken verbatim; `kioskctl ask` as a typed question.

The LLM is a remote OpenAI-compatible server (`brain.llm.url`), the local GGUF when that fails, or
none at all (`brain.llm.model: null`: FAQ only). The local model loads behind `ready`, on a thread:
FAQ answers need only the index, and a brain restarted after a hang is back within 4 s. A
question for the LLM that comes sooner waits for it. A model file that cannot be loaded leaves the
FAQ working: LLM questions get the referral line and the worker reports the problem.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path

from accel.placement import llama_gpu_layers
from daemon.commands import Ask, Command, Say
from daemon.config import resolve
from daemon.events import Event
from daemon.messages import Message, ReplyEnd, Sentence, Text
from daemon.paths import cache_dir
from daemon.stage import Stage
from models.conversation import Conversation
from models.disk_cache import DiskCache
from models.faq import load_dialogue, load_faq
from models.language import written_in
from models.llm_llama import LlamaLlm
from models.llm_prompt import SCAFFOLD, ReplyCut, messages
from models.llm_remote import LlmUnavailable, RemoteLlm
from models.mood import mood_of
from models.registry import resolve as resolve_model
from models.reply_check import ReplyChecker, checked_sentences
from models.routing import Decision, Route, Router
from models.sentences import split


class Brain(Stage):
    def setup(self) -> None:
        c = self.config.brain
        self.faq = load_faq(resolve(c.faq))
        self.dialogue = load_dialogue(resolve(c.dialogue))
        self.persona = resolve(c.persona).read_text(encoding="utf-8")
        self.facts = [e.answer for e in self.faq]
        self.router = Router(self.faq, self.dialogue, c.routing.thresholds(),
                             cache=DiskCache("embeddings", cache_dir()))
        self.checker = ReplyChecker(self.persona, SCAFFOLD)
        self.conversation = Conversation(c.conversation_timeout_s)
        # The speculative transcript's turn, text, language and route.
        self._prepared: tuple[int, str, str, Decision] | None = None
        self.remote = (RemoteLlm(c.llm.url, c.llm.remote_model, c.llm.connect_timeout_s, c.llm.first_token_timeout_s)
                       if c.llm.url else None)
        self.llm: Future[LlamaLlm | None] = Future()
        if c.llm.model is None:
            self.llm.set_result(None)
        else:
            path = resolve_model(c.llm.model, "brain.llm.model")  # a missing file is refused here, at once
            # A daemon thread: a worker told to stop while loading does not wait for the load.
            threading.Thread(target=self._load_llm, args=(path,), name="llm-load", daemon=True).start()
        self._report()

    def _report(self) -> None:
        """The conversation's state for kioskctl status, unless an LLM that could not load is what the operator
        must see (_load_llm reported it)."""
        if not (self.llm.done() and self.llm.exception() is not None):
            self.status(self.conversation.describe())

    def _load_llm(self, path: Path) -> None:
        c = self.config.brain.llm
        try:
            llm = LlamaLlm(path, c.context, c.threads, llama_gpu_layers(self.config.accel.choose("llm")))
            # The system message (persona and facts) is evaluated now, so the first visitor who needs the
            # LLM does not pay for it; after the first boot it comes from the disk cache.
            llm.warm(messages(self.persona, self.facts, "Hello", []), DiskCache("llm", cache_dir()))
        except Exception as exc:
            self.llm.set_exception(exc)
            self.status(f"the LLM is unavailable, questions outside the FAQ get the referral line: {exc}",
                        problem=True)
            return
        self.llm.set_result(llm)

    def handle(self, msg: Message) -> None:
        match msg.body:
            case Text(text=text, speculative=speculative, continues=continues, language=language):
                # The visitor carried on a turn: what it asked is part of this question, not one before it.
                self.conversation.withdraw(continues)
                (self.prepare if speculative else self.answer)(msg.turn, text, language)

    def on_command(self, cmd: Command) -> None:
        match cmd:
            case Say(turn=turn, text=text):
                self._end(turn, self._speak(turn, split(text), None))  # a text to say may mix languages
            case Ask(turn=turn, text=text):
                self.answer(turn, text, written_in(text))

    def tick(self) -> None:
        if self.conversation.expire():
            self._report()

    def prepare(self, turn: int, question: str, language: str) -> None:
        """A speculative transcript: route it, and if the local LLM will answer it, evaluate its prompt now,
        while the ear decides whether the visitor has finished. The final transcript, when it is the same,
        then costs neither; when the visitor carried on, only the time that was idle anyway is lost."""
        if self.is_stale(turn):
            return
        d = self.router.route(question, self.conversation.previous_question, language)
        self._prepared = (turn, question, language, d)
        if d.route is Route.LLM and self.remote is None and self.llm.done() and self.llm.exception() is None:
            llm = self.llm.result()
            if llm is not None:
                with self.long_step():
                    llm.prefill(self._chat(d)[0])
                self.emit(Event.LLM_PREFILLED, turn)

    def answer(self, turn: int, question: str, language: str) -> None:
        prepared, self._prepared = self._prepared, None
        d = (prepared[3] if prepared and prepared[:3] == (turn, question, language)
             else self.router.route(question, self.conversation.previous_question, language))
        self.emit(Event.REPLY, turn, source=d.route.value, entry=d.entry, score=round(d.score, 3), reason=d.reason)
        if d.route is Route.LLM:
            said = self._speak(turn, self._generate(turn, question, d), d.language)
            if not said:
                said = self._speak(turn, split(self.dialogue.referral_in(d.language)),
                                   self.dialogue.referral_spoken_in(d.language))
            # llama-cpp-python's sampler refers to itself through its cleanup stack, so each reply leaves one
            # (with megabytes of native buffers) for the cyclic collector, which an otherwise idle worker runs
            # rarely: the brain grew by that much per LLM reply over a soak. Collect now, the reply is sent.
            self.release_memory()
        else:
            assert d.answer is not None
            said = self._speak(turn, split(d.answer), d.language)
        self._end(turn, said)
        self.conversation.add(d.question, " ".join(said), turn)
        self._report()

    def _generate(self, turn: int, question: str, d: Decision) -> Iterator[str]:
        """The LLM's reply, one checked sentence at a time; it ends at the first sentence that fails. It may not
        give back the visitor's own `question`; a follow-up's joined question is the model's to restate ("There
        is parking at the branch for one hour" answers "Is there parking at the branch? For how long?")."""
        c = self.config.brain.llm
        chat, facts = self._chat(d)
        released: list[str] = []
        pieces = self._in_time(self._pieces(turn, chat, c.max_tokens, c.temperature), released, c.first_sentence_s)
        try:
            for sentence in checked_sentences(pieces, self.checker, facts, question,
                                              lambda reason: self.emit(Event.REPLY_REJECTED, turn, reason=reason),
                                              d.language):
                released.append(sentence)
                yield sentence
        except ReplyCut as cut:  # what was complete is said; the unfinished sentence is not
            self.emit(Event.REPLY_CUT, turn, reason=str(cut))

    def _chat(self, d: Decision) -> tuple[list[dict[str, str]], list[str]]:
        """The chat the LLM continues for `d`, and the facts its reply must keep to. A follow-up comes as the
        question it was routed as, joined to the one before ("Is there parking? For how long?"), and the check
        also accepts what the answer before it said: the earlier exchange as chat turns would cost its ~70
        tokens for every follow-up, 0.3 s on two idle cores and 1.5-3 s beside the face (seen in the bench),
        while the joined question costs only its own after the cached system message. A question in Chinese
        brings its nearest facts in Chinese, and the reply is checked against those."""
        chinese = [self.faq[i].answer_in("zh") for i in d.nearest] if d.language == "zh" else None
        chat = messages(self.persona, self.facts, d.question, d.nearest, chinese)
        earlier = [ex.answer for ex in self.conversation.history] if d.follow_up else []
        return chat, (chinese or [self.facts[i] for i in d.nearest]) + earlier

    @staticmethod
    def _in_time(pieces: Iterator[str], released: list[str], limit_s: float) -> Iterator[str]:
        """`pieces`, until `limit_s` has passed with nothing yet `released`: a visitor who would wait longer
        for the first sentence hears the referral line instead (a small model that has written 48 tokens
        without a full stop, or a sentence that fails the check only at its end, takes 1-1.5 s here)."""
        deadline = time.monotonic() + limit_s
        for piece in pieces:
            if not released and time.monotonic() > deadline:
                raise ReplyCut(f"no checked sentence within {limit_s:g} s")
            yield piece

    def _pieces(self, turn: int, chat: list[dict[str, str]], max_tokens: int, temperature: float) -> Iterator[str]:
        """Text as it is generated: from the remote server, or the local model when that fails first."""
        with self.long_step():  # loading, then the prompt's evaluation: native calls, before the first piece
            if self.remote is not None:
                relayed: list[str] = []
                try:
                    yield from self._relay(turn, "remote", self.remote.stream(chat, max_tokens, temperature), relayed)
                    return
                except LlmUnavailable as exc:
                    self.emit(Event.LLM_REMOTE_FAILED, turn, reason=str(exc), after_text=bool(relayed))
                    if relayed:  # the rest of the answer is lost with the server
                        raise ReplyCut(str(exc)) from None
            try:
                llm = self.llm.result()
            except Exception:  # _load_llm reported it; the caller speaks the referral line
                return
            if llm is not None:
                yield from self._relay(turn, "local", llm.stream(chat, max_tokens, temperature), [])

    def _relay(self, turn: int, backend: str, pieces: Iterator[str], relayed: list[str]) -> Iterator[str]:
        """Pass pieces on (noting them in `relayed`) until the turn is interrupted; obey commands between."""
        for piece in pieces:
            if not relayed:
                self.emit(Event.LLM_FIRST_TOKEN, turn, backend=backend)
            relayed.append(piece)
            self.poll_commands()
            if self.is_stale(turn):
                return
            yield piece

    def _speak(self, turn: int, sentences: Iterator[str] | list[str], language: str | None) -> list[str]:
        """Send `sentences` to the voice, in `language` (None: each in the one it is written in)."""
        said: list[str] = []
        for text in sentences:
            if self.is_stale(turn):
                break
            self.emit(Event.SENTENCE, turn, text=text, seq=len(said))
            self.send(Message(Sentence(text, mood_of(text), language or written_in(text)), turn, len(said)))
            said.append(text)
        return said

    def _end(self, turn: int, said: list[str]) -> None:
        self.send(Message(ReplyEnd(), turn, len(said)))
        self.emit(Event.REPLY_END, turn, sentences=len(said))


WORKER = Brain
