"""Voice worker: reply sentences in, PCM with its viseme timeline out (one SPEECH message per sentence).

Each sentence is said by the voice of its language (`Sentence.language`): Chinese by `voice.chinese` (espeak-ng's
Mandarin unless the site names a Piper voice), everything else by `voice.model` (Piper, English). The Chinese
voice is loaded at start when visitors may speak Chinese (asr.language zh or auto); otherwise at the first
Chinese sentence, which only a typed question or `kioskctl say` brings.

The first sentence of every FAQ answer is ready at start-up (from the on-disk speech cache, synthesised
once on the first boot): an FAQ reply starts playing as soon as the brain has chosen it, and its later
sentences are synthesised while the first one plays. So are the configured openers ("Yes,", "Of
course,"), and the first sentence of every answer of the site's dialogue file (the referral line, small
talk, the answers to topics the LLM never answers). Each voice started with the kiosk keeps ready the forms
written in its language (an answer's `zh:`, the `referral_zh:` line for the Chinese one). Figures are written
out as they are said before synthesis ("9:30" -> "nine thirty", 九点半, models/speech_text.py); the caption
keeps the written form.
"""

from __future__ import annotations

import time

from daemon.config import resolve
from daemon.events import Event
from daemon.messages import Message, ReplyEnd, Sentence, Speech
from daemon.paths import cache_dir
from daemon.stage import Stage
from models.disk_cache import DiskCache
from models.faq import load_dialogue, load_faq
from models.language import written_in
from models.loudness_visemes import shaped
from models.registry import resolve as resolve_model
from models.sentences import split
from models.speech_cache import SpeechCache
from models.speech_text import speakable
from models.tts import Speech as Synthesised
from models.tts import Tts
from models.visemes import timeline
from models.voices import check_mandarin
from models.voices import load as load_voice

WARM_UP = {"en": "Hello.", "zh": "你好。"}


class Voice(Stage):
    def setup(self) -> None:
        self.voices: dict[str, Tts] = {}
        # By language and text: the same words in the two voices are two sounds ("OK." in either).
        self.cache: dict[tuple[str, str], Synthesised] = {}
        for language in ("en", "zh") if self.config.asr.language != "en" else ("en",):
            self._load(language)
            if self.options.get("ready_answers", True):  # an offline render says only its own text
                self._ready_answers(language)

    def _setting(self, language: str) -> tuple[str, str]:
        """The voice setting for `language`, and its config key."""
        c = self.config.voice
        return (c.chinese, "voice.chinese") if language == "zh" else (c.model, "voice.model")

    def _load(self, language: str) -> Tts:
        setting, key = self._setting(language)
        if language == "zh":
            check_mandarin(setting, key)
        tts = load_voice(setting, key, self.config.voice.length_scale, DiskCache("onnx", cache_dir()),
                         self.config.accel.choose("voice"))
        # The first run initialises espeak-ng, onnxruntime's kernels and the Chinese figures' cn2an (0.1-0.2 s each).
        tts.synthesize(speakable(WARM_UP[language], language))
        self.voices[language] = tts
        return tts

    def _ready_answers(self, language: str) -> None:
        """The sentences a reply often starts with, written in `language`, synthesised now (or read from the disk
        cache)."""
        c = self.config.voice
        faq = load_faq(resolve(self.config.brain.faq)) if c.cache_faq else []
        dialogue = load_dialogue(resolve(self.config.brain.dialogue))
        answers = [e.answer_in(language) for e in faq] + [dialogue.referral_in(language)]
        answers += [i.answer_in(language) for i in [*dialogue.smalltalk, *dialogue.never_llm]]
        ready = [t for t in [*(split(a)[0] for a in answers), *c.openers] if written_in(t) == language]
        tts = self.voices[language]
        disk = SpeechCache(resolve_model(*self._setting(language)), tts.key, cache_dir())
        for text in dict.fromkeys(ready):
            # The key is what is synthesised: audio kept from before figures were written out is not it.
            said = speakable(text, language)
            speech = disk.get(said)
            if speech is None:
                speech = tts.synthesize(said)
                disk.put(said, speech)
            self.cache[(language, text)] = speech

    def handle(self, msg: Message) -> None:
        match msg.body:
            case ReplyEnd():
                self.send(msg)
                self.release_memory()  # onnxruntime's buffers for this reply's sentences, while it plays
            case Sentence(text=text, mood=mood, language=language):
                self._say(msg, text, mood, "zh" if language == "zh" else "en")  # English's voice says the rest

    def _say(self, msg: Message, text: str, mood: str, language: str) -> None:
        t0 = time.monotonic_ns()
        speech = self.cache.get((language, text))
        if speech is None:
            # One ONNX run, or loading the Chinese voice first: a long sentence on a loaded machine can outlast
            # the hang limit.
            with self.long_step():
                tts = self.voices.get(language) or self._load(language)
                speech = tts.synthesize(speakable(text, language))
        if msg.seq == 0:
            self.emit(Event.TTS_FIRST_AUDIO, msg.turn, synth_ms=round((time.monotonic_ns() - t0) / 1e6, 1),
                      audio_ms=round(len(speech.pcm) * 1000 / speech.rate), cached=(language, text) in self.cache)
        visemes = tuple(tuple(row) for row in shaped(timeline(speech.phonemes), speech.pcm, speech.rate).tolist())
        self.send(Message(Speech(speech.pcm.tobytes(), speech.rate, visemes, text, mood), msg.turn, msg.seq))


WORKER = Voice
