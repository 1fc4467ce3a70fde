"""ASR worker: utterance PCM in, transcript out."""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from accel.selection import Choice
from daemon.config import resolve
from daemon.events import Event
from daemon.messages import Message, Text, Utterance
from daemon.paths import cache_dir
from daemon.stage import Stage
from models.asr_whisper import Heard, WhisperAsr
from models.completeness import sounds_finished, surely_finished
from models.faq import load_dialogue, load_faq, site_texts
from models.registry import ModelError
from models.vad_silero import SAMPLE_RATE

if TYPE_CHECKING:
    from models.vocabulary_zh import ChineseVocabulary


class Asr(Stage):
    def setup(self) -> None:
        c = self.config.asr
        choice = self.config.accel.choose("asr")
        bigger, why = c.bigger_on(choice.backend)
        upgraded = self._upgraded(bigger, why, choice) if bigger is not None else None
        self.asr = upgraded or WhisperAsr(c.model_used(), c.language, c.beam_size, c.compute_type, c.threads,
                                          choice=choice)
        # Warm-up, behind ready on a thread: the first decode allocates, and is slower than the next ones;
        # and an asr restarted after a hang must be back within 4 s, 3 of them spent detecting the hang.
        # CTranslate2 queues an utterance's decode that comes meanwhile behind it.
        silence = np.zeros(SAMPLE_RATE, np.int16)
        threading.Thread(target=self.asr.transcribe, args=(silence,), name="asr-warm-up", daemon=True).start()
        self.speculation: tuple[int, int, Heard] = (0, 0, Heard("", "en"))  # turn, last voiced sample, transcript
        # The site's Chinese words (~1 s to gather), on a thread too: the first Chinese transcript waits for them.
        self.vocabulary: Future[ChineseVocabulary | None] | None = None
        if c.language != "en":
            self.vocabulary = ThreadPoolExecutor(1, "asr-vocabulary").submit(self._vocabulary)

    def _vocabulary(self) -> ChineseVocabulary | None:
        """The site's Chinese words, or None (transcripts kept as heard) when they cannot be read."""
        # Imported here: pypinyin's tables are ~50 MB that an English kiosk's processes need not hold.
        from models.vocabulary_zh import ChineseVocabulary

        b = self.config.brain
        try:
            texts = site_texts(load_faq(resolve(b.faq)), load_dialogue(resolve(b.dialogue)))
            return ChineseVocabulary(texts, cache_dir() / "jieba")
        except Exception as exc:  # a broken FAQ stops the brain, which says why; here it only loses the bias
            self.log.warning("the site's Chinese words are not used (%s: %s)", type(exc).__name__, exc)
            return None

    def _upgraded(self, folder: Path, why: str, choice: Choice) -> WhisperAsr | None:
        """The bigger Whisper installed at `folder`, or None when it will not load (the configured one is used
        then: a broken download in the cache must not keep the ASR from starting)."""
        c = self.config.asr
        try:
            asr = WhisperAsr(str(folder), c.language, c.beam_size, c.compute_type, c.threads, choice=choice)
        except ModelError as exc:
            self.log.warning("the installed Whisper %s cannot be used (%s): %s instead", folder, exc, c.model_used())
            return None
        self.log.info("%s", why)
        return asr

    def handle(self, msg: Message) -> None:
        for heard, utterance in self._without_stale([msg]):
            self._decode(heard, utterance)

    def _without_stale(self, queue: list[Message]) -> list[tuple[Message, Utterance]]:
        """`queue` and whatever waits behind it in the ring, less the speculations that newer audio of the
        same visitor already follows (they carried on talking): the decodes of a visitor who pauses often
        would otherwise queue up ahead of their final one."""
        queue += self.port.pending()
        heard = [(m, m.body) for m in queue if isinstance(m.body, Utterance) and not self.is_stale(m.turn)]
        keep = []
        for i, (m, utterance) in enumerate(heard):
            if utterance.speculative and any(later.turn == m.turn for later, _ in heard[i + 1 :]):
                self.emit(Event.ASR_SKIPPED, m.turn, pause_ns=m.t_ns)
            else:
                keep.append((m, utterance))
        return keep

    def _decode(self, msg: Message, utterance: Utterance) -> None:
        if utterance.speculative:
            # A first pause: transcribe now, and say whether it sounds finished so the ear can end the
            # utterance at once or give a hesitating visitor more time.
            heard = self._transcribe(utterance.pcm)
            self.speculation = (msg.turn, msg.t_ns, heard)
            self.emit(Event.ASR_SPECULATIVE, msg.turn, text=heard.text, language=heard.language,
                      finished=sounds_finished(heard.text), sure=surely_finished(heard.text), pause_ns=msg.t_ns)
            if heard.text:  # the brain can route it and evaluate an LLM's prompt while the ear decides
                self.send(Message(Text(heard.text, speculative=True, language=heard.language), msg.turn))
            return
        turn, voiced_end, heard = self.speculation
        reused = (turn, voiced_end) == (msg.turn, msg.t_ns)  # nothing was said after the pause
        if not reused:
            heard = self._transcribe(utterance.pcm)
        self.emit(Event.ASR_FINAL, msg.turn, text=heard.text, language=heard.language, speculative=reused)
        if not heard.text:
            self.emit(Event.TURN_END, msg.turn, answered=False, reason="nothing recognised")
            return
        self.send(Message(Text(heard.text, continues=utterance.continues, language=heard.language), msg.turn))

    def _transcribe(self, payload: bytes) -> Heard:
        with self.long_step():  # one decode of a long utterance on a loaded machine can outlast the hang limit
            heard = self.asr.transcribe(np.frombuffer(payload, np.int16))
        vocabulary = self.vocabulary.result() if heard.language == "zh" and self.vocabulary is not None else None
        return Heard(vocabulary.correct(heard.text), "zh") if vocabulary is not None else heard


WORKER = Asr
