"""Face detection and 468-point face-mesh landmarks on a still portrait.

Runs MediaPipe's BlazeFace short-range detector and face-landmark model (Apache-2.0 .tflite files shipped
in the mediapipe 0.10.21 wheel) on LiteRT. Detection finds the face box and eye keypoints; the landmark
model runs on a square crop rotated upright along the eye line, refined once from its own landmarks.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np
from ai_edge_litert.interpreter import Interpreter

from models.registry import package_dir

DETECT_SIZE = 128
MESH_SIZE = 192
MIN_SCORE = 0.5
NMS_IOU = 0.3  # detections overlapping more than this are one face


class Found(NamedTuple):
    """A detected face: box (cx, cy, w, h) and keypoints (6, 2) in image pixels."""

    box: np.ndarray
    keypoints: np.ndarray


class NoFaceError(ValueError):
    """The image holds no face the models can find."""


def _module_file(*parts: str) -> Path:
    return package_dir("mediapipe").joinpath("modules", *parts)


def _anchors() -> np.ndarray:
    """SSD anchor centres of BlazeFace short range: 16x16 cells x 2 (stride 8) + 8x8 cells x 6 (stride 16)."""
    rows = []
    for grid, per_cell in ((16, 2), (8, 6)):
        for y in range(grid):
            for x in range(grid):
                rows.extend([((x + 0.5) / grid, (y + 0.5) / grid)] * per_cell)
    return np.array(rows, np.float32)


class FaceLandmarker:
    def __init__(self) -> None:
        self._detector = self._load(_module_file("face_detection", "face_detection_short_range.tflite"))
        self._mesh = self._load(_module_file("face_landmark", "face_landmark.tflite"))
        self._anchors = _anchors()

    @staticmethod
    def _load(path: Path) -> Interpreter:
        interp = Interpreter(model_path=str(path), num_threads=1)
        interp.allocate_tensors()
        return interp

    @staticmethod
    def _run(interp: Interpreter, x: np.ndarray) -> list[np.ndarray]:
        interp.set_tensor(interp.get_input_details()[0]["index"], x[None].astype(np.float32))
        interp.invoke()
        outs = sorted(interp.get_output_details(), key=lambda d: int(np.prod(d["shape"])), reverse=True)
        return [interp.get_tensor(d["index"]) for d in outs]

    def _detect(self, rgb: np.ndarray) -> tuple[list[Found], float]:
        """The detector's faces (overlapping detections of one face once), and its best score."""
        h, w = rgb.shape[:2]
        side = max(h, w)
        square = np.zeros((side, side, 3), np.uint8)
        oy, ox = (side - h) // 2, (side - w) // 2
        square[oy : oy + h, ox : ox + w] = rgb
        x = cv2.resize(square, (DETECT_SIZE, DETECT_SIZE), interpolation=cv2.INTER_AREA) / 127.5 - 1.0
        boxes, scores = self._run(self._detector, x)
        scores = 1.0 / (1.0 + np.exp(-np.clip(scores.reshape(-1), -80, 80)))
        raw = boxes.reshape(-1, 16) / DETECT_SIZE
        centres = raw[:, 0:2] + self._anchors
        keypoints = raw[:, 4:16].reshape(-1, 6, 2) + self._anchors[:, None]
        to_px, shift = np.float32(side), np.array([ox, oy], np.float32)
        keep = np.flatnonzero(scores >= MIN_SCORE).tolist()
        rects = [[*(centres[i] - raw[i, 2:4] / 2).tolist(), *raw[i, 2:4].tolist()] for i in keep]
        found = []
        for k in np.asarray(cv2.dnn.NMSBoxes(rects, [float(scores[i]) for i in keep], 0.0, NMS_IOU)).reshape(-1):
            i = keep[int(k)]
            box = np.concatenate([centres[i] * to_px - shift, raw[i, 2:4] * to_px])
            found.append(Found(box, keypoints[i] * to_px - shift))
        return found, float(scores.max())

    def faces(self, rgb: np.ndarray) -> list[Found]:
        """Every face in the image, largest first: found by the detector and confirmed by the landmark
        model (the detector alone also fires on a chin or a pattern now and then)."""
        return self._confirmed(rgb, self._detect(rgb)[0])

    def _confirmed(self, rgb: np.ndarray, found: list[Found]) -> list[Found]:
        return sorted((f for f in found if self._mesh_on(rgb, *_crop(f))[1] >= MIN_SCORE),
                      key=lambda f: -f.box[2] * f.box[3])

    def _mesh_on(self, rgb: np.ndarray, centre: np.ndarray, size: float, angle: float) -> tuple[np.ndarray, float]:
        cos, sin = math.cos(angle), math.sin(angle)
        rot = np.array([[cos, -sin], [sin, cos]], np.float32)
        scale = size / MESH_SIZE
        # Maps crop pixels to image pixels (used inverse by warpAffine, forward for the landmarks).
        m = np.hstack([rot * scale, (centre - rot @ np.array([size / 2, size / 2], np.float32))[:, None]])
        crop = cv2.warpAffine(rgb, m, (MESH_SIZE, MESH_SIZE), flags=cv2.WARP_INVERSE_MAP | cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_CONSTANT)
        mesh, flag = self._run(self._mesh, crop / 255.0)
        pts = mesh.reshape(468, 3)[:, :2]
        score = 1.0 / (1.0 + math.exp(-float(flag.reshape(-1)[0])))
        return pts @ m[:, :2].T + m[:, 2], score

    def landmarks(self, rgb: np.ndarray, face: Found | None = None) -> np.ndarray:
        """(468, 2) landmark pixel positions of a face found by `faces` (by default the largest);
        NoFaceError when there is none."""
        if rgb.ndim != 3 or rgb.shape[2] != 3 or min(rgb.shape[:2]) < 32:
            raise NoFaceError(f"need an RGB image of at least 32x32 pixels, got shape {rgb.shape}")
        if face is None:
            found, best = self._detect(rgb)
            if not found:
                raise NoFaceError(f"no face found (best detection score {best:.2f}, need {MIN_SCORE})")
            confirmed = self._confirmed(rgb, found)
            if not confirmed:
                raise NoFaceError("the landmark model does not see a face where the detector found one")
            face = confirmed[0]
        pts, _ = self._mesh_on(rgb, *_crop(face))
        # Refine once on a crop centred on the landmarks themselves, as MediaPipe's tracker does.
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        angle = math.atan2(pts[263, 1] - pts[33, 1], pts[263, 0] - pts[33, 0])
        pts, mesh_score = self._mesh_on(rgb, (lo + hi) / 2, float(max(hi - lo) * 1.5), angle)
        if mesh_score < MIN_SCORE:
            raise NoFaceError(f"the landmark model does not see a face there (score {mesh_score:.2f})")
        return pts.astype(np.float32)


def _crop(face: Found) -> tuple[np.ndarray, float, float]:
    """The landmark model's crop around a detected face: centre, side, and the eye line's angle."""
    angle = math.atan2(face.keypoints[1, 1] - face.keypoints[0, 1], face.keypoints[1, 0] - face.keypoints[0, 0])
    return face.box[:2], float(max(face.box[2], face.box[3]) * 1.5), angle
