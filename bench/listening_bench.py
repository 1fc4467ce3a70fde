"""Listening figures: false triggers per hour of lobby sounds, and how many spoken questions are missed
at a given SNR. Runs the ear's own utterance detector offline, chunk by chunk.

    python -m bench.listening_bench [--minutes 60] [--snr 10] [--json OUT.json]
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from bench.noise import at_snr, lobby, pink
from daemon.config import VadConfig
from kiosk.audio_sources import CHUNK_NS
from kiosk.endpointing import Kind
from kiosk.utterances import UtteranceDetector
from models.vad_silero import CHUNK, SAMPLE_RATE

QUESTIONS = ["What are your opening hours?", "Where is the nearest ATM?", "I lost my card.",
             "Can I speak to a person?", "Do I need an appointment?", "Where are the toilets?",
             "How do I open a bank account?", "Is there parking?", "Do you have a mobile app?",
             "Can I get a loan?"]


def utterances(pcm: np.ndarray, cfg: VadConfig | None = None) -> list[float]:
    """Durations (s) of the utterances the ear's detector reports in this audio (1 s of silence added)."""
    det = UtteranceDetector(cfg or VadConfig())
    start = 0
    out = []
    pcm = np.concatenate([pcm, np.zeros(SAMPLE_RATE, np.int16)])
    for i in range(len(pcm) // CHUNK):
        ev = det.feed(pcm[i * CHUNK : (i + 1) * CHUNK], (i + 1) * CHUNK_NS)
        if ev is not None and ev.kind is Kind.START:
            start = ev.t_ns
        elif ev is not None and ev.kind is Kind.END:
            out.append((ev.t_ns - start) / 1e9)
    return out


def main() -> None:
    from tests.speech import espeak, silence

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=60.0, help="of each lobby sound")
    p.add_argument("--snr", type=float, default=10.0)
    p.add_argument("--json")
    args = p.parse_args()
    rng = np.random.default_rng(5)
    n = int(args.minutes * 60 * SAMPLE_RATE)
    result: dict[str, object] = {"minutes_each": args.minutes, "false_triggers_per_hour": {}}
    for name, sound in lobby(n, rng, espeak).items():
        per_hour = len(utterances(sound)) * 60 / args.minutes
        result["false_triggers_per_hour"][name] = per_hour  # type: ignore[index]
        print(f"{name:28} {per_hour:6.1f} false triggers per hour")
    missed = {}
    for colour in ("white", "pink"):
        lost = 0
        for q in QUESTIONS:
            speech = np.concatenate([silence(1.0), espeak(q), silence(1.0)])
            bed = rng.standard_normal(len(speech)) if colour == "white" else pink(len(speech), rng)
            lost += len(utterances(at_snr(speech, bed, args.snr))) != 1
        missed[colour] = lost / len(QUESTIONS)
        print(f"{colour} noise at {args.snr:g} dB SNR: missed {lost} of {len(QUESTIONS)} questions")
    result["miss_rate"] = missed
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
