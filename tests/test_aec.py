"""SpeexDSP echo cancellation on a simulated speaker-to-microphone path: the kiosk's voice is removed,
the visitor's is kept."""

from __future__ import annotations

import numpy as np

from kiosk.audio_sources import decode_file
from models.aec_speex import SpeexAec
from tests.speech import HUMAN_SPEECH, espeak


def db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(x.astype(np.float64) ** 2) + 1e-9))


def test_echo_removed_and_visitor_kept() -> None:
    far = espeak("We are open Monday to Friday from nine in the morning until five in the afternoon, "
                 "and on Saturday from nine until one.")
    n = len(far) - len(far) % 512
    far = far[:n]
    visitor = np.zeros(n, np.int16)
    visitor[32000:64000] = decode_file(HUMAN_SPEECH)[:32000]  # the visitor talks from 2 s to 4 s
    echo = np.zeros(n)
    echo[640:] = far[:-640] * 0.35  # 40 ms later, 9 dB quieter
    mic = (visitor + echo).clip(-32768, 32767).astype(np.int16)
    aec = SpeexAec()
    out = np.concatenate([aec(mic[i : i + 512], far[i : i + 512]) for i in range(0, n, 512)])
    echo_only = slice(5 * 16000, n)
    erle = db(mic[echo_only]) - db(out[echo_only])
    print(f"echo return loss enhancement: {erle:.1f} dB")
    assert erle > 12
    talk = slice(32000, 64000)
    assert abs(db(out[talk]) - db(visitor[talk])) < 1.5
