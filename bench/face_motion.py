"""Head and eye motion measured on a recording of the face, from its pixels alone.

The face is found again in the first frame with the landmark model (nothing is read from the renderer).
The head's motion is the similarity transform (shift, roll, scale) that carries features of the hair,
forehead and nose of the first frame to where optical flow finds them in each frame: those parts move
only with the head, not with the brows, eyes or mouth. The eyes are followed inside their openings
carried by that transform: an iris is the dark part of the opening, its position the centroid of the
dark pixels relative to the opening's centre, in eye widths; how much dark is left shows a blink.
Saccades are the frames where the iris jumps, fixations the time between them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np

from models.face_landmarks import FaceLandmarker

# MediaPipe face-mesh indices: each eye's opening (outer corner, upper lid, inner corner, lower lid).
EYE_RINGS = (
    [33, 246, 161, 160, 159, 158, 157, 173, 133, 155, 154, 153, 145, 144, 163, 7],
    [263, 466, 388, 387, 386, 385, 384, 398, 362, 382, 381, 380, 374, 373, 390, 249],
)
BROW_TOPS = [70, 63, 105, 66, 107, 336, 296, 334, 293, 300]
NOSE = [6, 197, 195, 5, 4, 1]
SACCADE_EW = 0.012  # an iris jump of this many eye widths across two frames is a saccade (still: ~0.002)
BLINK_MARGIN = 3  # frames either side of a blink in which the lids still move
BLINK_DARK = 0.75  # an eye showing less than this share of its first frame's dark pixels is shut (the lid's lashes stay dark)


@dataclass(frozen=True)
class Track:
    fps: float
    face_height: float  # pixels, brow to chin in the first frame
    shift: np.ndarray  # (n, 2) pixels: the head's centre, relative to the first frame
    roll: np.ndarray  # (n,) degrees, clockwise on screen
    gaze: np.ndarray  # (n, 2) eye widths, both eyes averaged: x to the portrait's right, y down
    dark: np.ndarray  # (n,) the eyes' dark pixels, as a share of the first frame's


def decode(record: Path, start_s: float = 0.0, stop_s: float | None = None) -> tuple[list[np.ndarray], float]:
    """The RGB frames of a recording between two times, and its frame rate."""
    with av.open(str(record)) as c:
        fps = float(c.streams.video[0].average_rate)
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    first = round(start_s * fps)
    return frames[first : None if stop_s is None else round(stop_s * fps)], fps


def track(frames: list[np.ndarray], fps: float) -> Track:
    lm = FaceLandmarker().landmarks(frames[0])
    face_height = float(np.ptp(lm[:, 1]))
    first = cv2.cvtColor(frames[0], cv2.COLOR_RGB2GRAY)
    mask = _rigid_parts(first.shape, lm, face_height)
    p0 = cv2.goodFeaturesToTrack(first, maxCorners=120, qualityLevel=0.01, minDistance=4, mask=mask)
    if p0 is None or len(p0) < 8:
        raise ValueError("too few features on the head to follow it")
    centre = lm.mean(axis=0)
    eyes = [lm[ring] for ring in EYE_RINGS]
    widths = [float(np.linalg.norm(e[0] - e[8])) for e in eyes]
    cuts = [_dark_level(first, e) for e in eyes]
    shift, roll, gaze, dark = [], [], [], []
    base = None
    for frame in frames:
        grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
        p1, ok, _ = cv2.calcOpticalFlowPyrLK(first, grey, p0, None, winSize=(21, 21), maxLevel=3)
        good = ok.ravel() == 1
        m, _ = cv2.estimateAffinePartial2D(p0[good], p1[good], method=cv2.LMEDS)
        shift.append(m[:, :2] @ centre + m[:, 2] - centre)
        roll.append(np.degrees(np.arctan2(m[1, 0], m[0, 0])))
        at, count = [], 0
        for eye, width, cut in zip(eyes, widths, cuts, strict=True):
            moved = eye @ m[:, :2].T + m[:, 2]
            xy, n = _dark_centroid(grey, moved, cut)
            count += n
            at.append((xy - moved.mean(axis=0)) / width if n else (np.nan, np.nan))
        base = base or count
        gaze.append(np.nanmean(at, axis=0))
        dark.append(count / max(base, 1))
    return Track(fps, face_height, np.array(shift), np.array(roll), np.array(gaze), np.array(dark))


def summary(t: Track) -> dict[str, Any]:
    """Motion figures: head amplitudes in face heights and degrees, its largest step between frames,
    saccades and fixations, blinks."""
    step = np.linalg.norm(np.diff(t.shift, axis=0), axis=1) / t.face_height
    jumps = saccades(t)
    fixations = np.diff(jumps) / t.fps if len(jumps) > 1 else np.array([])
    shut = t.dark < BLINK_DARK
    return {
        "seconds": round(len(t.roll) / t.fps, 2),
        "head_range_fh": [round(float(np.ptp(t.shift[:, k])) / t.face_height, 4) for k in (0, 1)],
        "roll_range_deg": round(float(np.ptp(t.roll)), 2),
        "head_step_max_fh": round(float(step.max()), 4) if len(step) else 0.0,
        "gaze_range_ew": [round(float(np.nanmax(t.gaze[:, k]) - np.nanmin(t.gaze[:, k])), 3) for k in (0, 1)],
        "saccades": len(jumps),
        "fixation_s_median": round(float(np.median(fixations)), 2) if len(fixations) else None,
        "blinks": int(np.count_nonzero(shut[1:] & ~shut[:-1])),
    }


def saccades(t: Track) -> np.ndarray:
    """Frame indices where saccades begin: the iris moves more than SACCADE_EW across two frames (a saccade
    spans one to three), the frames of one saccade counting once. A closing lid moves the dark pixels too,
    so across a blink (big gaze shifts often come with one) the gaze before it is compared with the gaze
    after it instead."""
    g = np.nan_to_num(t.gaze)
    step = np.zeros(len(g))
    step[1:-1] = np.linalg.norm(g[2:] - g[:-2], axis=1)
    blink = np.convolve(t.dark < BLINK_DARK, np.ones(2 * BLINK_MARGIN + 1), mode="same") > 0
    moving = set(np.flatnonzero((step > SACCADE_EW) & ~blink).tolist())
    edges = np.diff(blink.astype(int), prepend=0, append=0)
    for start, stop in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True):
        before, after = g[max(start - 3, 0) : start], g[stop : stop + 3]
        if len(before) and len(after) and np.linalg.norm(after.mean(axis=0) - before.mean(axis=0)) > SACCADE_EW:
            moving.add(int(start))
    frames = np.array(sorted(moving), dtype=int)
    return frames[np.diff(frames, prepend=-10) > 3]


def _rigid_parts(shape: tuple[int, ...], lm: np.ndarray, face_height: float) -> np.ndarray:
    """Where features follow the head alone: hair and forehead above the brows' reach, and the nose."""
    mask = np.zeros(shape[:2], np.uint8)
    lo, hi = lm.min(axis=0), lm.max(axis=0)
    centre = ((lo + hi) / 2 - (0, 0.12 * face_height)).astype(int)
    axes = (int(0.72 * (hi[0] - lo[0])), int(0.78 * face_height))
    cv2.ellipse(mask, tuple(int(v) for v in centre), axes, 0, 0, 360, 255, -1)
    mask[max(int(lm[BROW_TOPS, 1].min() - 0.06 * face_height), 0) :] = 0
    x0, y0 = np.maximum(lm[NOSE].min(axis=0).astype(int) - int(0.03 * face_height), 0)
    x1, y1 = lm[NOSE].max(axis=0).astype(int) + int(0.03 * face_height)
    mask[y0:y1, x0:x1] = 255
    return mask


def _opening(shape: tuple[int, ...], ring: np.ndarray) -> np.ndarray:
    """The eye opening's pixels, less a two-pixel margin (the lashes lie on the lid line)."""
    m = np.zeros(shape[:2], np.uint8)
    cv2.fillPoly(m, [np.round(ring).astype(np.int32)], 255)
    return cv2.erode(m, np.ones((5, 5), np.uint8)) > 0


def _dark_level(grey: np.ndarray, ring: np.ndarray) -> float:
    """Halfway between the opening's white and its iris, in the first frame."""
    values = grey[_opening(grey.shape, ring)]
    return float(np.percentile(values, 15) + np.percentile(values, 90)) / 2


def _dark_centroid(grey: np.ndarray, ring: np.ndarray, cut: float) -> tuple[np.ndarray, int]:
    ys, xs = np.nonzero(_opening(grey.shape, ring) & (grey < cut))
    if len(xs) == 0:
        return np.zeros(2), 0
    return np.array([xs.mean(), ys.mean()]), len(xs)
