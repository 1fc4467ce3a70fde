"""Voice worker: reply sentences in, PCM with its viseme timeline out (one SPEECH message per sentence).

The first sentence of every FAQ answer is ready at start-up (from the on-disk speech cache, synthesised
once on the first boot): an FAQ reply starts playing as soon as the brain has chosen it, and its later
sentences are synthesised while the first one plays. So are the configured openers ("Yes,", "Of
course,"), and the first sentence of every answer of the site's dialogue file (the referral line, small
talk, the answers to topics the LLM never answers). Figures are written out as they are said before
synthesis ("9:30" -> "nine thirty", models/speech_text.py); the caption keeps the written form.
"""

from __future__ import annotations

import time
from pathlib import Path

from daemon.config import resolve
from daemon.events import Event
from daemon.messages import Message, ReplyEnd, Sentence, Speech
from daemon.paths import cache_dir
from daemon.stage import Stage
from models.disk_cache import DiskCache
from models.faq import load_dialogue, load_faq
from models.loudness_visemes import shaped
from models.registry import resolve as resolve_model
from models.sentences import split
from models.speech_cache import SpeechCache
from models.speech_text import speakable
from models.tts_piper import PiperTts, patched_on_disk
from models.tts_piper import Speech as Synthesised
from models.visemes import timeline


class Voice(Stage):
    def setup(self) -> None:
        c = self.config.voice
        path = resolve_model(c.model, "voice.model")
        self.tts = PiperTts(path, c.length_scale, patched=patched_on_disk(c.model),
                            cache=DiskCache("onnx", cache_dir()), choice=self.config.accel.choose("voice"))
        self.tts.synthesize("Hello.")  # warm-up: the first run initialises espeak and onnxruntime's kernels
        self.cache: dict[str, Synthesised] = {}
        if self.options.get("ready_answers", True):  # an offline render says only its own text
            self._ready_answers(path)

    def _ready_answers(self, path: Path) -> None:
        """The sentences a reply often starts with, synthesised now (or read from the disk cache)."""
        c = self.config.voice
        answers = [e.answer for e in load_faq(resolve(self.config.brain.faq))] if c.cache_faq else []
        dialogue = load_dialogue(resolve(self.config.brain.dialogue))
        answers += [dialogue.referral, *(i.answer for i in dialogue.smalltalk), *(g.answer for g in dialogue.never_llm)]
        ready = [split(a)[0] for a in answers] + list(c.openers)
        disk = SpeechCache(path, f"length_scale={c.length_scale}", cache_dir())
        for text in dict.fromkeys(ready):
            said = speakable(text)  # the key is what is synthesised: audio kept from before figures were written out is not it
            speech = disk.get(said)
            if speech is None:
                speech = self.tts.synthesize(said)
                disk.put(said, speech)
            self.cache[text] = speech

    def handle(self, msg: Message) -> None:
        match msg.body:
            case ReplyEnd():
                self.send(msg)
                self.release_memory()  # onnxruntime's buffers for this reply's sentences, while it plays
            case Sentence(text=text, mood=mood):
                self._say(msg, text, mood)

    def _say(self, msg: Message, text: str, mood: str) -> None:
        t0 = time.monotonic_ns()
        speech = self.cache.get(text)
        if speech is None:
            with self.long_step():  # one ONNX run: a long sentence on a loaded machine can outlast the hang limit
                speech = self.tts.synthesize(speakable(text))
        if msg.seq == 0:
            self.emit(Event.TTS_FIRST_AUDIO, msg.turn, synth_ms=round((time.monotonic_ns() - t0) / 1e6, 1),
                      audio_ms=round(len(speech.pcm) * 1000 / speech.rate), cached=text in self.cache)
        visemes = tuple(tuple(row) for row in shaped(timeline(speech.phonemes), speech.pcm, speech.rate).tolist())
        self.send(Message(Speech(speech.pcm.tobytes(), speech.rate, visemes, text, mood), msg.turn, msg.seq))


WORKER = Voice
