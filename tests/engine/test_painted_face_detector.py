"""Our own painted-face detector (issue 21): shipped weights, offline, no ../shared needed."""

from __future__ import annotations

import resource

import cv2
import numpy as np
import pytest

from animation.engine import painted_face_detector
from animation.engine.boxes import iou
from animation.engine.face_paintings import DETECTOR_ACCEPT
from animation.engine.faces import find_faces
from testkit.media import PAINTINGS


def test_the_shipped_weights_load_offline_and_are_small():
    assert painted_face_detector.DETECTOR_PATH.is_file()
    assert painted_face_detector.DETECTOR_PATH.stat().st_size < 5_000_000
    model = painted_face_detector.load()
    assert sum(p.numel() for p in model.parameters()) > 100_000


@pytest.mark.parametrize("painting", PAINTINGS, ids=lambda p: p.stem)
def test_it_finds_each_demo_portraits_face_shrunk_to_a_figures_size(painting):
    """A portrait shrunk on a sheet of paper until its face is the size of a figure's in a scene."""
    image, faces = find_faces(painting)
    x, y, w, h = faces[0].box
    scale = 60 / w
    small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    sheet = np.full((400, 400, 3), (226, 214, 196), np.uint8)
    sheet[40 : 40 + small.shape[0], 60 : 60 + small.shape[1]] = small[: 400 - 40, : 400 - 60]
    face = np.array([x, y, x + w, y + h], float) * scale + [60, 40, 60, 40]
    found = painted_face_detector.detect_on_painting(np.ascontiguousarray(sheet[:, :, ::-1]), smallest=16)
    best = max((iou(box, face) for _, box in found), default=0.0)
    assert best > 0.3, (best, face.round().tolist(), [box.round().tolist() for _, box in found])


@pytest.mark.parametrize("painting", PAINTINGS, ids=lambda p: p.stem)
def test_with_it_on_each_demo_portrait_still_has_its_one_face(painting):
    """At full size the portraits' faces are the photo path's; the detector must not add a collar or a
    curl of hair beside them (what it did before faces pressed against a far larger face were dropped)."""
    _, faces = find_faces(painting)
    assert len(faces) == 1, [face.box for face in faces]


def test_blank_paper_and_ink_streaks_are_not_faces():
    rng = np.random.default_rng(5)
    paper = np.full((480, 640, 3), (226, 214, 196), np.uint8)
    for _ in range(40):
        x0, y0 = int(rng.integers(0, 640)), int(rng.integers(0, 480))
        cv2.line(
            paper, (x0, y0), (x0 + int(rng.integers(-150, 150)), y0 + int(rng.integers(-100, 100))), (40, 40, 40), 3
        )
    found = painted_face_detector.detect_on_painting(paper, smallest=16, min_score=DETECTOR_ACCEPT)
    assert not found, [(round(score, 2), box.round().tolist()) for score, box in found]


def test_a_long_scroll_is_searched_in_pieces_within_memory():
    """A 20,000 x 2,000 scroll: every pasted portrait found, the search in pieces (never the whole
    scroll's activations at once)."""
    portraits = [cv2.imread(str(p)) for p in PAINTINGS]
    scroll = np.full((2000, 20000, 3), (196, 214, 226), np.uint8)
    placed = []
    x = 400
    for index, size in enumerate((700, 420, 560, 360, 480)):
        y = 300 + (index % 3) * 200
        scroll[y : y + size, x : x + size] = cv2.resize(portraits[index % len(portraits)], (size, size))
        placed.append((x, y, size))
        x += size + 3000
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    found = painted_face_detector.detect_on_painting(np.ascontiguousarray(scroll[:, :, ::-1]), smallest=50)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    for x0, y0, size in placed:
        assert any(x0 <= (b[0] + b[2]) / 2 <= x0 + size and y0 <= (b[1] + b[3]) / 2 <= y0 + size for _, b in found), (
            x0,
            [b.round().tolist() for _, b in found],
        )
    assert grown_mb < 800, grown_mb
