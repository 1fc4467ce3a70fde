"""ASR worker: utterance PCM in, transcript out."""

from __future__ import annotations

import numpy as np

from daemon.messages import TEXT, UTTERANCE, Message
from daemon.worker import Worker
from models.asr_whisper import WhisperAsr
from models.vad_silero import SAMPLE_RATE


class Asr(Worker):
    name = "asr"

    def setup(self) -> None:
        c = self.config.asr
        self.asr = WhisperAsr(c.model, c.language, c.beam_size, c.compute_type, c.threads)
        self.asr.transcribe(np.zeros(SAMPLE_RATE, np.int16))  # warm-up: the first decode allocates

    def handle(self, msg: Message) -> None:
        if msg.kind != UTTERANCE:
            return
        text = self.asr.transcribe(np.frombuffer(msg.payload, np.int16))
        self.emit("asr_final", msg.turn, text=text)
        if not text:
            self.emit("turn_end", msg.turn, answered=False, reason="nothing recognised")
            return
        self.send(Message(TEXT, msg.turn, meta={"text": text}))


WORKER = Asr
