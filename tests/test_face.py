"""Portrait, landmarks and rig on the real astronaut: the mouth moves with the viseme, the eyes blink,
a faceless or corrupt image is refused."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from kiosk.portrait import Portrait, PortraitError
from kiosk.portrait import load as load_portrait
from kiosk.rig import EYES, FaceRig, Pose


@pytest.fixture(scope="module")
def astronaut() -> Portrait:
    return load_portrait("embedded:astronaut")


@pytest.fixture(scope="module")
def rig(astronaut: Portrait) -> FaceRig:
    return FaceRig(astronaut.rgb, astronaut.landmarks)


def test_landmarks_land_on_the_face(astronaut: Portrait) -> None:
    lm = astronaut.landmarks
    # The astronaut's face is in the upper middle of the 512x512 image (Eileen Collins, NASA).
    x0, y0 = lm.min(axis=0)
    x1, y1 = lm.max(axis=0)
    assert 150 < x0 < 230 and 250 < x1 < 330
    assert 50 < y0 < 130 and 170 < y1 < 250
    # Mouth below the eyes, nose between.
    assert lm[13, 1] > lm[1, 1] > lm[159, 1]


def mouth_crop(rig: FaceRig, img: np.ndarray) -> np.ndarray:
    x0, y0, x1, y1 = rig.mouth_box()
    return img[y0:y1, x0:x1].astype(np.int16)


def test_open_and_closed_visemes_differ_in_the_mouth(rig: FaceRig) -> None:
    closed = mouth_crop(rig, rig.render(Pose(jaw=0.0)).copy())
    opened = mouth_crop(rig, rig.render(Pose(jaw=0.9)).copy())
    assert np.abs(opened - closed).mean() > 8
    # The open mouth shows the dark interior.
    assert opened.mean() < closed.mean() - 5


def test_open_mouth_keeps_the_photos_teeth_around_a_shaded_interior(rig: FaceRig, astronaut: Portrait) -> None:
    """The astronaut smiles with her teeth showing. Opening the jaw must carry the upper teeth with the upper
    lip unstretched, and show a shaded inside with a tongue, not a flat dark slab (as it once did)."""
    lm = astronaut.landmarks
    top, bottom = lm[13], lm[14]  # inner lips on the centre line
    gap = bottom[1] - top[1]
    centre = (lm[78, 0] + lm[308, 0]) / 2
    middle = slice(int(centre - (lm[308, 0] - lm[78, 0]) / 4), int(centre + (lm[308, 0] - lm[78, 0]) / 4))
    pose = Pose(jaw=0.9)
    opened = rig.render(pose).astype(float)
    moved = rig.moved_landmarks(pose)
    lift = round(moved[13, 1] - top[1])
    rows = slice(round(top[1]) + 1, round(top[1] + 0.5 * gap))
    teeth = astronaut.rgb[rows, middle].astype(float)
    assert teeth.mean() > 150
    carried = opened[rows.start + lift : rows.stop + lift, middle]
    assert np.abs(carried - teeth).mean() < 20  # a stretching warp read 41

    x = round(centre)
    column = opened[int(moved[13, 1]) + 1 : int(moved[14, 1]), x - 3 : x + 4].mean(axis=(1, 2))
    assert len(column) > 2.5 * gap  # really wider open than the photo
    darkest = float(column.min())
    assert darkest < 60
    assert ((column > 1.5 * darkest) & (column < 140)).sum() >= 3  # the tongue's shades; a slab had none


def test_rest_pose_is_the_photo_but_for_the_iris_rims(rig: FaceRig, astronaut: Portrait) -> None:
    """The irises are drawn back over a rebuilt white of the eye: only their soft rims differ at rest."""
    diff = np.abs(rig.render(Pose()).astype(int) - astronaut.rgb).max(axis=2)
    eyes = np.zeros(diff.shape, bool)
    for upper, lower, _ in EYES:
        lo, hi = astronaut.landmarks[upper + lower].min(axis=0), astronaut.landmarks[upper + lower].max(axis=0)
        x0, y0 = (lo - 0.3 * (hi[0] - lo[0])).astype(int)
        x1, y1 = (hi + 0.3 * (hi[0] - lo[0])).astype(int)
        eyes[y0:y1, x0:x1] = True
    assert diff[~eyes].max() <= 1
    assert diff[eyes].mean() < 2.0


def test_blink_closes_the_eyes_only(rig: FaceRig, astronaut: Portrait) -> None:
    shut = rig.render(Pose(blink=1.0)).copy()
    diff = np.abs(shut.astype(int) - astronaut.rgb).sum(axis=2)
    eye_pts = np.vstack([astronaut.landmarks[u + lo] for u, lo, _ in EYES])
    top = int(eye_pts[:, 1].min()) - 8
    bottom = int(eye_pts[:, 1].max()) + 8
    assert diff[top:bottom].sum() > 0.9 * diff.sum()
    assert diff[top:bottom].mean() > 1


def test_faceless_image_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "wall.png"
    rng = np.random.default_rng(1)
    cv2.imwrite(str(path), cv2.GaussianBlur(rng.integers(0, 255, (400, 400, 3), np.uint8), (31, 31), 0))
    with pytest.raises(PortraitError, match=r"wall\.png: .*face"):
        load_portrait(str(path))


def test_corrupt_image_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "me.jpg"
    path.write_bytes(b"\xff\xd8\xff\xe0 truncated")
    with pytest.raises(PortraitError, match=r"me\.jpg: not a readable image"):
        load_portrait(str(path))
