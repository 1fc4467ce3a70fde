"""`kioskctl studio`'s page (Gradio). "Make a video": a portrait says a text, or moves its mouth to a recording,
rendered by the offline render (daemon/offline_render.py) one video at a time, the request checked and refused
with the words of `kioskctl render` (daemon/render_inputs.py). "Kiosk status": a running kiosk seen through
its HTTP API (daemon/studio_status.py).

Gradio must be imported after cli_studio has turned its analytics off and pointed its files at the studio's
own folder: this module is imported by cli_studio only."""

from __future__ import annotations

import argparse
import io
import logging
import secrets
import threading
import time
from pathlib import Path

import gradio as gr
from PIL import Image

from daemon import config_options, render_inputs
from daemon.config import ConfigError
from daemon.offline_render import OfflineRender, perform
from daemon.render_inputs import MAX_TEXT_CHARS, RenderInputError
from daemon.studio_status import KioskApi, KioskUnreachable, summary
from kiosk.portrait import PortraitError
from models.mood import Mood
from models.registry import ModelError

log = logging.getLogger("kioskd.studio")

# The voices offered, as (what the page says, the voice setting); the config's own comes first when it is none
# of these. Another voice is one more entry. BY_LANGUAGE: each sentence in its language's voice, as the kiosk.
BY_LANGUAGE = "by language"
VOICES: list[tuple[str, str]] = [("each sentence in its language's voice (English or Chinese)", BY_LANGUAGE),
                                 ("English (US): Joe", "embedded:en_US-joe-medium"),
                                 ("Chinese (Mandarin): espeak-ng", "embedded:espeak-cmn")]
SIZES = ["480x270", "960x540", "1280x720", "1920x1080"]  # the first for a quick look, the others for use
AS_WRITTEN = "as written"  # each sentence with its own mood (models/mood.py), as the kiosk says it
PROGRESS_STEP = 0.01  # the progress bar moves by at least this share: a frame each would flood the page
KEEP_S = 3600  # a finished video, or an upload, stays this long (a studio may run for weeks)
BUSY = "Another video is being rendered: this machine makes one at a time. Try again when it is done."
BOTH = "Give a text or a recording, not both: clear one of them."


class Studio:
    """What the page's buttons do. `options` names the configuration (--profile, --config, -o) as for
    `kioskctl render`; `work` is the studio's own folder, where Gradio keeps the uploads and the videos."""

    def __init__(self, options: argparse.Namespace, work: Path) -> None:
        self.options = options
        self.config = config_options.load(options)  # ConfigError: the studio does not start
        self.api = KioskApi.of(self.config)
        self.videos = work / "videos"
        self.videos.mkdir()
        self._one_at_a_time = threading.Lock()

    def voices(self) -> list[tuple[str, str]]:
        configured = self.config.voice.model
        if any(setting == configured for _, setting in VOICES):
            return VOICES
        return [(f"this kiosk's voice ({configured})", configured), *VOICES]

    def default_size(self) -> str:
        size = "{}x{}".format(*self.config.face.size)
        return size if size in SIZES else "960x540"

    def preview(self, portrait: str | None) -> str | None:
        """The uploaded photo to show, once its header says the render could take it (as the render will
        check it again, with its face); gr.Error saying why not."""
        if portrait is not None:
            try:
                render_inputs.check_portrait(Path(portrait))
            except RenderInputError as exc:
                raise gr.Error(_named(str(exc), [portrait]), duration=None, print_exception=False) from None
        return portrait

    def render(self, portrait: str | None, text: str, audio: str | None, voice: str, expression: str, size: str,
               captions: bool, progress: gr.Progress = gr.Progress()) -> str:  # noqa: B008 (Gradio's way)
        """The video's path; gr.Error with the reason when it cannot be made, or another is being made."""
        if not self._one_at_a_time.acquire(blocking=False):
            raise gr.Error(BUSY, duration=None, print_exception=False)
        try:
            return self._render(portrait, text, audio, voice, expression, size, captions, progress)
        finally:
            self._one_at_a_time.release()

    def _render(self, portrait: str | None, text: str, audio: str | None, voice: str, expression: str, size: str,
                captions: bool, progress: gr.Progress) -> str:
        uploads = [p for p in (portrait, audio) if p]
        try:
            if audio and text.strip():
                raise RenderInputError(BOTH)
            args = argparse.Namespace(
                profile=self.options.profile, config=self.options.config, overrides=self.options.overrides,
                out=self.videos / time.strftime(f"kiosk-%Y%m%d-%H%M%S-{secrets.token_hex(2)}.mp4"),
                portrait=portrait, voice=None if voice == BY_LANGUAGE else voice, size=size, fps=None,
                captions=captions, seed=None,
                expression=None if expression == AS_WRITTEN else expression,
                text=None if audio else text, text_file=None, audio=Path(audio) if audio else None)
            job = render_inputs.job(args)
            for note in job.notes:
                gr.Warning(_named(note, uploads))
            progress(0, desc="loading the portrait and the voice")
            with OfflineRender(job.config, job.out, voice=job.audio is None) as render:
                doing = "speaking" if job.audio is None else "lip-syncing"
                shown = -1.0

                def report(share: float) -> None:
                    nonlocal shown
                    if share - shown >= PROGRESS_STEP:
                        shown = share
                        progress(share, desc=f"{doing}: {render.frames / render.fps:.1f} s of video")

                done = perform(render, job, report)
        except (RenderInputError, ConfigError, ModelError, PortraitError) as exc:
            raise gr.Error(_named(str(exc), uploads), duration=None, print_exception=False) from None
        except Exception as exc:  # the render has removed what it wrote: the reason, not a traceback
            log.exception("the render failed")
            raise gr.Error(f"The render failed ({exc or type(exc).__name__}): nothing written.",
                           duration=None, print_exception=False) from None
        log.info("rendered %.1f s of video in %.1f s after %.1f s loading: %s", done.video_s, done.render_s,
                 done.setup_s, done.path)
        return str(done.path)

    def status(self) -> tuple[str, Image.Image | None]:
        """The kiosk's status as Markdown and its screen now; without a kiosk, why not and no picture."""
        try:
            status, fps, png = self.api.look()
        except KioskUnreachable as exc:
            return str(exc), None
        return summary(status, fps), Image.open(io.BytesIO(png))


def _named(message: str, uploads: list[str]) -> str:
    """The message with each upload's path in the studio's folder put as the name the visitor gave it."""
    for path in uploads:
        message = message.replace(path, Path(path).name)
    return message


def page(studio: Studio) -> gr.Blocks:
    """The studio's page: its two tabs, wired to `studio`."""
    with gr.Blocks(title="kioskd studio", analytics_enabled=False, delete_cache=(KEEP_S // 6, KEEP_S)) as blocks:
        # No "share" button anywhere: Gradio's posts to Hugging Face.
        with gr.Tab("Make a video"), gr.Row():
            with gr.Column():
                # A file box, not an image box: Gradio would open the photo first and fail on a huge or
                # unreadable one with Pillow's words; the render's checks give their own, as the CLI does.
                with gr.Row(equal_height=True):
                    portrait = gr.File(label="Portrait photo (none: the kiosk's own, the astronaut)",
                                       file_types=["image"], type="filepath", elem_id="portrait")
                    preview = gr.Image(label="Portrait", interactive=False, buttons=["fullscreen"], height=240,
                                       elem_id="preview")
                text = gr.Textbox(label=f"Text to say (at most {MAX_TEXT_CHARS:,} characters)", lines=4,
                                  max_lines=12, elem_id="text")
                audio = gr.Audio(label="…or a recording for the mouth to follow (then no text)", type="filepath",
                                 sources=["upload"], buttons=[], elem_id="audio")
                voice = gr.Dropdown(studio.voices(), value=BY_LANGUAGE, label="Voice", elem_id="voice")
                expression = gr.Radio([AS_WRITTEN, *(m.value for m in Mood)], value=AS_WRITTEN, label="Expression",
                                      elem_id="expression")
                size = gr.Radio(SIZES, value=studio.default_size(), label="Size (pixels)", elem_id="size")
                captions = gr.Checkbox(False, label="Captions", elem_id="captions")
                button = gr.Button("Render", variant="primary", elem_id="render")
            with gr.Column():
                video = gr.Video(label="Video", interactive=False, buttons=["download"], elem_id="video")
        with gr.Tab("Kiosk status") as status_tab:
            gr.Markdown(f"The kiosk's HTTP API: {studio.api.url or 'off (api.listen: null)'}")
            refresh = gr.Button("Refresh", elem_id="refresh")
            report = gr.Markdown(elem_id="report")
            screen = gr.Image(label="The kiosk's screen", type="pil", format="png", interactive=False,
                              buttons=["download", "fullscreen"], elem_id="screen")
        portrait.change(studio.preview, portrait, preview, api_visibility="private")
        # The lock in Studio.render, not Gradio's queue, keeps renders one at a time: a second request is
        # told at once that the studio is busy instead of waiting unseen behind a long render.
        button.click(studio.render, [portrait, text, audio, voice, expression, size, captions], video,
                     api_name="render", concurrency_limit=None)
        refresh.click(studio.status, None, [report, screen], api_name="status")
        status_tab.select(studio.status, None, [report, screen], api_visibility="private")
    return blocks
