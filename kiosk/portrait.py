"""The avatar's portrait: the embedded astronaut or a user's photo, checked for a face, with its landmarks."""

from __future__ import annotations

import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from models.face_landmarks import FaceLandmarker, NoFaceError

EMBEDDED_ASTRONAUT = "embedded:astronaut"
MAX_SIDE = 4096
MIN_FACE_PX = 96  # brow to chin: below it the mouth and eyes are too few pixels to move convincingly
FACE_SHARE = 0.42  # of the screen height taken by the face (brow to chin): a conversation, not a passport photo


class PortraitError(ValueError):
    """The portrait cannot be used; the message names the file and the reason."""


@dataclass(frozen=True)
class Portrait:
    rgb: np.ndarray
    landmarks: np.ndarray  # (468, 2) pixels
    notes: tuple[str, ...] = ()  # what the kiosk should say about it (several faces in the photo)

    def scaled(self, size: tuple[int, int]) -> Portrait:
        """This portrait resized to (width, height), landmarks scaled with it."""
        h, w = self.rgb.shape[:2]
        rgb = cv2.resize(self.rgb, size, interpolation=cv2.INTER_AREA if size[0] < w else cv2.INTER_CUBIC)
        return Portrait(rgb, self.landmarks * np.array([size[0] / w, size[1] / h], np.float32))


    def framed(self, aspect: float, face_share: float = FACE_SHARE) -> Portrait:
        """Head-and-shoulders crop for a screen of this width/height ratio: the face-mesh takes about
        `face_share` of the height, a little above the middle, as far as the photo reaches."""
        h_img, w_img = self.rgb.shape[:2]
        lo, hi = self.landmarks.min(axis=0), self.landmarks.max(axis=0)
        h = min(float(hi[1] - lo[1]) / face_share, h_img)
        w = min(h * aspect, w_img)
        h = min(h, w / aspect)
        cx, cy = float(lo[0] + hi[0]) / 2, float(lo[1] + hi[1]) / 2
        left = round(min(max(cx - w / 2, 0), w_img - w))
        top = round(min(max(cy - 0.45 * h, 0), h_img - h))
        rgb = np.ascontiguousarray(self.rgb[top : top + int(h), left : left + int(w)])
        return Portrait(rgb, self.landmarks - np.array([left, top], np.float32))


def read_image(setting: str) -> np.ndarray:
    if setting == EMBEDDED_ASTRONAUT:
        from skimage import data

        return np.ascontiguousarray(data.astronaut())
    path = Path(setting).expanduser()
    if not path.is_file():
        raise PortraitError(f"portrait {path}: no such file")
    check_size(path)
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise PortraitError(f"portrait {path}: not a readable image (PNG, JPEG, BMP, TIFF or WebP expected)")
    _refuse_over(path, bgr.shape[1], bgr.shape[0])  # a format only OpenCV knows has its size checked decoded
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def check_size(path: Path) -> None:
    """Refuse an image over MAX_SIDE from its header alone: decoded, a 30,000-pixel square takes 2.7 GB.
    A file Pillow cannot identify passes, for OpenCV to read or refuse."""
    try:
        with warnings.catch_warnings():
            # Pillow warns (and over twice that, refuses) above its own limit, far over ours: either way too large.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                width, height = image.size
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise PortraitError(f"portrait {path}: over {Image.MAX_IMAGE_PIXELS:,} pixels is too large "
                            f"(at most {MAX_SIDE} pixels a side)") from None
    except (UnidentifiedImageError, OSError):
        return
    _refuse_over(path, width, height)


def _refuse_over(path: Path, width: int, height: int) -> None:
    if max(width, height) > MAX_SIDE:
        raise PortraitError(f"portrait {path}: {width}x{height} pixels is too large (at most {MAX_SIDE} pixels a side)")


def load(setting: str) -> Portrait:
    """The portrait a config names, checked: an image, with a face big enough to animate. A photo with
    several faces animates the largest, and says so in `notes`."""
    rgb = read_image(setting)
    marker = FaceLandmarker()
    try:
        found = marker.faces(rgb) if min(rgb.shape[:2]) >= 32 else []
        landmarks = marker.landmarks(rgb, found[0] if found else None)  # without one: says why there is none
    except NoFaceError as exc:
        raise PortraitError(f"portrait {setting}: {exc}") from None
    height = float(np.ptp(landmarks[:, 1]))
    if height < MIN_FACE_PX:
        raise PortraitError(f"portrait {setting}: the face is {height:.0f} pixels tall, too small to animate "
                            f"(at least {MIN_FACE_PX}: use a closer or larger photo)")
    notes = (f"portrait {setting}: {len(found)} faces in the photo, animating the largest",) if len(found) > 1 else ()
    return Portrait(rgb, landmarks, notes)


def main(argv: list[str] | None = None) -> int:
    """`python -m kiosk.portrait SETTING`: check a portrait as the kiosk would load it (kioskctl validate
    and a reload run this in a process of their own, keeping the landmark model out of the supervisor)."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m kiosk.portrait IMAGE|embedded:astronaut", file=sys.stderr)
        return 2
    try:
        portrait = load(args[0])
    except PortraitError as exc:
        print(exc, file=sys.stderr)
        return 1
    for note in portrait.notes:
        print(note)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
