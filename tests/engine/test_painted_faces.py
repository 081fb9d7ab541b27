"""The painted-face classifier (second stage of the painting path): shipped weights, offline, no ../shared."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from animation.engine import painted_faces
from animation.engine.faces import detect_faces, find_faces
from testkit.media import PAINTINGS


def test_the_shipped_weights_load_with_numpy_alone_and_are_small():
    assert painted_faces.CNN_PATH.is_file()
    assert painted_faces.CNN_PATH.stat().st_size < 2_000_000
    model = painted_faces._load()
    assert model.size >= 24 and len(model.convs) >= 4
    out = model.logits(np.zeros((2, model.size, model.size, 3), np.float32))
    assert out.shape == (2,) and np.all(np.isfinite(out))


@pytest.mark.parametrize("painting", PAINTINGS, ids=lambda p: p.stem)
def test_it_is_sure_of_each_demo_portraits_face_and_not_of_its_background(painting):
    image, faces = find_faces(painting)
    rgb = np.ascontiguousarray(image[:, :, ::-1])
    x, y, w, h = faces[0].box
    face = np.array([x, y, x + w, y + h], float)
    height, width = rgb.shape[:2]
    # A corner of the picture far from the face, at the face's size.
    side = min(w, h, width // 4, height // 4)
    corner = (
        np.array([0, 0, side, side], float)
        if x + y > side * 2
        else np.array([width - side, height - side, width, height], float)
    )
    face_p, corner_p = painted_faces.face_probabilities(rgb, [face, corner])
    assert face_p > 0.5, face_p
    assert face_p > corner_p


def test_it_keeps_every_face_of_a_synthetic_scroll_with_and_without_the_classifier():
    portraits = [cv2.imread(str(p)) for p in PAINTINGS]
    scroll = np.full((600, 2400, 3), (196, 214, 226), np.uint8)
    rng = np.random.default_rng(3)
    for _ in range(60):  # ink streaks: the classifier must not turn them into faces
        x0, y0 = int(rng.integers(0, 2400)), int(rng.integers(0, 600))
        cv2.line(
            scroll, (x0, y0), (x0 + int(rng.integers(-200, 200)), y0 + int(rng.integers(-150, 150))), (40, 40, 40), 3
        )
    sizes = [300, 120, 220, 90, 160]
    x = 60
    for portrait, size in zip(portraits, sizes, strict=True):
        scroll[120 : 120 + size, x : x + size] = cv2.resize(portrait, (size, size), interpolation=cv2.INTER_AREA)
        x += size + 160
    new = detect_faces(scroll, cnn=True)
    old = detect_faces(scroll)
    assert len(new) == len(sizes), [f.box for f in new]
    assert len(old) == len(sizes)
    widths = [face.box[2] for face in new]
    assert widths == sorted(widths, reverse=True)
