"""Mandarin and English recognition with the multilingual Whisper: character error rate per clip, decode time,
and what detecting the language (asr.language auto) adds.

    python -m bench.asr_languages [--runs 5]

The Mandarin clips are real recordings read out of two source distributions that scripts/setup.sh --test
fetches into .venv/share/kioskd/speech/ (funasr 1.3.9, MIT: a sentence about DAMO Academy's speech
recognition; spark-tts-lib 0.2.1, Apache-2.0: two radio-style sponsor lines, the transcript its own test
gives); the English ones are Debian's codec2 Harvard sentences and the bundled sample question.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.turn_set import CODEC2_DIR, SPEECH_DIR, Archives, decode
from daemon.config import CONFIG_DIR, MULTILINGUAL_ASR
from models.asr_whisper import WhisperAsr


@dataclass(frozen=True)
class MandarinClip:
    name: str
    archive: str  # file name in SPEECH_DIR
    member: str  # below the archive's top folder
    transcript: str


MANDARIN = (
    MandarinClip("funasr", "funasr-1.3.9.tar.gz", "runtime/funasr_api/asr_example.wav", "欢迎大家来体验达摩院推出的语音识别模型"),
    MandarinClip("spark", "spark_tts_lib-0.2.1.tar.gz", "tests/prompt_audio.wav",
                 "吃燕窝就选燕之屋，本节目由26年专注高品质燕窝的燕之屋冠名播出。豆奶牛奶换着喝，营养更均衡，本节目由豆本豆豆奶特约播出。"),
)
ENGLISH = {"harvard": CODEC2_DIR / "raw" / "speech_orig_16k.wav", "opening-hours": CONFIG_DIR / "samples" / "opening-hours.wav"}


def mandarin_audio(clip: MandarinClip, speech_dir: Path = SPEECH_DIR) -> np.ndarray:
    """The clip as float32 at 16 kHz; FileNotFoundError when its archive was not fetched."""
    return decode(Archives(speech_dir).read(clip.archive, clip.member))


def english_audio(name: str) -> np.ndarray:
    """The recording as float32 at 16 kHz."""
    return decode(ENGLISH[name].read_bytes())


def _characters(text: str) -> str:
    """What is compared: letters, digits and ideographs, without punctuation, spaces or case."""
    return re.sub(r"[\W_]+", "", text).lower()


def cer(reference: str, hypothesis: str) -> float:
    """Character error rate: the edit distance (substitutions, insertions, deletions) over the reference's length."""
    ref, hyp = _characters(reference), _characters(hypothesis)
    previous = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        current = [i]
        for j, h in enumerate(hyp, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (r != h)))
        previous = current
    return previous[-1] / len(ref)


def _median_ms(work: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        work()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def _measured(name: str, audio: np.ndarray, transcript: str | None, zh: WhisperAsr, auto: WhisperAsr, runs: int) -> str:
    """One clip's line: the language auto mode hears and its decode time, the detection's share of it; for a
    Mandarin clip, the decode time in zh mode and its character error rate."""
    heard, encoded = auto.transcribe(audio), auto.encode(audio)
    line = (f"{name:14s} {len(audio) / 16000:4.1f} s  auto: {heard.language} in "
            f"{_median_ms(lambda: auto.transcribe(audio), runs):4.0f} ms, detection "
            f"{_median_ms(lambda: auto.detect(encoded), runs):3.0f} ms of it")
    if transcript is None:
        return f"{line}  {heard.text}"
    text = zh.transcribe(audio).text
    return f"{line}  zh: {_median_ms(lambda: zh.transcribe(audio), runs):4.0f} ms  CER {cer(transcript, text):.3f}  {text}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=5, help="decodes timed per clip and mode (the median is shown)")
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args(argv)
    zh, auto = (WhisperAsr(MULTILINGUAL_ASR, language, threads=args.threads) for language in ("zh", "auto"))
    clips = [(c.name, mandarin_audio(c), c.transcript) for c in MANDARIN]
    clips += [(name, english_audio(name), None) for name in ENGLISH]
    for asr, audio in ((zh, clips[0][1]), (auto, clips[0][1])):  # the first decodes allocate
        asr.transcribe(audio)
    print(f"{MULTILINGUAL_ASR}, int8, {args.threads} threads, median of {args.runs}")
    for name, audio, transcript in clips:
        print(_measured(name, audio, transcript, zh, auto, args.runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
