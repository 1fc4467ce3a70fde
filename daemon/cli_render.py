"""`kioskctl render`: a video of the kiosk's face saying a text, or moving its mouth to a recording, made
offline in this process (daemon/offline_render.py) with a progress bar on stderr. Bad requests are refused
before the render starts (daemon/render_inputs.py); an interrupted or failed render leaves nothing behind."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path
from types import FrameType

from daemon import config_options
from daemon.config import ConfigError
from daemon.render_inputs import FPS, MAX_AUDIO_S, MAX_TEXT_CHARS, SIDE, RenderInputError, RenderJob
from models.mood import Mood
from models.registry import ModelError

PROG = "kioskctl render"


class Terminated(BaseException):
    """SIGTERM or SIGHUP (the terminal closed), raised where the render is, so it cleans up as for Ctrl-C."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    r = sub.add_parser("render", help="make a video of the face saying a text (or lip-syncing a recording), offline",
                       description="Render the kiosk's face and voice into an MP4 (H.264 + AAC), as fast as the "
                                   "machine can, without a running kioskd.")
    what = r.add_mutually_exclusive_group(required=True)
    what.add_argument("--text", help=f"what the face says (at most {MAX_TEXT_CHARS:,} characters)")
    what.add_argument("--text-file", type=Path, metavar="FILE", help="the same, read from a UTF-8 file")
    what.add_argument("--audio", type=Path, metavar="FILE", help="a recording (any format FFmpeg reads, at most "
                      f"{MAX_AUDIO_S / 60:.0f} minutes) for the mouth to follow by its loudness")
    r.add_argument("--out", type=Path, required=True, metavar="OUT.mp4",
                   help="the video to write (its folder must exist; not -o, the config override as everywhere)")
    r.add_argument("--portrait", metavar="IMAGE", help="the photo to animate (default: face.portrait, the embedded astronaut)")
    r.add_argument("--voice", metavar="VOICE", help="embedded:en_US-joe-medium, embedded:espeak-cmn or a Piper .onnx, "
                   "for the whole text (default: voice.model, and voice.chinese for sentences written in Chinese)")
    r.add_argument("--expression", choices=[m.value for m in Mood],
                   help="say every sentence with this mood (default: each sentence's own, as the kiosk reads it)")
    r.add_argument("--size", metavar="WxH", help=f"frame size, each side {SIDE[0]}-{SIDE[1]} (default: face.size, 960x540)")
    r.add_argument("--fps", type=int, help=f"frames a second, {FPS[0]}-{FPS[1]} (default: face.fps, 30)")
    r.add_argument("--captions", action="store_true", help="show each sentence as a caption, as the kiosk does")
    r.add_argument("--seed", type=int, help="make the face's motion repeatable (default: different every time)")
    config_options.add_options(r)


def run(args: argparse.Namespace) -> int:
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")  # before anything imports pygame
    previous = {sig: signal.signal(sig, _terminate) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        from daemon import render_inputs

        try:
            job = render_inputs.job(args)
        except (RenderInputError, ConfigError, ModelError) as exc:
            print(f"{PROG}: {exc}", file=sys.stderr)
            return 1
        for note in job.notes:
            print(f"{PROG}: note: {note}", file=sys.stderr)
        return _render(job)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted: nothing written", file=sys.stderr)
        return 130
    except Terminated as stop:
        print(f"{PROG}: terminated: nothing written", file=sys.stderr)
        return 128 + stop.signum
    except Exception as exc:  # the render has cleaned up after itself (OfflineRender): the reason, not a traceback
        print(f"{PROG}: {exc or type(exc).__name__}: nothing written", file=sys.stderr)
        return 1
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise Terminated(signum)


def _render(job: RenderJob) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

    from daemon.offline_render import OfflineRender, perform
    from kiosk.portrait import PortraitError

    console = Console(stderr=True)
    try:
        with console.status("loading the portrait and the voice…"):
            render = OfflineRender(job.config, job.out, voice=job.audio is None, seed=job.seed)
    except (PortraitError, ModelError) as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 1
    columns = (TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn(),
               TextColumn("{task.fields[video]}"))
    with render, Progress(*columns, console=console) as bar:
        def shown() -> str:
            return f"{render.frames / render.fps:.1f} s of video"

        task = bar.add_task("speaking" if job.audio is None else "lip-syncing", total=1.0, video=shown())
        done = perform(render, job, lambda share: bar.update(task, completed=share, video=shown()))
        bar.update(task, completed=1.0, video=shown())
    w, h = job.config.face.size
    print(f"rendered {done.video_s:.1f} s of video in {done.render_s:.1f} s ({done.speed:.1f}× real time) at "
          f"{w}x{h}, {job.config.face.fps} fps, after {done.setup_s:.1f} s loading: {done.path}")
    return 0
