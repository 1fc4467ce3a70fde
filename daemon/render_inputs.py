"""What `kioskctl render` is asked to do, checked before anything is written: the text (or recording), the
size, frame rate, voice and output file. Each refusal is a `RenderInputError` whose message names the
option and the limit; the portrait's size is checked from its header here, its face when the face loads it
(kiosk/portrait.py)."""

from __future__ import annotations

import argparse
import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from daemon import config_options
from daemon.config import Config
from models.language import written_in
from models.mood import Mood, mood_of
from models.sentences import CLAUSE_MARKS, CLAUSE_MARKS_ZH, split
from models.speech_text import unreadable
from models.voices import is_mandarin, language_of

MAX_TEXT_CHARS = 5000  # about five minutes of speech
MAX_SENTENCE_CHARS = 400  # a longer run without a full stop is cut at commas, else between words, else anywhere
MAX_AUDIO_S = 600.0
SIDE = (160, 3840)  # pixels, each side of --size
FPS = (10, 60)


class RenderInputError(ValueError):
    """A request `kioskctl render` refuses; the message names the option and why."""


@dataclass(frozen=True)
class RenderJob:
    config: Config  # the layered config, the face and voice set as the options ask
    out: Path
    sentences: list[tuple[str, Mood, str]]  # what is said, one sentence at a time, and its language (zh or en);
    # empty with a recording
    audio: np.ndarray | None  # a recording at `audio_rate`, int16 mono, or None
    audio_rate: int
    seed: int | None
    notes: list[str]  # what was changed to make the request work (an odd size made even)


def job(args: argparse.Namespace) -> RenderJob:
    """The render the options ask for; RenderInputError, ConfigError or ModelError when it cannot be done."""
    config = config_options.load(args)
    notes: list[str] = []
    out = check_output(args.out)
    size = parse_size(args.size, notes) if args.size else parse_size("{}x{}".format(*config.face.size), notes)
    fps = check_fps(config.face.fps if args.fps is None else args.fps)
    portrait = args.portrait or config.face.portrait
    if not portrait.startswith("embedded:"):
        check_portrait(Path(portrait).expanduser())
    voice = config.voice
    sentences: list[tuple[str, Mood, str]] = []
    audio, rate = None, 0
    if args.audio is not None:
        audio, rate = read_audio(args.audio)
    else:
        text = args.text if args.text is not None else read_text_file(args.text_file)
        check_text(text)
        keys = {"en": "voice.model", "zh": "voice.chinese"}
        forced = None
        if args.voice:  # one voice says it all, from its language's place in the config
            forced = "zh" if is_mandarin(language_of(args.voice, "--voice")) else "en"
            keys[forced] = "--voice"
            voice = voice.model_copy(update={"chinese" if forced == "zh" else "model": args.voice})
        said = [(s, forced or written_in(s)) for s in pieces(text)]
        check_readable(said, {"en": (voice.model, keys["en"]), "zh": (voice.chinese, keys["zh"])})
        sentences = [(s, Mood(args.expression) if args.expression else mood_of(s), lang) for s, lang in said]
    face = config.face.model_copy(update={"portrait": portrait, "size": size, "fps": fps, "display": "offscreen",
                                          "captions": args.captions, "driver": None})
    config = config.model_copy(update={"face": face, "voice": voice})
    return RenderJob(config, out, sentences, audio, rate, args.seed, notes)


def check_output(out: Path) -> Path:
    if out.suffix.lower() != ".mp4":
        raise RenderInputError(f"--out {out}: must end in .mp4 (H.264 video with AAC sound)")
    folder = out.parent
    if not folder.is_dir():
        raise RenderInputError(f"--out {out}: the folder {folder} does not exist")
    if out.is_dir():
        raise RenderInputError(f"--out {out}: is a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise RenderInputError(f"--out {out}: cannot write in {folder}")
    return out


def check_portrait(path: Path) -> None:
    """The photo exists and its header is within the portrait's size limit; the rest is checked as the face
    loads it, after a temporary file is made (kiosk/portrait.py)."""
    from kiosk.portrait import PortraitError, check_size

    if not path.is_file():
        raise RenderInputError(f"--portrait {path}: no such file")
    try:
        check_size(path)
    except PortraitError as exc:
        raise RenderInputError(str(exc)) from None


def parse_size(text: str, notes: list[str]) -> tuple[int, int]:
    """WIDTHxHEIGHT within SIDE; an odd side is made even (H.264's 4:2:0 colour needs even sides), with a note."""
    m = re.fullmatch(r"\s*(\d+)\s*[xX×]\s*(\d+)\s*", text)
    if m is None:
        raise RenderInputError(f"--size {text!r}: expected WIDTHxHEIGHT, e.g. 960x540")
    w, h = int(m[1]), int(m[2])
    if not (SIDE[0] <= w <= SIDE[1] and SIDE[0] <= h <= SIDE[1]):
        raise RenderInputError(f"--size {w}x{h}: each side must be {SIDE[0]} to {SIDE[1]} pixels")
    if w % 2 or h % 2:
        notes.append(f"--size {w}x{h}: H.264 needs even sides, rendering {w & ~1}x{h & ~1}")
    return w & ~1, h & ~1


def check_fps(fps: int) -> int:
    if not FPS[0] <= fps <= FPS[1]:
        raise RenderInputError(f"--fps {fps}: must be {FPS[0]} to {FPS[1]} frames a second")
    return fps


def read_text_file(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RenderInputError(f"--text-file {path}: no such file") from None
    except UnicodeDecodeError:
        raise RenderInputError(f"--text-file {path}: not UTF-8 text") from None
    except OSError as exc:
        raise RenderInputError(f"--text-file {path}: cannot read ({exc.strerror})") from None


def check_text(text: str) -> None:
    if not text.strip():
        raise RenderInputError("the text is empty: nothing to say")
    if len(text.strip()) > MAX_TEXT_CHARS:
        raise RenderInputError(f"the text is {len(text.strip()):,} characters long: at most {MAX_TEXT_CHARS:,} "
                               "(about five minutes of speech; render a longer text in parts)")
    if not any(ch.isalnum() for ch in text):
        raise RenderInputError("the text has no words to say (punctuation or symbols only)")


def check_readable(said: list[tuple[str, str]], voices: dict[str, tuple[str, str]]) -> None:
    """The voice of each sentence's language (zh or en: its setting and config key) reads all its letters;
    RenderInputError naming those it cannot."""
    for language, (setting, key) in voices.items():
        text = "".join(s for s, lang in said if lang == language)
        if not text:
            continue
        reads = language_of(setting, key)
        letters = unreadable(text, reads)
        if letters:
            shown = "".join(letters[:12]) + ("…" if len(letters) > 12 else "")
            raise RenderInputError(f"the voice {setting} reads {reads} and cannot say {shown!r}: give a voice "
                                   "for that language with --voice, or text it can read")


def pieces(text: str) -> list[str]:
    """The text as the voice says it, one sentence at a time: a blank line ends a sentence too (a heading),
    and a sentence longer than MAX_SENTENCE_CHARS is cut at its commas, else between its words, else within one."""
    out: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text):
        for sentence in split(" ".join(paragraph.split())):
            out += _cut(sentence)
    return out


def _cut(sentence: str) -> list[str]:
    if len(sentence) <= MAX_SENTENCE_CHARS:
        return [sentence]
    units: list[str] = []
    for clause in re.split(rf"(?<=[{CLAUSE_MARKS}])\s+|(?<=[{CLAUSE_MARKS_ZH}])", sentence):
        units += [clause] if len(clause) <= MAX_SENTENCE_CHARS else [p for word in clause.split() for p in _hard_cut(word)]
    out: list[str] = []
    for unit in units:  # packed again up to the limit: a comma is no full stop
        gap = "" if out and out[-1][-1] in CLAUSE_MARKS_ZH else " "  # Chinese clauses join with no space
        if out and len(out[-1]) + len(gap) + len(unit) <= MAX_SENTENCE_CHARS:
            out[-1] = f"{out[-1]}{gap}{unit}"
        else:
            out.append(unit)
    return out


def _hard_cut(word: str) -> list[str]:
    """A run of MAX_SENTENCE_CHARS or more with no space (a pasted URL or hash) in pieces of at most that,
    never cut before a combining mark (an accent belongs with its letter)."""
    out: list[str] = []
    while len(word) > MAX_SENTENCE_CHARS:
        cut = MAX_SENTENCE_CHARS
        while cut > 1 and unicodedata.combining(word[cut]):
            cut -= 1
        out.append(word[:cut])
        word = word[cut:]
    return [*out, word]


def read_audio(path: Path) -> tuple[np.ndarray, int]:
    """A recording any FFmpeg reads, mono int16 at the face's playback rate, at most MAX_AUDIO_S long: refused
    from its container's duration when it gives one, else once decoding passes the limit."""
    import av

    from daemon.workers.face import PLAYBACK_RATE
    from kiosk.audio_sources import AudioInputError, decode_file

    too_long = RenderInputError(f"--audio {path}: longer than {MAX_AUDIO_S / 60:.0f} minutes, the most a render "
                                "takes (render a longer recording in parts)")
    try:
        with av.open(str(path)) as c:
            if c.duration is not None and c.duration / av.time_base > MAX_AUDIO_S:
                raise too_long
    except (av.error.FFmpegError, OSError):
        pass  # decode_file names what is wrong with it
    try:
        pcm = decode_file(path, PLAYBACK_RATE, max_s=MAX_AUDIO_S)
    except AudioInputError as exc:
        raise RenderInputError(str(exc).replace("audio input", "--audio", 1)) from None
    if len(pcm) > MAX_AUDIO_S * PLAYBACK_RATE:
        raise too_long
    return pcm, PLAYBACK_RATE
