"""Faces and landmarks on real paintings; clear errors for files that cannot be used."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import cv2
import numpy as np
import pytest
from PIL import Image

from animation.engine.errors import EngineInputError
from animation.engine.faces import (
    REQUIRED_GROUPS,
    detect_faces,
    face_from_landmarks,
    face_from_mesh,
    find_faces,
    load_painting,
    select_face,
)
from testkit.media import PAINTINGS, REPO


def _inside(points, box, slack):
    x, y, w, h = box
    return np.all((points >= [x - slack, y - slack]) & (points <= [x + w + slack, y + h + slack]))


@pytest.mark.parametrize("painting", PAINTINGS, ids=lambda p: p.stem)
def test_it_finds_the_face_and_its_named_features_on_each_portrait(painting):
    image, faces = find_faces(painting)
    face = faces[0]
    _x, _y, w, _h = face.box
    assert 0.1 * image.shape[1] < w <= image.shape[1]
    for name in REQUIRED_GROUPS:
        assert _inside(face.landmarks[name], face.box, slack=2), name
    left, right = face.landmarks["left_eye"].mean(0), face.landmarks["right_eye"].mean(0)
    mouth, nose = face.landmarks["mouth_outer"].mean(0), face.landmarks["nose_tip"][0]
    # The figure's left eye is on the image's right; eyes above the nose, the nose above the mouth.
    assert left[0] > right[0]
    assert max(left[1], right[1]) < nose[1] < mouth[1]
    assert len(face.landmarks["mouth_outer"]) == 20 and len(face.landmarks["left_eye"]) == 16


def test_it_finds_every_figure_on_a_scroll_even_small_ones(tmp_path):
    portraits = [cv2.imread(str(p)) for p in PAINTINGS]
    scroll = np.full((700, 2600, 3), (150, 170, 190), np.uint8)
    sizes = [330, 90, 240, 70, 160]
    x = 40
    for portrait, size in zip(portraits, sizes, strict=True):
        scroll[150 : 150 + size, x : x + size] = cv2.resize(portrait, (size, size), interpolation=cv2.INTER_AREA)
        x += size + 150
    faces = detect_faces(scroll)
    assert len(faces) == len(sizes)
    assert [face.index for face in faces] == list(range(len(sizes)))
    widths = [face.box[2] for face in faces]
    assert widths == sorted(widths, reverse=True)  # index 0 is the main figure


def test_faces_command_prints_boxes_and_landmarks_in_image_pixels():
    painting = PAINTINGS[0]
    completed = subprocess.run(
        [sys.executable, "-m", "animation.engine", "faces", str(painting), "--json"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        check=True,
    )
    result = json.loads(completed.stdout)
    width, height = Image.open(painting).size
    face = result["faces"][0]
    x, y, w, h = face["box"]
    assert 0 <= x < x + w <= width and 0 <= y < y + h <= height
    assert isinstance(face["score"], float)
    for name in ("left_eye", "right_eye", "mouth_outer", "mouth_inner", "nose_tip", "jaw"):
        assert all(len(point) == 2 for point in face["landmarks"][name])


def test_saved_manual_landmarks_are_accepted_and_bad_ones_are_named():
    image, faces = find_faces(PAINTINGS[0])
    saved = json.loads(json.dumps(faces[0].to_dict()))
    saved["landmarks"]["mouth_outer"] = [[x, y + 3] for x, y in saved["landmarks"]["mouth_outer"]]
    face = face_from_landmarks(saved, image.shape)
    assert np.allclose(face.landmarks["mouth_outer"], np.array(saved["landmarks"]["mouth_outer"]))
    # An editor that only offers a few handles per feature is enough.
    handles = {
        name: saved["landmarks"][name][:: max(1, len(saved["landmarks"][name]) // 8)] for name in REQUIRED_GROUPS
    }
    face_from_landmarks(handles, image.shape)
    del saved["landmarks"]["jaw"]
    with pytest.raises(EngineInputError, match="jaw"):
        face_from_landmarks(saved, image.shape)
    with pytest.raises(EngineInputError, match="outside"):
        face_from_landmarks({**handles, "nose_tip": [[1e6, 5]]}, image.shape)


def test_a_painting_without_a_face_says_so(tmp_path):
    rng = np.random.default_rng(3)
    landscape = cv2.GaussianBlur(rng.integers(0, 255, (300, 400, 3), dtype=np.uint8), (0, 0), 6)
    path = tmp_path / "landscape.png"
    cv2.imwrite(str(path), landscape)
    with pytest.raises(EngineInputError, match="no face found"):
        find_faces(path)


def test_a_face_index_out_of_range_says_how_many_there_are():
    _, faces = find_faces(PAINTINGS[0])
    with pytest.raises(EngineInputError, match=r"face 3 does not exist: the painting has 1 face \(indices 0 to 0\)"):
        select_face(faces, 3)


def test_unusable_image_files_fail_with_a_clear_reason(tmp_path):
    tiny = tmp_path / "tiny.png"
    Image.new("RGB", (1, 1)).save(tiny)
    with pytest.raises(EngineInputError, match="1x1 pixels: too small"):
        load_painting(tiny)

    huge = tmp_path / "huge.png"
    Image.new("RGB", (40_000, 8)).save(huge)
    with pytest.raises(EngineInputError, match="40000x8 pixels: too large"):
        load_painting(huge)

    corrupt = tmp_path / "corrupt.png"
    good = tmp_path / "good.png"
    Image.open(PAINTINGS[0]).save(good)
    data = good.read_bytes()
    corrupt.write_bytes(data[: len(data) // 3])
    with pytest.raises(EngineInputError, match="cannot be read as an image"):
        load_painting(corrupt)

    text = tmp_path / "notes.png"
    text.write_text("not a picture")
    with pytest.raises(EngineInputError, match="cannot be read as an image"):
        load_painting(text)

    with pytest.raises(EngineInputError, match="not found"):
        load_painting(tmp_path / "missing.jpg")


# ---------------------------------------------------------------------------------------------------
# Chinese figure paintings: small, brush-toned faces on paper (the painting path, face_paintings.py)


def _ink_painting(head: int = 90, at: tuple[int, int] = (145, 120)) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """A demo portrait redrawn as brush lines (baimiao) on old paper, small; returns it and its face box.

    mediapipe's photo-trained face graph does not fire on it: only the painting path finds it.
    """
    portrait_path = PAINTINGS[4]
    gray = cv2.cvtColor(cv2.imread(str(portrait_path)), cv2.COLOR_BGR2GRAY)
    lines = cv2.adaptiveThreshold(
        cv2.GaussianBlur(gray, (0, 0), 2), 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, 15, 6
    ).astype(np.float32)
    ink = lines / 255
    toned = np.stack([ink * 200, ink * 222, ink * 238], axis=2).astype(np.uint8)
    figure = cv2.resize(toned, (head, head), interpolation=cv2.INTER_AREA)
    paper = np.empty((460, 330, 3), np.uint8)
    paper[:] = (200, 222, 238)
    rng = np.random.default_rng(1)
    for _ in range(12):  # a few brush strokes of a tree and a rock
        x, y = int(rng.integers(0, 330)), int(rng.integers(330, 460))
        cv2.line(paper, (x, y), (x + int(rng.integers(-60, 60)), y - int(rng.integers(20, 90))), (60, 60, 60), 3)
    x, y = at
    paper[y : y + head, x - head // 2 : x - head // 2 + head] = figure
    _, faces = find_faces(portrait_path)
    fx, fy, fw, fh = faces[0].box
    scale = head / Image.open(portrait_path).size[0]
    box = (round(x - head // 2 + fx * scale), round(y + fy * scale), round(fw * scale), round(fh * scale))
    return paper, box


def _overlap(a, b) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    ix = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    iy = max(0, min(ay + ah, by + bh) - max(ay, by))
    return ix * iy / (aw * ah + bw * bh - ix * iy)


def test_it_finds_a_small_brush_line_face_that_the_photo_detector_misses():
    painting, truth = _ink_painting()
    faces = detect_faces(painting)
    assert len(faces) == 1
    face = faces[0]
    assert _overlap(face.box, truth) > 0.4, (face.box, truth)
    for name in REQUIRED_GROUPS:
        assert _inside(face.landmarks[name], face.box, slack=2), name
    left, right = face.landmarks["left_eye"].mean(0), face.landmarks["right_eye"].mean(0)
    assert left[0] > right[0] and max(left[1], right[1]) < face.landmarks["mouth_outer"].mean(0)[1]


def test_seals_and_calligraphy_are_not_faces():
    page = np.full((400, 300, 3), (215, 228, 236), np.uint8)
    rng = np.random.default_rng(5)
    for column in range(4):  # columns of brush "characters"
        for row in range(8):
            x, y = 30 + column * 60, 20 + row * 45
            for _ in range(5):
                x0, y0 = x + int(rng.integers(0, 30)), y + int(rng.integers(0, 30))
                cv2.line(
                    page, (x0, y0), (x0 + int(rng.integers(-15, 15)), y0 + int(rng.integers(-15, 15))), (30, 30, 30), 3
                )
    cv2.rectangle(page, (220, 330), (270, 380), (40, 40, 200), -1)  # a vermilion seal with white strokes
    for i in range(3):
        cv2.line(page, (228, 340 + 12 * i), (262, 340 + 12 * i), (235, 235, 235), 3)
    assert detect_faces(page) == []


def test_two_clicks_fit_key_points_in_a_curators_box_in_under_a_second():
    from animation.engine.face_paintings import fit_in_box

    painting, truth = _ink_painting(head=110, at=(160, 200))
    fit_in_box(painting, truth)  # load the network once, as a running worker has
    started = time.process_time()
    fit = fit_in_box(painting, truth)
    assert time.process_time() - started < 1.0
    x, y, w, h = truth
    assert fit.presence > 0.5
    assert _overlap((*fit.box[:2], *(fit.box[2:] - fit.box[:2])), truth) > 0.4
    face = face_from_mesh(fit.points, painting.shape)
    assert face.landmarks["left_eye"].mean(0)[0] > face.landmarks["right_eye"].mean(0)[0]
    assert face.landmarks["right_eye"].mean(0)[1] < face.landmarks["mouth_outer"].mean(0)[1]
    # One click on the face's centre finds the same face at a size it chooses.
    clicked = fit_in_box(painting, centre=(x + w / 2, y + h / 2))
    assert np.linalg.norm(clicked.points.mean(0) - fit.points.mean(0)) < 0.15 * w


def test_faces_command_fits_key_points_in_a_given_box(tmp_path):
    painting, truth = _ink_painting(head=110, at=(160, 200))
    path = tmp_path / "ink.png"
    cv2.imwrite(str(path), painting)
    completed = subprocess.run(
        [sys.executable, "-m", "animation.engine", "faces", str(path), "--box", ",".join(map(str, truth)), "--json"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        check=True,
    )
    face = json.loads(completed.stdout)["faces"][0]
    assert _overlap(face["box"], truth) > 0.3
    assert face_from_landmarks(face, painting.shape).landmarks["mouth_outer"].shape == (20, 2)
    bad = subprocess.run(
        [sys.executable, "-m", "animation.engine", "faces", str(path), "--at", "12"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert bad.returncode == 2 and "--at takes X,Y" in bad.stderr
