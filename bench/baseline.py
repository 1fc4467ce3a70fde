"""The naive way, for comparison: one process, each step waits for the whole previous one.

Transcribe the whole recording (faster-whisper's usual 30-second window), produce the whole reply (the
answer the kiosk's router picks, or the LLM's full completion), synthesise all of it, then start
playing. Same models, same machine, same questions; endpointing is charged at the kiosk's measured figure, as both must wait for
the visitor to stop.
"""

from __future__ import annotations

import time
from pathlib import Path

from daemon.config import Config, resolve
from kiosk.audio_sources import decode_file
from models.faq import load_dialogue, load_faq
from models.llm_llama import LlamaLlm
from models.llm_prompt import messages
from models.prepare import piper_voice_path
from models.registry import resolve as resolve_model
from models.routing import Route, Router
from models.tts_piper import PiperTts


class NaivePipeline:
    def __init__(self, config: Config) -> None:
        from faster_whisper import WhisperModel

        self.config = config
        c = config.brain
        self.whisper = WhisperModel(str(resolve_model(config.asr.model_used(), "asr.model")), device="cpu",
                                    compute_type=config.asr.compute_type, cpu_threads=config.asr.threads)
        self.faq = load_faq(resolve(c.faq))
        self.dialogue = load_dialogue(resolve(c.dialogue))
        self.persona = resolve(c.persona).read_text(encoding="utf-8")
        self.router = Router(self.faq, self.dialogue, c.routing.thresholds())
        self.llm = (LlamaLlm(resolve_model(c.llm.model, "brain.llm.model"), c.llm.context, c.llm.threads)
                    if c.llm.model else None)
        self.tts = PiperTts(piper_voice_path(), config.voice.length_scale, patched=True)

    def reply_ms(self, wav: Path) -> float:
        """Milliseconds from 'the visitor has stopped' to 'the first reply sample plays'."""
        pcm = decode_file(wav).astype("float32") / 32768.0
        t0 = time.perf_counter()
        language = self.config.asr.language
        # faster-whisper's own detection (over every language) stands for the kiosk's auto.
        segments, _ = self.whisper.transcribe(pcm, language=None if language == "auto" else language, beam_size=1)
        text = " ".join(s.text.strip() for s in segments)
        d = self.router.route(text)
        c = self.config.brain
        reply = d.answer or self.dialogue.referral
        if d.route is Route.LLM and self.llm is not None:
            chat = messages(self.persona, [e.answer for e in self.faq], d.question, d.nearest)
            reply = "".join(self.llm.stream(chat, c.llm.max_tokens, c.llm.temperature)).strip() or reply
        self.tts.synthesize(reply)
        return (time.perf_counter() - t0) * 1000
