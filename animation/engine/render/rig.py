"""The rig: everything precomputed for one painting and face (``build_rig``).

The painting is framed at the film's size (``frame_painting``), then displacement fields are built
from the landmarks: the head family on a coarse grid over the region of interest, the mouth and
brows at full resolution on their own rectangles, and for each eye the patch its lid is painted on.
The inside of the mouth gets its colours here too (``mouth_shades``), from the painting's own palette.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping

import cv2
import numpy as np

from animation.engine.faces import Face
from animation.engine.framing import crop_box
from animation.engine.render.geometry import (
    Axes,
    Rect,
    chain_coords,
    curve,
    edge_fade,
    pixel_grid,
    polygon_mask,
    profile,
    rect_fade,
    ring,
    smoothstep,
    split_contour,
    tps_field,
    tps_fit,
)
from animation.engine.render.head3d import HeadModel, HeadShape
from animation.engine.render.style import Style, painting_grain, painting_style

HEAD_CONTROLS = ("head_yaw", "head_pitch", "head_roll", "head_dx", "head_dy", "breath")
# The head's turns (degrees): rotated in depth by ``head3d``; the rest of HEAD_CONTROLS are linear fields.
TURN_CONTROLS = HEAD_CONTROLS[:3]
MOUTH_CONTROLS = ("mouth_open", "mouth_width", "mouth_round", "lips_pressed", "smile")
BROW_CONTROLS = ("brow_raise",)
COARSE_STEP = 4
# How far (a share of the frame's shorter side) a turning head fades to still at the frame's edge.
TURN_EDGE_FADE = 0.25


# ---------------------------------------------------------------------------------------------------
# Framing


@dataclasses.dataclass(frozen=True)
class Framing:
    """How the painting was cropped and scaled: frame = (painting - crop origin) * scale."""

    crop: tuple[int, int, int, int]  # x0, y0, x1, y1 in painting pixels
    scale: float
    width: int
    height: int


def frame_painting(
    image: np.ndarray,
    face: Face,
    size: int,
    aspect: str | None = None,
    crop: tuple[int, int, int, int] | None = None,
) -> tuple[np.ndarray, Face, Framing]:
    """Crop and scale the painting so its longest side is ``size`` (even dimensions, as H.264 needs).

    The crop comes from ``framing.crop_box``: without ``aspect`` the whole painting when the face is at
    least a fifth of its shorter side (portraits are composed pictures and cutting them changes the
    work); a head-and-shoulders crop at 16:9 around smaller faces (a figure in a landscape or a scroll);
    with ``aspect`` ("16:9", "9:16", "1:1") that aspect. ``crop`` (x0, y0, x1, y1 in painting pixels,
    inside the painting) replaces it: several rigs built with one crop and size share one framed
    painting (a dialogue's stage, ``render.ensemble``). Only the crop is resampled, never the whole
    painting.
    """
    fx, fy, fw, fh = face.box
    if crop is None:
        x0, y0, x1, y1 = crop_box(image.shape, face.box, aspect)
    else:
        height, width = image.shape[:2]
        x0, y0 = max(0, int(crop[0])), max(0, int(crop[1]))
        x1, y1 = min(width, int(crop[2])), min(height, int(crop[3]))
        if x1 - x0 < 2 or y1 - y0 < 2:
            raise ValueError(f"crop {crop} holds no part of the {width}x{height} painting")
    crop_w, crop_h = x1 - x0, y1 - y0
    scale = size / max(crop_w, crop_h)
    out_w = max(2, round(crop_w * scale / 2) * 2)
    out_h = max(2, round(crop_h * scale / 2) * 2)
    region = image[y0:y1, x0:x1]
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    still = cv2.resize(region, (out_w, out_h), interpolation=interpolation)
    sx, sy = out_w / crop_w, out_h / crop_h
    landmarks = {name: (points - [x0, y0]) * [sx, sy] for name, points in face.landmarks.items()}
    box = [
        round((fx - x0) * sx),
        round((fy - y0) * sy),
        round(fw * sx),
        round(fh * sy),
    ]
    framed = Face(index=face.index, box=box, score=face.score, landmarks=landmarks)
    return still, framed, Framing(crop=(x0, y0, x1, y1), scale=float(scale), width=out_w, height=out_h)


# ---------------------------------------------------------------------------------------------------
# What a rig holds


@dataclasses.dataclass
class LocalField:
    """Displacement fields (K, h, w, 2) for ``names`` on ``rect`` of the frame."""

    names: tuple[str, ...]
    rect: Rect
    fields: np.ndarray
    anchor: np.ndarray  # where the head field is read to move this rectangle with the head


@dataclasses.dataclass
class EyeRig:
    control: str
    axes: Axes
    rect: Rect
    a: np.ndarray  # local coordinates of the rect's pixels
    b: np.ndarray
    upper: np.ndarray  # lid curves sampled at ``a``
    lower: np.ndarray
    overshoot: np.ndarray  # a shut lid tucks this far past the lower lid
    within: np.ndarray  # 1 between the eye's corners, fading outside
    skin: np.ndarray  # (h, w, 3) lid skin colour for each pixel (per column along the eye)
    lash_colour: np.ndarray
    tallest: float


@dataclasses.dataclass
class MouthLook:
    """What the inside of the mouth is painted with, and how the inner lip moves per control."""

    axes: Axes
    inner_upper: np.ndarray  # (n, 2) chains from left corner to right corner, frame pixels
    inner_lower: np.ndarray
    moves_upper: dict[str, np.ndarray]  # control -> (n, 2) forward displacement at 1.0
    moves_lower: dict[str, np.ndarray]
    lip_colour: np.ndarray  # BGR float
    teeth_colour: np.ndarray
    rect: Rect  # where the inside can appear
    half_width: float
    open_px: float
    rest_gap: float  # how far apart the painted inner lips already are
    outer_lips: np.ndarray | None = None  # the outer lip contour, frame pixels
    shades: MouthShades | None = None  # set by build_rig once the style is known
    grain: np.ndarray | None = None  # (H, W) the painting's fine texture, see painting_grain


@dataclasses.dataclass
class MouthShades:
    """The inside of the mouth's colours, per rig: colour = base + lift * ``lift`` + corner * ``corner``
    (BGR float32), with lightness (the channels' mean) the same combination of the scalars."""

    base: np.ndarray
    lift: np.ndarray
    corner: np.ndarray
    base_lightness: float
    lift_lightness: float
    corner_lightness: float
    dark: np.ndarray
    dark_lightness: float
    ceiling: float
    teeth: np.ndarray
    ink: np.ndarray


@dataclasses.dataclass
class Rig:
    still: np.ndarray  # (H, W, 3) uint8, the framed painting
    face: Face  # landmarks in frame pixels
    framing: Framing
    roi: Rect  # the only part of the frame that ever changes
    head_names: tuple[str, ...]
    head_coarse: np.ndarray  # (K, hc, wc, 2) forward fields on the coarse grid over the ROI
    mouth: LocalField
    brows: LocalField | None
    eyes: list[EyeRig]
    look: MouthLook
    style: Style
    # The head in depth on the same coarse grid (``head3d``): yaw, pitch and roll rotate it. head_coarse's
    # first three fields are its linearisation (per degree at rest), kept for masks and estimates only.
    head3d: HeadModel | None = None

    @property
    def size(self) -> tuple[int, int]:
        return self.still.shape[1], self.still.shape[0]


# ---------------------------------------------------------------------------------------------------
# Building one


@dataclasses.dataclass(frozen=True)
class _Measures:
    mouth_axes: Axes
    chin: np.ndarray
    nose_to_chin: float
    face_w: float
    face_h: float
    centre: np.ndarray


def _measure(lm: Mapping[str, np.ndarray]) -> _Measures:
    mouth_outer = lm["mouth_outer"]
    rough = Axes.from_corners(mouth_outer[np.argmin(mouth_outer[:, 0])], mouth_outer[np.argmax(mouth_outer[:, 0])])
    # Corners again along the mouth's own axis: a tilted head's mouth is not horizontal.
    a, _ = rough.local(mouth_outer)
    axes = Axes.from_corners(mouth_outer[np.argmin(a)], mouth_outer[np.argmax(a)])
    jaw = lm["jaw"]
    _, b_jaw = axes.local(jaw)
    chin = jaw[int(np.argmax(b_jaw))]
    nose_to_chin = max(float(np.hypot(*(chin - lm["nose_tip"].mean(0)))), 4.0)
    eyes = [lm["left_eye"].mean(0), lm["right_eye"].mean(0)]
    face_w = max(float(np.ptp(jaw[:, 0])), float(np.hypot(*(eyes[0] - eyes[1]))) * 2.2, 8.0)
    if "face_oval" in lm:
        oval = lm["face_oval"]
        centre = (oval.min(0) + oval.max(0)) / 2
        face_h = max(float(np.ptp(oval[:, 1])), 8.0)
    else:
        top = min(e[1] for e in eyes) - 0.9 * nose_to_chin
        centre = np.array([float(np.mean(jaw[[0, -1], 0])), (top + chin[1]) / 2])
        face_h = max(float(chin[1] - top), 8.0)
    return _Measures(axes, chin, nose_to_chin, face_w, face_h, centre)


def build_rig(
    image: np.ndarray,
    face: Face,
    *,
    size: int = 512,
    aspect: str | None = None,
    crop: tuple[int, int, int, int] | None = None,
) -> Rig:
    """Frame the painting for ``face`` (at ``aspect``, or on ``crop``: see ``frame_painting``) and
    precompute every field. ``image`` is BGR uint8."""
    still, framed, framing = frame_painting(image, face, size, aspect, crop)
    lm = framed.landmarks
    height, width = still.shape[:2]
    frame_rect = Rect(0, height, 0, width)
    edge = edge_fade((height, width), max(6.0, 0.03 * min(width, height)))
    m = _measure(lm)

    mouth_rect = Rect.around(
        np.concatenate([lm["jaw"], lm["nose_tip"], [m.chin + 0.75 * m.nose_to_chin * m.mouth_axes.v]]),
        0.12 * m.face_w,
    ).clip(frame_rect)
    mouth, look = _mouth_fields(still, lm, m, mouth_rect, edge)
    brows = _brow_fields(lm, m, frame_rect, edge)
    eyes = [e for e in (_eye_rig(lm, side, edge, frame_rect, still) for side in ("left", "right")) if e is not None]

    head_rect = Rect.around(
        np.array([m.centre - [1.05 * m.face_w, 1.15 * m.face_h], m.centre + np.array([1.05 * m.face_w, 0.0])]),
        0,
    )
    bust_rect = Rect(int(m.chin[1]), height, int(m.centre[0] - 1.5 * m.face_w), int(m.centre[0] + 1.5 * m.face_w) + 1)
    roi = head_rect.union(bust_rect).union(mouth.rect).union(look.rect)
    for rect in [*(e.rect for e in eyes), *([brows.rect] if brows else [])]:
        roi = roi.union(rect)
    # Local rectangles follow the head by whole pixels; the margin keeps them inside the ROI.
    margin = math.ceil(0.2 * m.face_w)
    roi = Rect(roi.y0 - margin, roi.y1 + margin, roi.x0 - margin, roi.x1 + margin).clip(frame_rect)
    head_coarse, head3d = _head_coarse(roi, m, edge, lm)
    style = painting_style(still, lm)
    look.shades = mouth_shades(still, look, lm["mouth_outer"], style)
    look.grain = painting_grain(still)
    return Rig(
        still=still,
        face=framed,
        framing=framing,
        roi=roi,
        head_names=HEAD_CONTROLS,
        head_coarse=head_coarse,
        mouth=mouth,
        brows=brows,
        eyes=eyes,
        look=look,
        style=style,
        head3d=head3d,
    )


def _edge_distance(gx: np.ndarray, gy: np.ndarray, height: int, width: int) -> np.ndarray:
    return np.minimum(np.minimum(gx, width - 1 - gx), np.minimum(gy, height - 1 - gy)).clip(0, None)


def coarse_shape(roi: Rect) -> tuple[int, int]:
    return (roi.shape[0] + COARSE_STEP - 1) // COARSE_STEP + 1, (roi.shape[1] + COARSE_STEP - 1) // COARSE_STEP + 1


def _head_coarse(
    roi: Rect, m: _Measures, edge: np.ndarray, lm: Mapping[str, np.ndarray]
) -> tuple[np.ndarray, HeadModel]:
    height, width = edge.shape
    coarse_h, coarse_w = coarse_shape(roi)
    # Coarse samples sit where cv2.resize's (and torch's align_corners=False) pixel-centre convention
    # puts them, so upsampling lands them on the right pixels in both backends.
    cys = roi.y0 + (np.arange(coarse_h) + 0.5) * (roi.shape[0] / coarse_h) - 0.5
    cxs = roi.x0 + (np.arange(coarse_w) + 0.5) * (roi.shape[1] / coarse_w) - 0.5
    gx, gy = np.meshgrid(cxs, cys)
    coarse_edge = edge[
        np.clip(np.round(gy).astype(int), 0, height - 1), np.clip(np.round(gx).astype(int), 0, width - 1)
    ]
    # An egg: the hair above the brow is part of the head, the neck below the chin only partly.
    pivot = m.chin + 0.35 * m.nose_to_chin * m.mouth_axes.v
    shape = HeadShape(
        centre=(float(m.centre[0]), float(m.centre[1])),
        face_w=m.face_w,
        face_h=m.face_h,
        nose=(float(lm["nose_tip"].mean(0)[0]), float(lm["nose_tip"].mean(0)[1])),
        chin=(float(m.chin[0]), float(m.chin[1])),
        mouth=(float(m.mouth_axes.origin[0]), float(m.mouth_axes.origin[1])),
        neck=(float(pivot[0]), float(pivot[1])),
        pitch_y=float(m.mouth_axes.origin[1]),
        egg=(0.62 * m.face_w, 0.78 * m.face_h, 0.6 * m.face_h),
        egg_falloff=(1.0, 1.7),
    )
    head_mask = shape.weight(gx, gy) * coarse_edge
    grid = np.stack([gx, gy], -1)
    # A turn carries the top of a head tens of pixels: where the head meets the frame's edge (which never
    # moves) it must bend over a longer run than the shifts' fade, or the warp folds there.
    turn_edge = smoothstep(1.0, max(6.0, TURN_EDGE_FADE * min(height, width)), _edge_distance(gx, gy, height, width))
    model = HeadModel(shape, grid, shape.depth(gx, gy), head_mask * turn_edge)
    bust = (
        smoothstep(m.chin[1], m.chin[1] + 0.5 * m.face_h, gy)
        * (1.0 - smoothstep(0.9 * m.face_w, 1.5 * m.face_w, np.abs(gx - m.centre[0])))
        * coarse_edge
    )
    breath_mask = np.maximum(head_mask, bust)
    zeros = np.zeros_like(gx)
    fields = {
        # Linearised turns, per degree at rest (the render rotates ``model`` itself).
        "head_yaw": tuple(np.moveaxis(model.forward(1.0, 0.0, 0.0), -1, 0)),
        "head_pitch": tuple(np.moveaxis(model.forward(0.0, 1.0, 0.0), -1, 0)),
        "head_roll": tuple(np.moveaxis(model.forward(0.0, 0.0, 1.0), -1, 0)),
        "head_dx": (m.face_w * head_mask, zeros),
        "head_dy": (zeros, m.face_h * head_mask),
        "breath": (zeros, -0.012 * m.face_h * breath_mask),
    }
    return np.stack([np.stack(fields[n], -1) for n in HEAD_CONTROLS]).astype(np.float32), model


def _mouth_fields(
    still: np.ndarray, lm: Mapping[str, np.ndarray], m: _Measures, rect: Rect, edge: np.ndarray
) -> tuple[LocalField, MouthLook]:
    axes = m.mouth_axes
    half = axes.half_width
    outer_up, outer_lo = split_contour(lm["mouth_outer"], axes)
    inner_up, inner_lo = split_contour(lm["mouth_inner"], axes)
    open_px = m.nose_to_chin / 3.0

    def curve_at(chain: np.ndarray, a: np.ndarray) -> np.ndarray:
        ca, cb = curve(axes, chain)
        return np.interp(a, ca, cb)

    def lip_moves(chain: np.ndarray, upper: bool, outer: bool) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        a, an, prof = chain_coords(axes, chain)
        _, b = axes.local(chain)
        zero = np.zeros_like(a)
        corner_in = -0.05 * half * np.sign(a) * an**2
        if upper:
            opening = -0.12 * open_px * prof + 0.2 * open_px * an**2
        else:
            opening = open_px * prof + 0.2 * open_px * an**2
        side = -1.0 if upper else 1.0
        if outer:
            # Pressed lips roll inwards: the red of each lip thins towards the seam.
            inner_b = curve_at(inner_up if upper else inner_lo, a)
            pressed = -side * 0.35 * np.abs(inner_b - b)
        else:
            # An already parted painted mouth closes when pressed.
            gap = np.clip(curve_at(inner_lo, a) - curve_at(inner_up, a), 0, None)
            pressed = -side * 0.5 * gap
        return {
            "mouth_open": (corner_in, opening),
            "mouth_width": (0.15 * half * a, zero),
            "mouth_round": (-0.2 * half * a, side * 0.1 * half * prof),
            "lips_pressed": (zero, pressed),
            "smile": (0.08 * half * a, -0.12 * half * an**2),
        }

    jaw = lm["jaw"]
    _, b_jaw = axes.local(jaw)
    b_ear = float(np.mean(b_jaw[[0, -1]]))
    jaw_weight = np.clip((b_jaw - b_ear) / max(float(b_jaw.max()) - b_ear, 1e-3), 0, 1) ** 1.3
    zero_jaw = np.zeros(len(jaw))
    jaw_moves = dict.fromkeys(MOUTH_CONTROLS, (zero_jaw, zero_jaw))
    jaw_moves["mouth_open"] = (zero_jaw, open_px * jaw_weight)
    # The eyes and brows are held: the spline would otherwise carry the lips' motion up into them.
    held = [lm[name] for name in ("left_eye", "right_eye", "left_brow", "right_brow", "nose_base") if name in lm]
    fixed = np.concatenate([lm["nose_tip"], *held, ring(rect.x0, rect.y0, rect.x1 - 1, rect.y1 - 1)])

    def side_fit(chains: list[tuple[np.ndarray, bool, bool]]) -> tuple[np.ndarray, np.ndarray]:
        points = [jaw, fixed]
        values = [
            np.concatenate([axes.to_image(*jaw_moves[n]) for n in MOUTH_CONTROLS], axis=1),
            np.zeros((len(fixed), 2 * len(MOUTH_CONTROLS))),
        ]
        for chain, upper, outer in chains:
            moves = lip_moves(chain, upper, outer)
            points.append(chain)
            values.append(np.concatenate([axes.to_image(*moves[n]) for n in MOUTH_CONTROLS], axis=1))
        return np.concatenate(points), np.concatenate(values)

    grid = pixel_grid(rect).reshape(-1, 2)
    fits = []
    for chains in (
        [(outer_up, True, True), (inner_up, True, False)],
        [(outer_lo, False, True), (inner_lo, False, False)],
    ):
        points, values = side_fit(chains)
        fits.append(tps_field(tps_fit(points, values, m.face_w), rect))
    upper_field, lower_field = fits

    # The seam between the lips: a sharp step where they meet, widening into a blend past the corners.
    a_grid, b_grid = axes.local(grid)
    ia_up, ib_up = curve(axes, inner_up)
    ia_lo, ib_lo = curve(axes, inner_lo)
    seam = (np.interp(a_grid, ia_up, ib_up) + np.interp(a_grid, ia_lo, ib_lo)) / 2
    inner_extent = max(abs(ia_up[0]), abs(ia_up[-1]), abs(ia_lo[0]), abs(ia_lo[-1]))
    width = 0.6 + 1.2 * np.clip(np.abs(a_grid) - inner_extent, 0, None) * half
    lower_side = smoothstep(-width, width, b_grid - seam)[:, None]
    field = (1 - lower_side) * upper_field + lower_side * lower_field
    fade = (rect_fade(rect) * edge[rect.y0 : rect.y1, rect.x0 : rect.x1]).reshape(-1, 1)
    field = (field * fade).reshape(*rect.shape, len(MOUTH_CONTROLS), 2).transpose(2, 0, 1, 3)
    local = LocalField(MOUTH_CONTROLS, rect, np.ascontiguousarray(field, dtype=np.float32), axes.origin.copy())

    moves_up = {n: axes.to_image(*lip_moves(inner_up, True, False)[n]) for n in MOUTH_CONTROLS}
    moves_lo = {n: axes.to_image(*lip_moves(inner_lo, False, False)[n]) for n in MOUTH_CONTROLS}
    look_rect = Rect.around(
        np.concatenate([lm["mouth_outer"], lm["mouth_outer"] + 1.3 * open_px * axes.v]), 0.15 * half + 2
    ).clip(Rect(0, still.shape[0], 0, still.shape[1]))
    lip_colour, teeth_colour = _palette(still, lm, outer_up, outer_lo, inner_up, inner_lo)
    ia, ib = curve(axes, inner_up)
    la, lb = curve(axes, inner_lo)
    rest_gap = float(np.max(lb - np.interp(la, ia, ib), initial=0.0))
    look = MouthLook(
        axes,
        inner_up,
        inner_lo,
        moves_up,
        moves_lo,
        lip_colour,
        teeth_colour,
        look_rect,
        half,
        open_px,
        max(rest_gap, 0.0),
    )
    return local, look


def _palette(
    still: np.ndarray,
    lm: Mapping[str, np.ndarray],
    outer_up: np.ndarray,
    outer_lo: np.ndarray,
    inner_up: np.ndarray,
    inner_lo: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The painting's own lip colour, and a teeth colour from its eye whites (or light skin)."""
    outer = polygon_mask(still.shape, np.concatenate([outer_up, outer_lo[::-1]])) > 127
    inner = polygon_mask(still.shape, np.concatenate([inner_up, inner_lo[::-1]])) > 127
    lips = still[outer & ~inner].astype(np.float64)
    lip_colour = np.median(lips, axis=0) if len(lips) >= 4 else np.array([60.0, 60.0, 140.0])
    skin_rect = Rect.around(np.concatenate([lm["nose_tip"], outer_up]), 0)
    skin = still[skin_rect.y0 : skin_rect.y1, skin_rect.x0 : skin_rect.x1].reshape(-1, 3).astype(np.float64)
    skin_colour = np.median(skin, axis=0) if len(skin) else lip_colour
    whites = []
    for side in ("left_eye", "right_eye"):
        eye = polygon_mask(still.shape, lm[side]) > 200
        pixels = still[eye].astype(np.float64)
        if len(pixels) >= 6:
            brightness = pixels.sum(1)
            whites.append(pixels[brightness >= np.percentile(brightness, 75)])
    light_skin = np.minimum(skin_colour * 1.15 + 20, 235)
    if whites:
        sclera = np.concatenate(whites).mean(0)
        teeth = 0.6 * sclera + 0.4 * light_skin if sclera.sum() > skin_colour.sum() * 0.8 else light_skin
    else:
        teeth = light_skin
    return lip_colour, np.clip(teeth * 0.92, 0, 255)


def _brow_fields(lm: Mapping[str, np.ndarray], m: _Measures, frame_rect: Rect, edge: np.ndarray) -> LocalField | None:
    lift = 0.045 * m.face_h
    moving, anchors = [], []
    for side in ("left", "right"):
        eye = lm[f"{side}_eye"]
        eye_axes = Axes.from_corners(eye[np.argmin(eye[:, 0])], eye[np.argmax(eye[:, 0])])
        upper, lower = split_contour(eye, eye_axes)
        brow = lm.get(f"{side}_brow")
        if brow is None:
            brow = upper - [0, 0.9 * eye_axes.half_width]
        moving.append((brow, np.tile([0.0, -lift], (len(brow), 1))))
        # The lid skin stretches a little with the brow; the lash line itself stays.
        moving.append((upper[1:-1] - [0, 0.15 * eye_axes.half_width], np.tile([0.0, -0.3 * lift], (len(upper) - 2, 1))))
        anchors.extend([upper, lower])
    points = np.concatenate([p for p, _ in moving])
    top = points[:, 1].min() - 0.3 * m.face_h
    rect = Rect.around(np.concatenate([points, [[points[:, 0].mean(), top]], *anchors]), 0.1 * m.face_w).clip(
        frame_rect
    )
    if rect.shape[0] < 8 or rect.shape[1] < 8:
        return None
    fixed = np.concatenate([*anchors, lm["nose_tip"], ring(rect.x0, rect.y0, rect.x1 - 1, rect.y1 - 1)])
    values = np.concatenate([np.concatenate([v for _, v in moving]), np.zeros((len(fixed), 2))])
    field = tps_field(tps_fit(np.concatenate([points, fixed]), values, m.face_w), rect)
    fade = (rect_fade(rect) * edge[rect.y0 : rect.y1, rect.x0 : rect.x1]).reshape(-1, 1)
    field = (field * fade).reshape(1, *rect.shape, 2).astype(np.float32)
    return LocalField(BROW_CONTROLS, rect, field, points.mean(0))


def _reach_below_rim(
    still: np.ndarray, axes: Axes, ua: np.ndarray, ub: np.ndarray, reach: float, tallest: float
) -> float:
    """Shorten the lid skin that will be stretched over the eye so it stops before anything that is not
    lid skin: a glasses rim, hair falling over the brow, the brow itself.

    Rows above the lash line are compared with the lid's own skin (measured just above the lashes);
    the first row whose colour departs from it marks where the lid ends.
    """
    offsets = np.arange(0.0, reach + 1.0)
    if len(offsets) < 4:
        return reach
    across = np.linspace(-0.5, 0.5, 9)
    lid_b = np.interp(across, ua, ub)
    bs = lid_b[None, :] - offsets[:, None]
    xs = axes.origin[0] + across[None, :] * axes.half_width * axes.u[0] + bs * axes.v[0]
    ys = axes.origin[1] + across[None, :] * axes.half_width * axes.u[1] + bs * axes.v[1]
    rows = (
        cv2.remap(
            still,
            xs.astype(np.float32),
            ys.astype(np.float32),
            cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        )
        .astype(np.float64)
        .mean(axis=1)
    )
    skin_rows = (offsets >= 0.3 * tallest + 1) & (offsets <= 0.55 * tallest + 2)
    if not skin_rows.any():
        return reach
    skin = np.median(rows[skin_rows], axis=0)
    departs = (np.linalg.norm(rows - skin, axis=1) > 30.0) & (offsets > 0.55 * tallest + 2)
    if departs.any():
        return min(reach, float(offsets[int(np.argmax(departs))]) - 1.5)
    return reach


def _eye_rig(
    lm: Mapping[str, np.ndarray], side: str, edge: np.ndarray, frame_rect: Rect, still: np.ndarray
) -> EyeRig | None:
    eye = lm[f"{side}_eye"]
    rough = Axes.from_corners(eye[np.argmin(eye[:, 0])], eye[np.argmax(eye[:, 0])])
    a, _ = rough.local(eye)
    axes = Axes.from_corners(eye[np.argmin(a)], eye[np.argmax(a)])
    upper, lower = split_contour(eye, axes)
    ua, ub = curve(axes, upper)
    la, lb = curve(axes, lower)
    samples = np.linspace(-1, 1, 41)
    opening = np.clip(np.interp(samples, la, lb) - np.interp(samples, ua, ub), 0, None)
    tallest = float(opening.max())
    if tallest < 0.5:
        return None  # painted already closed: nothing to close
    reach = 1.2 * tallest + 0.1 * axes.half_width
    brow = lm.get(f"{side}_brow")
    if brow is not None:
        _, brow_b = axes.local(brow)
        reach = min(reach, 0.7 * float(np.interp(0.0, ua, ub) - brow_b.max()))
    reach = max(_reach_below_rim(still, axes, ua, ub, reach, tallest), 0.45 * tallest)
    # Lid skin per column: the median colour of the band between the lashes and ``reach``.
    columns = np.linspace(-1.15, 1.15, 31)
    offsets = np.linspace(0.25 * tallest + 1, max(reach, 0.25 * tallest + 2), 8)
    band_b = np.interp(columns, ua, ub)[None, :] - offsets[:, None]
    xs = axes.origin[0] + columns[None, :] * axes.half_width * axes.u[0] + band_b * axes.v[0]
    ys = axes.origin[1] + columns[None, :] * axes.half_width * axes.u[1] + band_b * axes.v[1]
    band = cv2.remap(
        still, xs.astype(np.float32), ys.astype(np.float32), cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    strip = np.median(band.astype(np.float64), axis=0)
    # Hair or a hat brim can sit right on the lid (anime, portraits with fringes): then the skin just
    # below the eye is the better guess for the lid's colour.
    below_b = np.interp(columns, la, lb)[None, :] + np.linspace(0.3, 0.9, 5)[:, None] * tallest + 1
    bx = axes.origin[0] + columns[None, :] * axes.half_width * axes.u[0] + below_b * axes.v[0]
    by = axes.origin[1] + columns[None, :] * axes.half_width * axes.u[1] + below_b * axes.v[1]
    cheek = np.median(
        cv2.remap(
            still,
            bx.astype(np.float32),
            by.astype(np.float32),
            cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        )
        .reshape(-1, 3)
        .astype(np.float64),
        axis=0,
    )
    if strip.sum(1).mean() < 0.6 * cheek.sum():
        strip = np.tile(cheek * 0.93, (len(columns), 1))
    strip = cv2.GaussianBlur(strip[None].astype(np.float32), (0, 0), 2.0)[0].astype(np.float64)
    # The painting's own lash colour: the darkest tones along the upper lid.
    line_b = np.interp(samples, ua, ub)
    lx = axes.origin[0] + samples * axes.half_width * axes.u[0] + line_b * axes.v[0]
    ly = axes.origin[1] + samples * axes.half_width * axes.u[1] + line_b * axes.v[1]
    line = cv2.remap(still, lx[None].astype(np.float32), ly[None].astype(np.float32), cv2.INTER_LINEAR)[0].astype(
        np.float64
    )
    darkness = line.sum(1)
    lash_colour = line[darkness <= np.percentile(darkness, 30)].mean(0)

    corners = np.array(
        [
            [-1.3, ub.min() - 0.6 * tallest - 3],
            [1.3, ub.min() - 0.6 * tallest - 3],
            [-1.3, lb.max() + 0.3 * tallest + 3],
            [1.3, lb.max() + 0.3 * tallest + 3],
        ]
    )
    image_corners = axes.origin + corners[:, :1] * axes.half_width * axes.u + corners[:, 1:] * axes.v
    rect = Rect.around(image_corners, 1).clip(frame_rect)
    if rect.shape[0] < 3 or rect.shape[1] < 3:
        return None
    grid = pixel_grid(rect).reshape(-1, 2)
    ga, gb = axes.local(grid)
    up = np.interp(ga, ua, ub)
    low = np.maximum(np.interp(ga, la, lb), up)
    within = 1.0 - smoothstep(0.92, 1.12, np.abs(ga))
    skin = np.stack([np.interp(ga, columns, strip[:, channel]) for channel in range(3)], -1)
    overshoot = 0.15 * tallest * profile(np.clip(ga, -1, 1))
    shape = rect.shape
    within = within * edge[rect.y0 : rect.y1, rect.x0 : rect.x1].reshape(-1)
    return EyeRig(
        f"blink_{side}",
        axes,
        rect,
        ga.reshape(shape),
        gb.reshape(shape),
        up.reshape(shape),
        low.reshape(shape),
        overshoot.reshape(shape),
        within.reshape(shape),
        skin.reshape(*shape, 3).astype(np.float32),
        lash_colour,
        tallest,
    )


def mouth_shades(still: np.ndarray, look: MouthLook, outer_lips: np.ndarray, style: Style) -> MouthShades:
    """Modelled in tone: the lip colour darkened to a shadow, lifting to the tongue's warmer tone. Ink on
    paper (``style.ink``): a wash of the painting's ink on its paper, heavier under the upper lip, with a
    touch of the lip's colour if it has one. The ceiling is what surrounds the mouth in the painting."""
    lip = look.lip_colour.astype(np.float32)
    shadow, tongue = lip * 0.1, lip * 0.58
    base, lift, corner = shadow, tongue - shadow, np.zeros(3, np.float32)
    teeth = look.teeth_colour.astype(np.float32)
    if style.ink > 0.0:
        paper, ink = style.paper_colour.astype(np.float32), style.ink_colour.astype(np.float32)
        # wash = 0.62 - 0.3 lift + 0.15 corner; tinted = 0.8 (paper + (ink - paper) wash) + 0.2 lip (1 - wash / 2)
        wash_base, wash_lift, wash_corner = 0.62, -0.3, 0.15
        tint = 0.8 * (ink - paper) - 0.1 * lip
        tinted_base = 0.8 * paper + 0.2 * lip + tint * wash_base
        k = style.ink
        base = (1 - k) * base + k * tinted_base
        lift = (1 - k) * lift + k * tint * wash_lift
        corner = (1 - k) * corner + k * tint * wash_corner
        teeth = (1 - k) * teeth + k * paper
    rect = look.rect
    region = still[rect.y0 : rect.y1, rect.x0 : rect.x1]
    lips = polygon_mask(still.shape, outer_lips)[rect.y0 : rect.y1, rect.x0 : rect.x1] > 0
    around = region[~lips]
    dark = style.dark_colour.astype(np.float32)
    surround = float(around.mean()) if len(around) else 255.0
    return MouthShades(
        base.astype(np.float32),
        lift.astype(np.float32),
        corner.astype(np.float32),
        float(base.mean()),
        float(lift.mean()),
        float(corner.mean()),
        dark,
        float(dark.mean()),
        max(0.45 * surround, float(dark.mean()) + 1.0),
        teeth.astype(np.float32),
        style.ink_colour.astype(np.float32),
    )
