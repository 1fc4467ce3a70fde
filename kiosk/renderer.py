"""The screen: a pygame display (fullscreen, window or offscreen) showing the face, captions and status."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import cv2
import numpy as np
import pygame

from kiosk.captions import CaptionFont, wrap

log = logging.getLogger("kioskd.face")
BACKGROUND = (18, 22, 30)
CAPTION_BG = (0, 0, 0, 150)


def _open(mode: str, size: tuple[int, int]) -> pygame.Surface:
    if mode == "offscreen":
        # SDL's "offscreen" driver copies every flip into a window framebuffer nobody sees (milliseconds
        # a frame, on cores shared with the brain); "dummy" flips for free, and
        # what was drawn is read from the surface itself.
        os.environ["SDL_VIDEODRIVER"] = "dummy"
    pygame.display.init()
    if mode == "fullscreen":
        surface = pygame.display.set_mode((0, 0), pygame.FULLSCREEN)
        pygame.mouse.set_visible(False)
    else:
        surface = pygame.display.set_mode(size)
    pygame.display.set_caption("kioskd")
    return surface


class Screen:
    def __init__(self, mode: str, size: tuple[int, int]) -> None:
        try:
            self.surface = _open(mode, size)
        except pygame.error as exc:
            if mode == "offscreen":
                raise
            log.error("cannot open a %s display (%s): rendering offscreen instead", mode, exc)
            pygame.display.quit()
            self.surface = _open("offscreen", size)
            mode = "offscreen"
        self.mode = mode
        self.size = self.surface.get_size()
        pygame.font.init()
        self._caption_font = CaptionFont(max(18, self.size[1] // 18))
        self._caption: tuple[str, list[pygame.Surface], int] | None = None  # the caption laid out: text, lines, height
        self._status_font = pygame.font.Font(None, max(14, self.size[1] // 30))
        self._texts: tuple[str, str] | None = None  # the caption and status on screen
        self._dirty = self.surface.get_rect()  # what the next present sends

    def portrait_rect(self, portrait_size: tuple[int, int]) -> pygame.Rect:
        """Where the portrait goes: as large as fits, centred."""
        pw, ph = portrait_size
        scale = min(self.size[0] / pw, self.size[1] / ph)
        w, h = int(pw * scale) & ~1, int(ph * scale) & ~1
        return pygame.Rect((self.size[0] - w) // 2, (self.size[1] - h) // 2, w, h)

    def draw(self, face: np.ndarray, at: pygame.Rect, caption: str, status: str,
             changed: tuple[int, int, int, int] | None = None) -> None:
        """Draw the face at `at`, the caption and the status line. `changed` (x0, y0, x1, y1 in the face's
        pixels) is the only part of the face that can differ from the frame before: while the texts stay
        the same, only it is drawn and sent to the display (a 1080p screen costs milliseconds a frame to
        send whole)."""
        texts = (caption, status)
        if changed is None or texts != self._texts:
            self._texts = texts
            self.surface.fill(BACKGROUND)
            self._dirty = self.surface.get_rect()
            changed = (0, 0, face.shape[1], face.shape[0])
        else:
            self._dirty = pygame.Rect(at.x + changed[0], at.y + changed[1], changed[2] - changed[0],
                                      changed[3] - changed[1])
        x0, y0, x1, y1 = changed
        part = np.ascontiguousarray(face[y0:y1, x0:x1])
        self.surface.set_clip(self._dirty)
        self.surface.blit(pygame.image.frombuffer(part, (x1 - x0, y1 - y0), "RGB"), (at.x + x0, at.y + y0))
        if caption:
            self._draw_caption(caption)
        if status:
            text = self._status_font.render(status, True, (255, 210, 120))
            self._band(0, text.get_height() + 16)
            self.surface.blit(text, (12, 8))
        self.surface.set_clip(None)

    @property
    def texts(self) -> tuple[str, str] | None:
        """The caption and status line on screen."""
        return self._texts

    def asleep(self, note: str) -> None:
        """A dark screen outside opening hours, with a dim line saying when the kiosk opens."""
        self._texts = ("", note)
        self.surface.fill((0, 0, 0))
        text = self._status_font.render(note, True, (70, 70, 70))
        self.surface.blit(text, ((self.size[0] - text.get_width()) // 2, self.size[1] - text.get_height() - 16))
        self._dirty = self.surface.get_rect()

    def _draw_caption(self, caption: str) -> None:
        if self._caption is None or self._caption[0] != caption:
            # Laid out once per caption: it is drawn again every frame (clipped to what changed).
            width_of, render, line_h = self._caption_font.for_text(caption)
            self._caption = (caption, [render(line) for line in wrap(caption, width_of, int(self.size[0] * 0.9))],
                             line_h)
        _, images, line_h = self._caption
        band_h = line_h * len(images) + line_h // 2
        top = self.size[1] - band_h
        self._band(top, band_h)
        for i, img in enumerate(images):
            self.surface.blit(img, ((self.size[0] - img.get_width()) // 2, top + line_h // 4 + i * line_h))

    def _band(self, top: int, height: int) -> None:
        """A translucent dark strip across the screen, so text stays readable over any photo."""
        band = pygame.Surface((self.size[0], height), pygame.SRCALPHA)
        band.fill(CAPTION_BG)
        self.surface.blit(band, (0, top))

    def present(self) -> None:
        """Send what `draw` changed to the display."""
        pygame.event.pump()
        pygame.display.update(self._dirty)
        self._dirty = pygame.Rect(0, 0, 0, 0)  # sent: until something is drawn again, nothing to send

    def bgrx(self) -> np.ndarray:
        """A copy of what the screen shows now, (h, w, 4) uint8 in B, G, R, unused order. The usual 32-bit
        surface already holds that: copied straight from its memory (a view would keep it locked)."""
        w, h = self.size
        s = self.surface
        if s.get_bytesize() == 4 and s.get_masks()[:3] == (0xFF0000, 0xFF00, 0xFF):
            return np.frombuffer(s.get_buffer(), np.uint8).reshape(h, s.get_pitch() // 4, 4)[:, :w].copy()
        return np.frombuffer(pygame.image.tobytes(s, "BGRA"), np.uint8).reshape(h, w, 4)

    def save_png(self, path: Path) -> threading.Thread:
        """What the screen shows now as a PNG at `path`. The pixels are copied now (about a millisecond);
        encoding them (~65 ms at 960x540, two lost frames) happens in a thread, written beside the file and
        renamed so a reader never sees half of one. A failure is logged."""
        frame = np.ascontiguousarray(self.bgrx()[:, :, :3])
        writer = threading.Thread(target=_write_png, args=(frame, path), name="screenshot", daemon=True)
        writer.start()
        return writer

    def close(self) -> None:
        pygame.display.quit()


def _write_png(bgr: np.ndarray, path: Path) -> None:
    part = path.with_name(f".{path.stem}.part.png")  # OpenCV picks the format by the suffix
    try:
        if not cv2.imwrite(str(part), bgr):
            raise OSError(f"cannot write {part}")
        os.chmod(part, 0o640)  # for an operator in kioskd's group, whatever the service's umask
        os.replace(part, path)
    except OSError as exc:
        log.error("screenshot to %s failed: %s", path, exc)
