"""Rendering real paintings with hand-set controls: what moves, what must not, and backend agreement."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from animation.engine.controls import Controls
from animation.engine.faces import find_faces
from animation.engine.render import render_frames
from animation.engine.render.rig import build_rig
from testkit.media import PAINTINGS


@pytest.fixture(scope="module")
def rigs():
    rigs = {}
    for painting in PAINTINGS:
        image, faces = find_faces(painting)
        rigs[painting.stem] = build_rig(image, faces[0], size=256)
    return rigs


def controls_for(settings: list[dict[str, float]]) -> Controls:
    controls = Controls.neutral(fps=25, frame_count=len(settings))
    for index, values in enumerate(settings):
        for name, value in values.items():
            controls.tracks[name][index] = value
    return controls


def frames_of(rig, settings, **options):
    return [frame.copy() for frame in render_frames(rig, controls_for(settings), **options)]


def polygon_mask(shape, points, grow=0):
    mask = np.zeros(shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(points).astype(np.int32)], 255)
    if grow:
        mask = cv2.dilate(mask, np.ones((2 * grow + 1, 2 * grow + 1), np.uint8))
    return mask > 0


def test_a_neutral_frame_is_the_painting_itself(rigs):
    for rig in rigs.values():
        (frame,) = frames_of(rig, [{}])
        assert np.array_equal(frame, rig.still)


@pytest.mark.parametrize("name", [p.stem for p in PAINTINGS])
def test_the_mouth_opens_dark_inside_and_the_jaw_drops(rigs, name):
    rig = rigs[name]
    closed, opened = frames_of(rig, [{}, {"mouth_open": 0.8, "teeth": 0.5}])
    landmarks = rig.face.landmarks
    mouth = polygon_mask(rig.still.shape, landmarks["mouth_outer"], grow=3)
    change = np.abs(opened.astype(int) - closed.astype(int)).sum(2)
    assert change[mouth].mean() > 25
    # The inside of the mouth is darker than the lips around it were.
    drop = 0.1 * (landmarks["jaw"][:, 1].max() - landmarks["nose_tip"][0, 1])
    centre = landmarks["mouth_inner"].mean(0) + np.array([0.0, drop])
    x, y = np.round(centre).astype(int)
    assert opened[y - 1 : y + 2, x - 1 : x + 2].mean() < 0.75 * closed[mouth].mean()
    # The forehead and the eyes do not take part.
    eyes = polygon_mask(rig.still.shape, landmarks["left_eye"]) | polygon_mask(rig.still.shape, landmarks["right_eye"])
    assert change[eyes].mean() < 2


@pytest.mark.parametrize("name", [p.stem for p in PAINTINGS])
def test_closed_eyelids_cover_the_eye_with_even_skin(rigs, name):
    rig = rigs[name]
    opened, half, shut = frames_of(
        rig, [{}, {"blink_left": 0.5, "blink_right": 0.5}, {"blink_left": 1.0, "blink_right": 1.0}]
    )
    for side in ("left_eye", "right_eye"):
        eye = rig.face.landmarks[side]
        inside = cv2.erode(polygon_mask(rig.still.shape, eye).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
        if inside.sum() < 6:
            continue
        # An open eye is white, iris and pupil; a shut one is an even stretch of lid.
        spread = [cv2.cvtColor(f, cv2.COLOR_BGR2GRAY)[inside].astype(float).std() for f in (opened, half, shut)]
        assert spread[2] < 0.8 * spread[0], side
        assert not np.array_equal(half[inside], opened[inside]) and not np.array_equal(half[inside], shut[inside])
    # The brows and whatever lies above the lid (glasses, hair) stay as painted.
    brows = polygon_mask(rig.still.shape, rig.face.landmarks["left_brow"], grow=1)
    assert np.array_equal(shut[brows], opened[brows])


def test_the_painting_border_and_background_never_move(rigs):
    everything = {
        "mouth_open": 1.0,
        "mouth_width": 1.0,
        "teeth": 1.0,
        "blink_left": 1.0,
        "blink_right": 0.5,
        "brow_raise": 1.0,
        "head_yaw": 8.0,
        "head_pitch": -6.0,
        "head_roll": 5.0,
        "head_dx": 0.04,
        "head_dy": -0.03,
        "breath": 1.0,
        "smile": 1.0,
    }
    for rig in rigs.values():
        (frame,) = frames_of(rig, [everything])
        assert np.array_equal(frame[:2], rig.still[:2]) and np.array_equal(frame[-2:], rig.still[-2:])
        assert np.array_equal(frame[:, :2], rig.still[:, :2]) and np.array_equal(frame[:, -2:], rig.still[:, -2:])
        outside = np.ones(frame.shape[:2], bool)
        roi = rig.roi
        outside[roi.y0 : roi.y1, roi.x0 : roi.x1] = False
        assert np.array_equal(frame[outside], rig.still[outside])
        # The head did move, and smoothly: no pixel jumps against its neighbours more than the painting's own.
        assert np.abs(frame.astype(int) - rig.still.astype(int)).mean() > 1


def test_head_motion_has_no_seams(rigs):
    rig = rigs["art_10"]
    (frame,) = frames_of(rig, [{"head_yaw": 6.0, "head_roll": 4.0, "head_dx": 0.03, "breath": 1.0}])
    # A seam would be a row or column where the change against the still jumps.
    change = np.abs(frame.astype(float) - rig.still.astype(float)).sum(2)
    smooth = cv2.GaussianBlur(rig.still, (0, 0), 1.0).astype(float)
    texture = np.abs(np.diff(smooth, axis=0)).sum(2)
    jumps = np.abs(np.diff(cv2.GaussianBlur(change, (0, 0), 1.0), axis=0))
    assert np.percentile(jumps, 99.9) < np.percentile(texture, 99.9) + 10


def test_cpu_and_torch_backends_give_the_same_frames(rigs):
    rng = np.random.default_rng(0)
    settings = [
        {
            "mouth_open": float(rng.uniform(0, 1)),
            "mouth_round": float(rng.uniform(0, 1)),
            "teeth": float(rng.uniform()),
            "mouth_width": float(rng.uniform(-1, 1)),
            "blink_left": float(rng.uniform()),
            "blink_right": float(rng.uniform()),
            "brow_raise": float(rng.uniform()),
            "head_yaw": float(rng.uniform(-6, 6)),
            "head_roll": float(rng.uniform(-4, 4)),
            "head_pitch": float(rng.uniform(-4, 4)),
            "breath": float(rng.uniform()),
        }
        for _ in range(6)
    ]
    for name in ("art_12", "art_15"):
        rig = rigs[name]
        cpu = frames_of(rig, settings)
        torch_frames = frames_of(rig, settings, backend="torch", device="cpu", batch_size=4)
        differences = [np.abs(a.astype(int) - b.astype(int)) for a, b in zip(cpu, torch_frames, strict=True)]
        assert max(d.mean() for d in differences) < 1.0
        assert max(np.percentile(d, 99.5) for d in differences) <= 2


def test_remapping_only_the_moving_spans_gives_the_full_remap_bit_for_bit(rigs, monkeypatch):
    from animation.engine.render import backend_opencv as render

    settings = [
        {},
        {"head_yaw": 3.0, "breath": 0.5},
        {"head_roll": -2.0, "head_dy": 0.01, "mouth_open": 0.7, "teeth": 0.4, "blink_left": 0.6},
        {"brow_raise": 0.8, "smile": 0.5},
        {"head_pitch": 0.004},  # a head turn too small to move any pixel
    ]
    threads = cv2.getNumThreads()
    for name in ("art_10", "art_15"):
        rig = rigs[name]
        fast = frames_of(rig, settings)
        with monkeypatch.context() as patch:
            # Every pixel of the region of interest remapped: the reference the spans must reproduce.
            patch.setattr(
                render._Bands, "spans", lambda self, coarse, rects: [(0, *self.roi.shape[:1], 0, self.roi.shape[1])]
            )
            full = frames_of(rig, settings)
        for index, (a, b) in enumerate(zip(fast, full, strict=True)):
            assert np.array_equal(a, b), (name, index)
        assert not np.array_equal(fast[1], fast[0])
    assert cv2.getNumThreads() == threads


def test_spans_cover_every_pixel_the_head_field_moves(rigs):
    from animation.engine.render.backend_opencv import _Bands

    rig = rigs["art_12"]
    roi = rig.roi
    h, w = roi.shape
    bands = _Bands(roi, rig.head_coarse.shape[1:3])
    for coefficients in ([2.0, 0, 0, 0, 0, 0], [0, 0, 0.05, 0, 0, 1.0], [0, 0, 0, 0.001, 0, 0]):
        head = np.array(coefficients, np.float32)
        coarse = np.einsum("k,khwc->hwc", head, rig.head_coarse)
        moved = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_LINEAR)
        # remap rounds sampling positions to 1/32 pixel: a shift of 1/64 or more can change the pixel.
        moving = np.abs(moved).max(-1) >= 1 / 64
        covered = np.zeros((h, w), bool)
        for y0, y1, x0, x1 in bands.spans(coarse, []):
            covered[y0:y1, x0:x1] = True
        assert not (moving & ~covered).any(), coefficients
    # Spans follow the head's outline: a still head with a moving mouth remaps only around the mouth.
    mouth = rig.mouth.rect
    spans = bands.spans(None, [mouth])
    area = sum((y1 - y0) * (x1 - x0) for y0, y1, x0, x1 in spans)
    assert area < 1.3 * mouth.shape[0] * mouth.shape[1] + 8 * w
