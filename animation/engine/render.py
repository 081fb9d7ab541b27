"""Controls + painting + landmarks -> frames.

Once per painting and face (``build_rig``) the painting is framed at the film's size and a few
displacement fields are precomputed from the landmarks; per frame the sampling map is the identity
plus a weighted sum of those fields, and a remap of the head's region of interest makes the frame.
Everything outside that region is the painting itself, untouched, in every frame. Inside it, only the
pixels this frame's fields move by 1/64 pixel or more are remapped (row bands, one column span each,
following the head's egg and the bust): the rest would come out of remap as the painting's own pixels
anyway. On large-face portraits the region is the whole frame and the moving part 81-96% of it (the
demo paintings), so this saves a little; remap itself, about 4 ns a pixel, is most of a frame's cost.

Field families (all "forward": where a painted point moves; the sampling map subtracts them, which is
the first-order inverse and exact enough for displacements that vary slowly):

- head (yaw, pitch, roll, dx, dy, breath): smooth over the whole head, so they are kept on a grid four
  times coarser and upsampled per frame; a soft mask takes them to zero away from the head and at the
  painting's edges, so the frame and background never move.
- mouth (open, width, round, pressed, smile) and brows: full resolution on their own rectangles. Lip,
  jaw and brow landmarks get displacements; a thin-plate spline spreads them over the skin. The mouth
  has two splines, one for the upper lip side and one for the lower, joined along the lip seam: that
  join is a sharp step inside the mouth (lips part) that widens into a smooth blend past the corners
  (cheeks stretch), which no single smooth field can do.
- eyelids: not linear in the control (the lid's edge moves), so computed per frame on the eye's small
  patch: the skin between the brow and the lid is stretched down over the eye until the lash line
  meets the lower lid, so a closed eye shows the painting's own lid skin.

The opening mouth's inside is painted over the parted lips from the painting's own palette: the lip
colour darkened towards the middle, a soft edge, and a band of upper teeth (tinted from the eye
whites) when the ``teeth`` control asks for it.

Two backends share all of this and differ only in how the map is summed and sampled: OpenCV remap on
the CPU and torch grid_sample in batches (``render_torch``), which is the one to use on CUDA.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator, Mapping

import cv2
import numpy as np

from animation.engine.controls import Controls
from animation.engine.faces import Face

HEAD_CONTROLS = ("head_yaw", "head_pitch", "head_roll", "head_dx", "head_dy", "breath")
MOUTH_CONTROLS = ("mouth_open", "mouth_width", "mouth_round", "lips_pressed", "smile")
BROW_CONTROLS = ("brow_raise",)
COARSE_STEP = 4
# Below this a control changes the picture by well under a pixel: skip its work.
EPSILON = 1e-3


# ---------------------------------------------------------------------------------------------------
# Small geometry helpers


def _smoothstep(edge0: float | np.ndarray, edge1: float | np.ndarray, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - edge0) / (edge1 - edge0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


@dataclasses.dataclass(frozen=True)
class _Axes:
    """A local frame: ``a`` along the feature (corner to corner, in half-widths), ``b`` across it
    (pixels, towards the chin)."""

    origin: np.ndarray
    u: np.ndarray
    v: np.ndarray
    half_width: float

    @classmethod
    def from_corners(cls, left: np.ndarray, right: np.ndarray) -> _Axes:
        along = right - left
        length = float(np.hypot(*along))
        u = along / max(length, 1e-6)
        return cls(origin=(left + right) / 2, u=u, v=np.array([-u[1], u[0]]), half_width=max(length / 2, 1.0))

    def local(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        d = points - self.origin
        return d @ self.u / self.half_width, d @ self.v

    def to_image(self, du: np.ndarray, dv: np.ndarray) -> np.ndarray:
        """Local displacements (px along u, px along v) as image (dx, dy)."""
        return np.stack([du * self.u[0] + dv * self.v[0], du * self.u[1] + dv * self.v[1]], axis=-1)


def _split_contour(points: np.ndarray, axes: _Axes) -> tuple[np.ndarray, np.ndarray]:
    """Upper and lower chains of a closed contour, each running from the left corner to the right one.

    Corners are the extremes along the feature's axis, so any point count and starting point work
    (manual landmarks come from an editor, not from the mesh).
    """
    a, b = axes.local(points)
    n = len(points)
    left, right = int(np.argmin(a)), int(np.argmax(a))
    forward = [(left + i) % n for i in range((right - left) % n + 1)]
    backward = [(left - i) % n for i in range((left - right) % n + 1)]
    if np.mean(b[forward]) <= np.mean(b[backward]):
        return points[forward], points[backward]
    return points[backward], points[forward]


def _curve(axes: _Axes, chain: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, b = axes.local(chain)
    order = np.argsort(a)
    return a[order], b[order]


def _profile(a: np.ndarray) -> np.ndarray:
    """1 in the middle of a lip or lid, 0 at its corners: how far each part of it can move."""
    return np.clip(1.0 - a * a, 0.0, 1.0) ** 0.7


def _tps_fit(points: np.ndarray, values: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Thin-plate spline through ``points`` -> ``values`` (N, 2); smoothing keeps close points stable."""
    p = points / scale
    n = len(p)
    r2 = ((p[:, None, :] - p[None, :, :]) ** 2).sum(-1)
    kernel = np.where(r2 > 0, 0.5 * r2 * np.log(np.maximum(r2, 1e-12)), 0.0)
    system = np.zeros((n + 3, n + 3))
    system[:n, :n] = kernel + 1e-4 * np.eye(n)
    system[:n, n] = 1
    system[:n, n + 1 :] = p
    system[n, :n] = 1
    system[n + 1 :, :n] = p.T
    rhs = np.zeros((n + 3, values.shape[1]))
    rhs[:n] = values
    solution = np.linalg.lstsq(system, rhs, rcond=None)[0]
    return p, solution, scale


def _tps_eval(fit: tuple[np.ndarray, np.ndarray, float], query: np.ndarray) -> np.ndarray:
    centres, solution, scale = fit
    q = query / scale
    out = np.empty((len(q), solution.shape[1]))
    n = len(centres)
    for start in range(0, len(q), 8192):
        chunk = q[start : start + 8192]
        # Written out in place rather than as one broadcast expression: this is most of a rig's build time,
        # and the same operations in the same order give the same numbers. r2 * log(r2) is 0 at r2 = 0.
        dx = chunk[:, 0:1] - centres[None, :, 0]
        dy = chunk[:, 1:2] - centres[None, :, 1]
        r2 = dx * dx
        r2 += dy * dy
        kernel = np.maximum(r2, 1e-12)
        np.log(kernel, out=kernel)
        kernel *= r2
        kernel *= 0.5
        out[start : start + 8192] = kernel @ solution[:n] + solution[n] + chunk @ solution[n + 1 :]
    return out


def _tps_field(fit: tuple[np.ndarray, np.ndarray, float], rect: Rect, step: int = 3) -> np.ndarray:
    """The spline over every pixel of ``rect`` (h*w, C): evaluated every ``step`` pixels and upsampled,
    since the fields are smooth and a full-resolution evaluation costs a second per painting."""
    h, w = rect.shape
    ch, cw = max(2, -(-h // step) + 1), max(2, -(-w // step) + 1)
    ys = rect.y0 + (np.arange(ch) + 0.5) * (h / ch) - 0.5
    xs = rect.x0 + (np.arange(cw) + 0.5) * (w / cw) - 0.5
    gx, gy = np.meshgrid(xs, ys)
    coarse = _tps_eval(fit, np.stack([gx, gy], -1).reshape(-1, 2)).reshape(ch, cw, -1).astype(np.float32)
    channels = [cv2.resize(coarse[..., i], (w, h), interpolation=cv2.INTER_LINEAR) for i in range(coarse.shape[-1])]
    return np.stack(channels, -1).reshape(h * w, -1).astype(np.float64)


def _ring(x0: float, y0: float, x1: float, y1: float, count: int = 7) -> np.ndarray:
    xs, ys = np.linspace(x0, x1, count), np.linspace(y0, y1, count)
    return np.concatenate(
        [
            np.stack([xs, np.full(count, y0)], 1),
            np.stack([xs, np.full(count, y1)], 1),
            np.stack([np.full(count - 2, x0), ys[1:-1]], 1),
            np.stack([np.full(count - 2, x1), ys[1:-1]], 1),
        ]
    )


@dataclasses.dataclass(frozen=True)
class Rect:
    """Pixel rectangle [y0:y1, x0:x1]."""

    y0: int
    y1: int
    x0: int
    x1: int

    @property
    def shape(self) -> tuple[int, int]:
        return self.y1 - self.y0, self.x1 - self.x0

    def clip(self, other: Rect) -> Rect:
        return Rect(max(self.y0, other.y0), min(self.y1, other.y1), max(self.x0, other.x0), min(self.x1, other.x1))

    def union(self, other: Rect) -> Rect:
        return Rect(min(self.y0, other.y0), max(self.y1, other.y1), min(self.x0, other.x0), max(self.x1, other.x1))

    def shifted(self, dy: int, dx: int) -> Rect:
        return Rect(self.y0 + dy, self.y1 + dy, self.x0 + dx, self.x1 + dx)

    @classmethod
    def around(cls, points: np.ndarray, margin: float) -> Rect:
        (x0, y0), (x1, y1) = points.min(0) - margin, points.max(0) + margin
        return cls(math.floor(y0), math.ceil(y1) + 1, math.floor(x0), math.ceil(x1) + 1)


def _grid(rect: Rect) -> np.ndarray:
    ys, xs = np.mgrid[rect.y0 : rect.y1, rect.x0 : rect.x1]
    return np.stack([xs, ys], -1).astype(np.float64)


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
    image: np.ndarray, face: Face, size: int, aspect: str | None = None
) -> tuple[np.ndarray, Face, Framing]:
    """Crop and scale the painting so its longest side is ``size`` (even dimensions, as H.264 needs).

    The crop comes from ``framing.crop_box``: without ``aspect`` the whole painting when the face is at
    least a fifth of its shorter side (portraits are composed pictures and cutting them changes the
    work); a head-and-shoulders crop at 16:9 around smaller faces (a figure in a landscape or a scroll);
    with ``aspect`` ("16:9", "9:16", "1:1") that aspect. Only the crop is resampled, never the whole
    painting.
    """
    from animation.engine.framing import crop_box

    fx, fy, fw, fh = face.box
    x0, y0, x1, y1 = crop_box(image.shape, face.box, aspect)
    crop_w, crop_h = x1 - x0, y1 - y0
    scale = size / max(crop_w, crop_h)
    out_w = max(2, round(crop_w * scale / 2) * 2)
    out_h = max(2, round(crop_h * scale / 2) * 2)
    crop = image[y0:y1, x0:x1]
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    still = cv2.resize(crop, (out_w, out_h), interpolation=interpolation)
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
# The rig: everything precomputed for one painting and face


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
    axes: _Axes
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


@dataclasses.dataclass(frozen=True)
class Style:
    """How the painting around the face is made, measured once per rig (``painting_style``).

    ``ink`` is 0 for a face modelled in tone (oil, digital, a photo-like portrait) and 1 for a face
    drawn in ink lines on paper (baimiao, xieyi), where skin is the paper itself; ``outline`` is how
    much features are bounded by drawn lines (also high for gongbi: fine lines around flat colour).
    Colours are BGR floats taken from the painting: the darkest line ink, the paper or skin tone.
    """

    kind: str  # "ink", "gongbi" or "painted": for people and logs; the weights drive the rendering
    ink: float
    outline: float
    ink_colour: np.ndarray
    paper_colour: np.ndarray
    dark_colour: np.ndarray  # the darkest tone painted around the face: nothing new goes below it
    line_width: float  # typical stroke width around the face, frame pixels
    line_density: float
    saturation: float
    drawn_outline: float = 0.0  # share of the jaw line that is a drawn line


@dataclasses.dataclass
class MouthLook:
    """What the inside of the mouth is painted with, and how the inner lip moves per control."""

    axes: _Axes
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

    @property
    def size(self) -> tuple[int, int]:
        return self.still.shape[1], self.still.shape[0]


def _edge_fade(shape: tuple[int, int], margin: float) -> np.ndarray:
    """1 inside the frame, falling to 0 at its edges: no field may move the painting's border."""
    height, width = shape
    ys, xs = np.mgrid[0:height, 0:width]
    distance = np.minimum(np.minimum(xs, width - 1 - xs), np.minimum(ys, height - 1 - ys)).astype(np.float64)
    return _smoothstep(1.0, margin, distance)


def _rect_fade(rect: Rect, fraction: float = 0.12) -> np.ndarray:
    """1 inside ``rect``, 0 on its border, so a local field pastes into the map without a seam."""
    h, w = rect.shape
    ys, xs = np.mgrid[0:h, 0:w]
    distance = np.minimum(np.minimum(xs, w - 1 - xs), np.minimum(ys, h - 1 - ys)).astype(np.float64)
    return _smoothstep(0.0, max(2.0, fraction * min(h, w)), distance)


@dataclasses.dataclass(frozen=True)
class _Measures:
    mouth_axes: _Axes
    chin: np.ndarray
    nose_to_chin: float
    face_w: float
    face_h: float
    centre: np.ndarray


def _measure(lm: Mapping[str, np.ndarray]) -> _Measures:
    mouth_outer = lm["mouth_outer"]
    rough = _Axes.from_corners(mouth_outer[np.argmin(mouth_outer[:, 0])], mouth_outer[np.argmax(mouth_outer[:, 0])])
    # Corners again along the mouth's own axis: a tilted head's mouth is not horizontal.
    a, _ = rough.local(mouth_outer)
    axes = _Axes.from_corners(mouth_outer[np.argmin(a)], mouth_outer[np.argmax(a)])
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


def build_rig(image: np.ndarray, face: Face, *, size: int = 512, aspect: str | None = None) -> Rig:
    """Frame the painting for ``face`` (at ``aspect``, see ``frame_painting``) and precompute every
    field. ``image`` is BGR uint8."""
    still, framed, framing = frame_painting(image, face, size, aspect)
    lm = framed.landmarks
    height, width = still.shape[:2]
    frame_rect = Rect(0, height, 0, width)
    edge = _edge_fade((height, width), max(6.0, 0.03 * min(width, height)))
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
    head_coarse = _head_coarse(roi, m, edge)
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
    )


def coarse_shape(roi: Rect) -> tuple[int, int]:
    return (roi.shape[0] + COARSE_STEP - 1) // COARSE_STEP + 1, (roi.shape[1] + COARSE_STEP - 1) // COARSE_STEP + 1


def _head_coarse(roi: Rect, m: _Measures, edge: np.ndarray) -> np.ndarray:
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
    rx = (gx - m.centre[0]) / (0.62 * m.face_w)
    ry = (gy - m.centre[1]) / np.where(gy < m.centre[1], 0.78 * m.face_h, 0.6 * m.face_h)
    radius = np.hypot(rx, ry)
    head_mask = (1.0 - _smoothstep(1.0, 1.7, radius)) * coarse_edge
    # Features nearer the viewer (nose) travel further when the head turns than its silhouette does.
    dome = np.clip(1.0 - radius**2, 0.0, 1.0) * head_mask
    depth = 0.3 * head_mask + 0.7 * dome
    pivot = m.chin + 0.35 * m.nose_to_chin * m.mouth_axes.v
    bust = (
        _smoothstep(m.chin[1], m.chin[1] + 0.5 * m.face_h, gy)
        * (1.0 - _smoothstep(0.9 * m.face_w, 1.5 * m.face_w, np.abs(gx - m.centre[0])))
        * coarse_edge
    )
    breath_mask = np.maximum(head_mask, bust)
    degree = math.pi / 180
    zeros = np.zeros_like(gx)
    fields = {
        "head_yaw": (0.5 * m.face_w * math.sin(degree) * depth, zeros),
        "head_pitch": (zeros, 0.5 * m.face_h * math.sin(degree) * depth),
        "head_roll": (-degree * (gy - pivot[1]) * head_mask, degree * (gx - pivot[0]) * head_mask),
        "head_dx": (m.face_w * head_mask, zeros),
        "head_dy": (zeros, m.face_h * head_mask),
        "breath": (zeros, -0.012 * m.face_h * breath_mask),
    }
    return np.stack([np.stack(fields[n], -1) for n in HEAD_CONTROLS]).astype(np.float32)


def _chain_coords(axes: _Axes, chain: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(a in mouth half-widths, a normalised to the chain's own corners, profile) per point."""
    a, _ = axes.local(chain)
    extent = max(abs(float(a[0])), abs(float(a[-1])), 1e-3)
    normalised = np.clip(a / extent, -1.0, 1.0)
    return a, normalised, _profile(normalised)


def _mouth_fields(
    still: np.ndarray, lm: Mapping[str, np.ndarray], m: _Measures, rect: Rect, edge: np.ndarray
) -> tuple[LocalField, MouthLook]:
    axes = m.mouth_axes
    half = axes.half_width
    outer_up, outer_lo = _split_contour(lm["mouth_outer"], axes)
    inner_up, inner_lo = _split_contour(lm["mouth_inner"], axes)
    open_px = m.nose_to_chin / 3.0

    def curve_at(chain: np.ndarray, a: np.ndarray) -> np.ndarray:
        ca, cb = _curve(axes, chain)
        return np.interp(a, ca, cb)

    def lip_moves(chain: np.ndarray, upper: bool, outer: bool) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        a, an, prof = _chain_coords(axes, chain)
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
    fixed = np.concatenate([lm["nose_tip"], *held, _ring(rect.x0, rect.y0, rect.x1 - 1, rect.y1 - 1)])

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

    grid = _grid(rect).reshape(-1, 2)
    fits = []
    for chains in (
        [(outer_up, True, True), (inner_up, True, False)],
        [(outer_lo, False, True), (inner_lo, False, False)],
    ):
        points, values = side_fit(chains)
        fits.append(_tps_field(_tps_fit(points, values, m.face_w), rect))
    upper_field, lower_field = fits

    # The seam between the lips: a sharp step where they meet, widening into a blend past the corners.
    a_grid, b_grid = axes.local(grid)
    ia_up, ib_up = _curve(axes, inner_up)
    ia_lo, ib_lo = _curve(axes, inner_lo)
    seam = (np.interp(a_grid, ia_up, ib_up) + np.interp(a_grid, ia_lo, ib_lo)) / 2
    inner_extent = max(abs(ia_up[0]), abs(ia_up[-1]), abs(ia_lo[0]), abs(ia_lo[-1]))
    width = 0.6 + 1.2 * np.clip(np.abs(a_grid) - inner_extent, 0, None) * half
    lower_side = _smoothstep(-width, width, b_grid - seam)[:, None]
    field = (1 - lower_side) * upper_field + lower_side * lower_field
    fade = (_rect_fade(rect) * edge[rect.y0 : rect.y1, rect.x0 : rect.x1]).reshape(-1, 1)
    field = (field * fade).reshape(*rect.shape, len(MOUTH_CONTROLS), 2).transpose(2, 0, 1, 3)
    local = LocalField(MOUTH_CONTROLS, rect, np.ascontiguousarray(field, dtype=np.float32), axes.origin.copy())

    moves_up = {n: axes.to_image(*lip_moves(inner_up, True, False)[n]) for n in MOUTH_CONTROLS}
    moves_lo = {n: axes.to_image(*lip_moves(inner_lo, False, False)[n]) for n in MOUTH_CONTROLS}
    look_rect = Rect.around(
        np.concatenate([lm["mouth_outer"], lm["mouth_outer"] + 1.3 * open_px * axes.v]), 0.15 * half + 2
    ).clip(Rect(0, still.shape[0], 0, still.shape[1]))
    lip_colour, teeth_colour = _palette(still, lm, outer_up, outer_lo, inner_up, inner_lo)
    ia, ib = _curve(axes, inner_up)
    la, lb = _curve(axes, inner_lo)
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


def _polygon_mask(shape: tuple[int, ...], polygon: np.ndarray) -> np.ndarray:
    mask = np.zeros(shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(polygon * 4).astype(np.int32)], 255, lineType=cv2.LINE_AA, shift=2)
    return mask


def _palette(
    still: np.ndarray,
    lm: Mapping[str, np.ndarray],
    outer_up: np.ndarray,
    outer_lo: np.ndarray,
    inner_up: np.ndarray,
    inner_lo: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The painting's own lip colour, and a teeth colour from its eye whites (or light skin)."""
    outer = _polygon_mask(still.shape, np.concatenate([outer_up, outer_lo[::-1]])) > 127
    inner = _polygon_mask(still.shape, np.concatenate([inner_up, inner_lo[::-1]])) > 127
    lips = still[outer & ~inner].astype(np.float64)
    lip_colour = np.median(lips, axis=0) if len(lips) >= 4 else np.array([60.0, 60.0, 140.0])
    skin_rect = Rect.around(np.concatenate([lm["nose_tip"], outer_up]), 0)
    skin = still[skin_rect.y0 : skin_rect.y1, skin_rect.x0 : skin_rect.x1].reshape(-1, 3).astype(np.float64)
    skin_colour = np.median(skin, axis=0) if len(skin) else lip_colour
    whites = []
    for side in ("left_eye", "right_eye"):
        eye = _polygon_mask(still.shape, lm[side]) > 200
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


def painting_style(still: np.ndarray, lm: Mapping[str, np.ndarray]) -> Style:
    """Measure how the face is painted: line density, saturation, paper and ink colours, stroke width.

    Lines are what a closing (a grey-level "black-hat") finds darker than their surroundings by a clear
    step; the rest is skin or paper. An ink-line face has many lines, little colour and skin as light
    as the paper; a photo-like portrait models its face in tone and has almost no lines.
    """
    points = np.concatenate([lm["jaw"], lm["left_eye"], lm["right_eye"], lm["mouth_outer"]])
    box = Rect.around(points, 0.15 * float(np.ptp(points[:, 0]))).clip(Rect(0, still.shape[0], 0, still.shape[1]))
    patch = still[box.y0 : box.y1, box.x0 : box.x1]
    fallback = Style("painted", 0.0, 0.0, np.array([40.0] * 3), np.array([200.0, 210.0, 220.0]), np.zeros(3), 1.0, 0, 0)
    if patch.shape[0] < 8 or patch.shape[1] < 8:
        return fallback
    gray = cv2.cvtColor(patch, cv2.COLOR_BGR2GRAY)
    face_w = max(float(np.ptp(points[:, 0])), 8.0)
    reach = int(np.clip(round(0.05 * face_w), 2, 9))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1, 2 * reach + 1))
    blackhat = cv2.morphologyEx(gray, cv2.MORPH_BLACKHAT, kernel)
    lines = blackhat > 28
    density = float(lines.mean())
    hsv = cv2.cvtColor(patch, cv2.COLOR_BGR2HSV)
    rest = ~cv2.dilate(lines.view(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    if rest.sum() < 16:
        rest = np.ones_like(lines)
    saturation = float(np.median(hsv[..., 1][rest])) / 255.0
    light = patch[rest].astype(np.float64)
    brightness = light.sum(1)
    paper = np.median(light[brightness >= np.percentile(brightness, 60)], axis=0)
    skin = np.median(light, axis=0)
    if lines.sum() >= 6:
        strength = blackhat[lines]
        ink_colour = patch[lines][strength >= np.percentile(strength, 70)].astype(np.float64).mean(0)
        skeleton = cv2.ximgproc.thinning(lines.view(np.uint8) * 255) > 0
        line_width = float(np.clip(lines.sum() / max(int(skeleton.sum()), 1), 1.0, 0.06 * face_w + 1))
    else:
        ink_colour, line_width = np.clip(skin * 0.3, 0, 255), 1.0
    # A drawn face has its outline drawn: a dark line along the jaw. A face modelled in tone meets its
    # background in a step of tone, which the closing does not pick up.
    jaw = np.round(lm["jaw"] - [box.x0, box.y0]).astype(int)
    near = cv2.dilate(blackhat, np.ones((2 * reach + 1, 2 * reach + 1), np.uint8))
    inside = (jaw[:, 0] >= 0) & (jaw[:, 0] < patch.shape[1]) & (jaw[:, 1] >= 0) & (jaw[:, 1] < patch.shape[0])
    drawn = float((near[jaw[inside, 1], jaw[inside, 0]] > 40).mean()) if inside.any() else 0.0
    # Skin as light as the paper: the face is left unpainted, as in baimiao and xieyi.
    unpainted = 1.0 - float(_smoothstep(12.0, 45.0, np.float64(abs(paper.mean() - skin.mean()))))
    linework = float(_smoothstep(0.03, 0.09, np.float64(density))) * float(_smoothstep(0.35, 0.7, np.float64(drawn)))
    colourless = 1.0 - float(_smoothstep(0.12, 0.22, np.float64(saturation)))
    ink = linework * colourless * (0.4 + 0.6 * unpainted)
    outline = max(ink, linework)
    kind = "ink" if ink >= 0.5 else "gongbi" if outline >= 0.5 else "painted"
    pixels = patch.reshape(-1, 3).astype(np.float64)
    luminance = pixels.mean(1)
    dark = pixels[luminance <= np.percentile(luminance, 1)].mean(0)
    return Style(kind, ink, outline, ink_colour, paper, dark, line_width, density, saturation, drawn)


def _brow_fields(lm: Mapping[str, np.ndarray], m: _Measures, frame_rect: Rect, edge: np.ndarray) -> LocalField | None:
    lift = 0.045 * m.face_h
    moving, anchors = [], []
    for side in ("left", "right"):
        eye = lm[f"{side}_eye"]
        eye_axes = _Axes.from_corners(eye[np.argmin(eye[:, 0])], eye[np.argmax(eye[:, 0])])
        upper, lower = _split_contour(eye, eye_axes)
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
    fixed = np.concatenate([*anchors, lm["nose_tip"], _ring(rect.x0, rect.y0, rect.x1 - 1, rect.y1 - 1)])
    values = np.concatenate([np.concatenate([v for _, v in moving]), np.zeros((len(fixed), 2))])
    field = _tps_field(_tps_fit(np.concatenate([points, fixed]), values, m.face_w), rect)
    fade = (_rect_fade(rect) * edge[rect.y0 : rect.y1, rect.x0 : rect.x1]).reshape(-1, 1)
    field = (field * fade).reshape(1, *rect.shape, 2).astype(np.float32)
    return LocalField(BROW_CONTROLS, rect, field, points.mean(0))


def _reach_below_rim(
    still: np.ndarray, axes: _Axes, ua: np.ndarray, ub: np.ndarray, reach: float, tallest: float
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
    rough = _Axes.from_corners(eye[np.argmin(eye[:, 0])], eye[np.argmax(eye[:, 0])])
    a, _ = rough.local(eye)
    axes = _Axes.from_corners(eye[np.argmin(a)], eye[np.argmax(a)])
    upper, lower = _split_contour(eye, axes)
    ua, ub = _curve(axes, upper)
    la, lb = _curve(axes, lower)
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
    grid = _grid(rect).reshape(-1, 2)
    ga, gb = axes.local(grid)
    up = np.interp(ga, ua, ub)
    low = np.maximum(np.interp(ga, la, lb), up)
    within = 1.0 - _smoothstep(0.92, 1.12, np.abs(ga))
    skin = np.stack([np.interp(ga, columns, strip[:, channel]) for channel in range(3)], -1)
    overshoot = 0.15 * tallest * _profile(np.clip(ga, -1, 1))
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


def paint_eyelid(pixels: np.ndarray, eye: EyeRig, closed: float, style: Style | None = None) -> None:
    """Paint the lid closed by ``closed`` (0 open .. 1 shut) over ``pixels`` (the eye's rect), in place.

    The lid is the skin sampled above the eye coming down from the painted lash line; its edge
    carries a lash line in the painting's own darkest lid colour. Painting instead of stretching the
    skin above keeps glasses rims, hair and brows where they are. On a face modelled in tone the lid
    is shaded a little (it catches less light than the brow bone) and the lash line is soft; on an
    ink-line face (``style.ink``) the lid is the paper, unshaded, and its edge is one brush line: the
    painting's stroke width and ink, full in the middle and tapering to the corners, with a crisp edge.
    """
    ink = style.ink if style is not None else 0.0
    lid = eye.upper + closed * (eye.lower - eye.upper + eye.overshoot)
    b = eye.b
    soft = 0.12 * eye.tallest + 0.6
    # Painted lash lines often sit a little above the mesh's lid contour: cover them as well.
    top = _smoothstep(eye.upper - 0.6 * eye.tallest - 1.0, eye.upper - 0.12 * eye.tallest, b)
    cover = top * (1.0 - _smoothstep(lid - soft, lid + soft, b)) * eye.within
    # Fade the painted lid in over the first part of a blink, so the painted lashes do not pop.
    appear = float(_smoothstep(0.0, 0.3, np.float64(closed)))
    cover *= appear
    depth = np.clip((b - eye.upper) / np.maximum(lid - eye.upper, 1.0), 0.0, 1.0)
    # A lid turned down catches less light than the brow bone its colour came from; paper does not.
    shade = (1.0 - ink) * (0.9 - 0.1 * depth) + ink
    skin = eye.skin * shade[..., None].astype(np.float32)
    taper = _profile(np.clip(eye.a, -1, 1))
    thickness = (0.1 * eye.tallest + 0.7) * (0.6 + 0.4 * taper)
    lash = np.exp(-(((b - lid + 0.3 * thickness) / thickness) ** 2))
    lash_colour = eye.lash_colour.astype(np.float32)
    strength = 0.85
    if style is not None and ink > 0.0:
        # A brush line: the painting's own stroke width, pressed in the middle, lifted at the corners.
        half = np.maximum(0.5 * style.line_width * (0.35 + 0.65 * taper), 0.45)
        brush = np.exp(-(((b - lid + 0.3 * half) / (half + 0.35)) ** 4))
        lash = (1.0 - ink) * lash + ink * brush
        lash_colour = ((1.0 - ink) * lash_colour + ink * style.ink_colour).astype(np.float32)
        strength = 0.85 + 0.1 * ink
    lash = lash * eye.within * appear
    result = pixels.astype(np.float32)
    result += (skin - result) * cover[..., None].astype(np.float32)
    result += (lash_colour - result) * (strength * lash)[..., None].astype(np.float32)
    pixels[...] = np.clip(result + 0.5, 0, 255).astype(np.uint8)


# ---------------------------------------------------------------------------------------------------
# Per frame


@dataclasses.dataclass
class FramePlan:
    """Everything one frame needs beyond the linear head field, shared by both backends."""

    head: np.ndarray  # (K_head,) coefficients
    locals: list[tuple[Rect, np.ndarray, LocalField]]  # (shifted rect, coefficients, field)
    eyes: list[tuple[Rect, EyeRig, float]]  # (shifted rect, eye, how closed)
    mouth_polygon: np.ndarray | None  # inner lips in frame pixels, when parted
    teeth_polygon: np.ndarray | None
    mouth_strength: float = 1.0  # fades the painted inside in as the lips part beyond the painted gap
    head_moving: bool = False


class Planner:
    """Turns one frame's control values into a FramePlan for a rig."""

    def __init__(self, rig: Rig) -> None:
        self.rig = rig
        hc, wc = rig.head_coarse.shape[1:3]
        self.head_flat = rig.head_coarse.reshape(len(HEAD_CONTROLS), -1)
        self._anchors: dict[tuple[float, float], np.ndarray] = {}
        self._coarse_hw = (hc, wc)
        for point in [rig.mouth.anchor, rig.look.axes.origin, *(e.axes.origin for e in rig.eyes)]:
            self.head_shift_at(np.zeros(len(HEAD_CONTROLS)), point)  # fill the cache before threads share it
        if rig.brows is not None:
            self.head_shift_at(np.zeros(len(HEAD_CONTROLS)), rig.brows.anchor)

    def head_shift_at(self, coefficients: np.ndarray, point: np.ndarray) -> np.ndarray:
        """The head family's forward displacement at ``point`` (bilinear on the coarse grid)."""
        key = (float(point[0]), float(point[1]))
        per_control = self._anchors.get(key)
        if per_control is None:
            per_control = self._anchors[key] = self._sample_coarse(point)
        return coefficients @ per_control

    def _sample_coarse(self, point: np.ndarray) -> np.ndarray:
        """(K, 2): each head field's displacement at ``point``, computed once per anchor."""
        roi = self.rig.roi
        hc, wc = self._coarse_hw
        cx = (point[0] - roi.x0 + 0.5) * wc / roi.shape[1] - 0.5
        cy = (point[1] - roi.y0 + 0.5) * hc / roi.shape[0] - 0.5
        x0, y0 = int(np.clip(math.floor(cx), 0, wc - 2)), int(np.clip(math.floor(cy), 0, hc - 2))
        fx, fy = float(np.clip(cx - x0, 0, 1)), float(np.clip(cy - y0, 0, 1))
        patch = self.rig.head_coarse[:, y0 : y0 + 2, x0 : x0 + 2].astype(np.float64)
        top = patch[:, 0, 0] * (1 - fx) + patch[:, 0, 1] * fx
        bottom = patch[:, 1, 0] * (1 - fx) + patch[:, 1, 1] * fx
        return top * (1 - fy) + bottom * fy

    def _shifted(self, rect: Rect, shift: np.ndarray) -> Rect:
        roi = self.rig.roi
        dx = int(np.clip(round(float(shift[0])), roi.x0 - rect.x0, roi.x1 - rect.x1))
        dy = int(np.clip(round(float(shift[1])), roi.y0 - rect.y0, roi.y1 - rect.y1))
        return rect.shifted(dy, dx)

    def plan(self, values: Mapping[str, float]) -> FramePlan:
        rig = self.rig
        head = np.array([values.get(n, 0.0) for n in HEAD_CONTROLS], dtype=np.float32)
        moving_head = bool(np.any(np.abs(head) > EPSILON))
        locals_ = []
        for field in (rig.mouth, rig.brows):
            if field is None:
                continue
            coefficients = np.array([values.get(n, 0.0) for n in field.names], dtype=np.float32)
            if np.any(np.abs(coefficients) > EPSILON):
                shift = self.head_shift_at(head, field.anchor) if moving_head else np.zeros(2)
                locals_.append((self._shifted(field.rect, shift), coefficients, field))
        eyes = []
        for eye in rig.eyes:
            closed = float(np.clip(values.get(eye.control, 0.0), 0.0, 1.0))
            if closed > EPSILON:
                shift = self.head_shift_at(head, eye.axes.origin) if moving_head else np.zeros(2)
                eyes.append((self._shifted(eye.rect, shift), eye, closed))
        mouth_polygon, teeth_polygon, strength = self._mouth_polygons(values, head, moving_head)
        return FramePlan(head, locals_, eyes, mouth_polygon, teeth_polygon, strength, moving_head)

    def _mouth_polygons(
        self, values: Mapping[str, float], head: np.ndarray, moving_head: bool
    ) -> tuple[np.ndarray | None, np.ndarray | None, float]:
        look = self.rig.look
        upper, lower = look.inner_upper.copy(), look.inner_lower.copy()
        for name in MOUTH_CONTROLS:
            c = values.get(name, 0.0)
            if abs(c) > EPSILON:
                upper += c * look.moves_upper[name]
                lower += c * look.moves_lower[name]
        axes = look.axes
        ua, ub = axes.local(upper)
        la, lb = axes.local(lower)
        order = np.argsort(ua)
        # Lips never cross: a lower lip point above the upper lip sits on it.
        lb = np.maximum(lb, np.interp(la, ua[order], ub[order]))
        gap = lb - np.interp(la, ua[order], ub[order])
        # A painted mouth that is already parted keeps its own inside until the lips part further.
        if gap.max() < look.rest_gap + 0.4:
            return None, None, 0.0
        lower = axes.origin + np.outer(la * axes.half_width, axes.u) + np.outer(lb, axes.v)
        if moving_head:
            shift = self.head_shift_at(head, axes.origin)
            # Same whole-pixel shift as the warp's mouth field, so lips and inside stay registered.
            shift = np.round(shift)
            upper, lower = upper + shift, lower + shift
        polygon = np.concatenate([upper, lower[::-1]])
        strength = float(np.clip((gap.max() - look.rest_gap - 0.4) / 2.0, 0.0, 1.0))
        teeth = float(np.clip(values.get("teeth", 0.0), 0.0, 1.0))
        teeth_polygon = None
        if teeth > 0.02:
            _, _an, prof = _chain_coords(axes, upper)
            depth = teeth * np.minimum(0.55 * gap.max() * prof, 0.2 * look.half_width) + 0.5
            teeth_polygon = np.concatenate([upper, (upper + np.outer(depth, axes.v))[::-1]])
        return polygon, teeth_polygon, strength


def paint_overlays(roi_pixels: np.ndarray, rig: Rig, plan: FramePlan) -> None:
    """Paint closing lids and the inside of parted lips onto the warped ROI, in place."""
    roi = rig.roi
    for rect, eye, closed in plan.eyes:
        paint_eyelid(
            roi_pixels[rect.y0 - roi.y0 : rect.y1 - roi.y0, rect.x0 - roi.x0 : rect.x1 - roi.x0], eye, closed, rig.style
        )
    paint_mouth(roi_pixels, rig, plan)


def _ribbon(shape: tuple[int, int], chain: np.ndarray, widths: np.ndarray) -> np.ndarray:
    """A brush stroke along ``chain`` (n, 2) as an anti-aliased mask (float32 0..1): ``widths`` per point."""
    along = np.gradient(chain, axis=0)
    normal = np.stack([-along[:, 1], along[:, 0]], 1) / np.maximum(np.hypot(*along.T), 1e-6)[:, None]
    outline = np.concatenate([chain + normal * (widths / 2)[:, None], (chain - normal * (widths / 2)[:, None])[::-1]])
    return _polygon_mask(shape, outline).astype(np.float32) / 255.0


def paint_mouth(roi_pixels: np.ndarray, rig: Rig, plan: FramePlan) -> None:
    """Paint the inside of the parted lips onto the warped ROI, in place.

    The inside is shaded like a painted mouth rather than cut out: darkest in the shadow under the
    upper lip and in the corners, lifting towards the tongue, with the painting's own grain carried
    through so it is not a flat fill. Its colours come from the painting: on a face modelled in tone,
    the lip colour darkened; on an ink-line face (``rig.style.ink``), a wash of the painting's ink on
    its paper. Where features are bounded by drawn lines (ink, gongbi), the newly parted lip edges are
    drawn as brush strokes in the painting's ink and stroke width, tapering towards the corners.
    """
    if plan.mouth_polygon is None:
        return
    roi, look, style = rig.roi, rig.look, rig.style
    polygon = plan.mouth_polygon
    count = len(look.inner_upper)
    upper, lower = polygon[:count], polygon[count:][::-1]
    pad = 3 + math.ceil(style.line_width)
    x0, y0 = polygon.min(0) - pad
    x1, y1 = polygon.max(0) + pad
    rect = Rect(int(y0), math.ceil(y1) + 1, int(x0), math.ceil(x1) + 1).clip(roi)
    if rect.shape[0] < 2 or rect.shape[1] < 2:
        return
    offset = np.array([rect.x0, rect.y0])
    mask = _polygon_mask(rect.shape, polygon - offset).astype(np.float32) / 255.0
    alpha = cv2.GaussianBlur(mask, (0, 0), 0.5) * plan.mouth_strength

    # Where each pixel lies across the opening: 0 at the upper lip, 1 at the lower; and along it.
    axes = look.axes
    d_x = (np.arange(rect.x0, rect.x1, dtype=np.float32) - np.float32(axes.origin[0]))[None, :]
    d_y = (np.arange(rect.y0, rect.y1, dtype=np.float32) - np.float32(axes.origin[1]))[:, None]
    a = d_x * np.float32(axes.u[0] / axes.half_width) + d_y * np.float32(axes.u[1] / axes.half_width)
    b = d_x * np.float32(axes.v[0]) + d_y * np.float32(axes.v[1])
    ua, ub = axes.local(upper)
    la, lb = axes.local(lower)
    order_u, order_l = np.argsort(ua), np.argsort(la)
    top = np.interp(a, ua[order_u], ub[order_u]).astype(np.float32)
    bottom = np.interp(a, la[order_l], lb[order_l]).astype(np.float32)
    across = np.clip((b - top) / np.maximum(bottom - top, 1.0), 0.0, 1.0)
    extent = max(float(np.abs(ua).max()), 1e-3)
    corner = np.square(np.clip(np.abs(a) * np.float32(1.0 / extent), 0.0, 1.0))
    # Deep shadow under the upper lip and in the corners, lifting towards the tongue below.
    lift = np.clip((across - 0.3) / 0.7, 0.0, 1.0)
    lift = lift * lift * (3.0 - 2.0 * lift) * (1.0 - 0.8 * corner)
    shades = look.shades
    assert shades is not None and look.grain is not None, "build_rig sets the shades and the grain"
    colour = shades.base + lift[..., None] * shades.lift + corner[..., None] * shades.corner
    # Darker than what surrounds the mouth (inside a black beard the mouth is ink, not a grey wash), and
    # never darker than the darkest mark painted on the face (a pale wash painting has no black).
    lightness = shades.base_lightness + lift * shades.lift_lightness + corner * shades.corner_lightness
    towards_dark = np.clip((lightness - shades.ceiling) / np.maximum(lightness - shades.dark_lightness, 1.0), 0, 1)
    colour += (shades.dark - colour) * towards_dark[..., None]
    np.maximum(colour, 0.9 * shades.dark, out=colour)
    if plan.teeth_polygon is not None:
        teeth = _polygon_mask(rect.shape, plan.teeth_polygon - offset).astype(np.float32) / 255.0
        teeth = cv2.GaussianBlur(teeth, (0, 0), 0.5) * mask
        # Teeth recede into shadow towards the corners of the mouth; on paper they are the paper.
        shade = (0.55 + 0.45 * (1.0 - corner))[..., None]
        colour = colour * (1 - teeth[..., None]) + shades.teeth * shade * teeth[..., None]
    target = roi_pixels[rect.y0 - roi.y0 : rect.y1 - roi.y0, rect.x0 - roi.x0 : rect.x1 - roi.x0]
    # The painting's grain (canvas, paper, brush texture) carried into the new paint.
    colour += look.grain[rect.y0 : rect.y1, rect.x0 : rect.x1, None]
    result = target.astype(np.float32)
    result += (colour - result) * alpha[..., None]
    if style.outline > 0.05:
        # The parted lips' inner edges, drawn: the lower one is new, the upper one meets the painted line.
        for chain, weight in ((lower, 0.9), (upper, 0.55)):
            widths = style.line_width * (0.3 + 0.7 * _profile(np.linspace(-1.0, 1.0, len(chain))))
            stroke = _ribbon(rect.shape, chain - offset, np.maximum(widths, 0.6))
            stroke *= weight * style.outline * plan.mouth_strength
            result += (shades.ink - result) * stroke[..., None]
    target[...] = np.clip(result + 0.5, 0, 255).astype(np.uint8)


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
    lips = _polygon_mask(still.shape, outer_lips)[rect.y0 : rect.y1, rect.x0 : rect.x1] > 0
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


def painting_grain(still: np.ndarray) -> np.ndarray:
    """The painting's fine texture (canvas, paper, brush) as a grey offset per pixel, to carry into paint."""
    grey = cv2.cvtColor(still, cv2.COLOR_BGR2GRAY).astype(np.float32)
    return 0.7 * np.clip(grey - cv2.GaussianBlur(grey, (0, 0), 1.5), -12.0, 12.0)


def values_at(controls: Controls, index: int) -> dict[str, float]:
    return {name: float(track[index]) for name, track in controls.tracks.items()}


# A displacement below this rounds to no shift at all in remap's 1/32-pixel fixed point (it rounds to
# nearest, so anything under 1/64 does), and the pixel comes out as the painting's own, bit for bit:
# such pixels are not remapped. A little under 1/64 leaves room for float rounding in the upsampling.
STILL_DISPLACEMENT = 1 / 80
# Rows are remapped in bands of this many coarse rows (16 pixels), each over its own moving columns:
# finer bands follow the head's outline more closely but cost a call each.
BAND_COARSE_ROWS = 4


@dataclasses.dataclass
class _Scratch:
    """Buffers for one frame in flight, reused so no frame allocates megabytes."""

    sampling: np.ndarray  # (h, w, 2) float32 sampling map over the ROI
    frame: np.ndarray  # (H, W, 3) uint8 a whole frame: the painting outside the ROI, never rewritten
    pixels: np.ndarray  # (h, w, 3) view of ``frame``'s ROI, warped in place


class _Bands:
    """Which parts of the ROI a frame's fields move, as row bands with one column span each.

    Every pixel is tied to its nearest coarse sample (cv2.resize's pixel-centre convention); bilinear
    upsampling reads that sample and its neighbours, so a sample's 3x3 neighbourhood being still means
    the pixel's displacement is no larger than theirs.
    """

    def __init__(self, roi: Rect, coarse_hw: tuple[int, int]) -> None:
        h, w = roi.shape
        hc, wc = coarse_hw
        self.roi = roi
        self.coarse_hw = coarse_hw
        self.row_sample = np.clip(np.round((np.arange(h) + 0.5) * hc / h - 0.5), 0, hc - 1).astype(np.int64)
        self.col_sample = np.clip(np.round((np.arange(w) + 0.5) * wc / w - 0.5), 0, wc - 1).astype(np.int64)
        samples = np.arange(wc)
        # Pixel columns whose nearest sample is c are [col_start[c], col_stop[c]).
        self.col_start = np.searchsorted(self.col_sample, samples, "left")
        self.col_stop = np.searchsorted(self.col_sample, samples, "right")
        starts = np.arange(0, hc, BAND_COARSE_ROWS)
        row_start = np.searchsorted(self.row_sample, starts, "left")
        row_stop = np.searchsorted(self.row_sample, starts + BAND_COARSE_ROWS, "left")
        self.band_rows = list(zip(row_start.tolist(), row_stop.tolist(), strict=True))
        self.padded_rows = len(starts) * BAND_COARSE_ROWS
        self._kernel = np.ones((3, 3), np.uint8)
        self._col_start = self.col_start.tolist()
        self._col_stop = self.col_stop.tolist()

    def spans(self, coarse: np.ndarray | None, rects: list[Rect]) -> list[tuple[int, int, int, int]]:
        """(y0, y1, x0, x1) ROI-relative boxes covering every pixel that moves this frame.

        ``coarse`` is the head family's coarse displacement (hc, wc, 2) or None when the head is still;
        ``rects`` are the frame rectangles the local fields (mouth, brows) occupy.
        """
        hc, wc = self.coarse_hw
        moving = np.zeros((self.padded_rows, wc), np.uint8)
        if coarse is not None:
            # |dx| or |dy| above the threshold, as one pass over the interleaved pairs.
            flags = (np.abs(coarse.reshape(hc, 2 * wc)) > STILL_DISPLACEMENT).view(np.uint8)
            cv2.dilate(cv2.max(flags[:, 0::2], flags[:, 1::2]), self._kernel, dst=moving[:hc])
        roi = self.roi
        for rect in rects:
            r0, r1 = self.row_sample[rect.y0 - roi.y0], self.row_sample[rect.y1 - 1 - roi.y0]
            c0, c1 = self.col_sample[rect.x0 - roi.x0], self.col_sample[rect.x1 - 1 - roi.x0]
            moving[r0 : r1 + 1, c0 : c1 + 1] = 1
        by_band = moving.reshape(-1, BAND_COARSE_ROWS, wc).max(axis=1)
        present = by_band.max(axis=1).tolist()
        first = np.argmax(by_band, axis=1).tolist()
        last = np.argmax(by_band[:, ::-1], axis=1).tolist()
        boxes = []
        for band, (y0, y1) in enumerate(self.band_rows):
            if present[band] and y1 > y0:
                boxes.append((y0, y1, self._col_start[first[band]], self._col_stop[wc - 1 - last[band]]))
        return boxes


class _OpenCVWarper:
    """Warps and paints the ROI of one frame at a time; safe to call from several threads at once
    as long as each call gets its own scratch buffers.

    The sampling map is upsampled from a coarse grid that already holds the sample positions (the
    pixel grid minus the head's displacement): bilinear upsampling reproduces the grid exactly inside
    the outermost coarse samples, so no full-resolution subtraction is needed there; the thin strips
    outside them (where cv2.resize clamps) are put right from the exact grid.
    """

    def __init__(self, rig: Rig) -> None:
        self.rig = rig
        self.planner = Planner(rig)
        roi = rig.roi
        h, w = roi.shape
        hc, wc = rig.head_coarse.shape[1:3]
        ys, xs = np.mgrid[roi.y0 : roi.y1, roi.x0 : roi.x1].astype(np.float32)
        self.base = np.ascontiguousarray(np.stack([xs, ys], -1))
        self.still_roi = np.ascontiguousarray(rig.still[roi.y0 : roi.y1, roi.x0 : roi.x1])
        self.bands = _Bands(roi, (hc, wc))
        # Coarse sample positions, in frame pixels (the same centres _head_coarse evaluated the fields at).
        cys = roi.y0 + (np.arange(hc) + 0.5) * (h / hc) - 0.5
        cxs = roi.x0 + (np.arange(wc) + 0.5) * (w / wc) - 0.5
        gx, gy = np.meshgrid(cxs, cys)
        self.coarse_base = np.stack([gx, gy], -1).astype(np.float32)
        # Per control, the coarse fields as (K, hc, wc, 2) float32 contiguous, summed with OpenCV's axpy.
        self.head_fields = [np.ascontiguousarray(f) for f in rig.head_coarse.astype(np.float32)]
        # Pixels outside the outermost coarse sample centres, where cv2.resize clamps instead of
        # extrapolating: there the upsampled grid falls short of the pixel grid by a fixed amount.
        upsampled = cv2.resize(self.coarse_base, (w, h), interpolation=cv2.INTER_LINEAR)
        first_y = max(0, min(h, math.ceil(cys[0] - roi.y0)))
        last_y = max(first_y, min(h, math.floor(cys[-1] - roi.y0) + 1))
        first_x = max(0, min(w, math.ceil(cxs[0] - roi.x0)))
        last_x = max(first_x, min(w, math.floor(cxs[-1] - roi.x0) + 1))
        strips = [
            (slice(0, first_y), slice(0, w)),
            (slice(last_y, h), slice(0, w)),
            (slice(first_y, last_y), slice(0, first_x)),
            (slice(first_y, last_y), slice(last_x, w)),
        ]
        self.strips = [
            (rows, cols, np.ascontiguousarray(self.base[rows, cols] - upsampled[rows, cols]))
            for rows, cols in strips
            if rows.stop > rows.start and cols.stop > cols.start
        ]

    def scratch(self) -> _Scratch:
        h, w = self.rig.roi.shape
        roi = self.rig.roi
        frame = self.rig.still.copy()
        return _Scratch(np.empty((h, w, 2), np.float32), frame, frame[roi.y0 : roi.y1, roi.x0 : roi.x1])

    def _head_map(self, head: np.ndarray, sampling: np.ndarray) -> np.ndarray:
        """Write the head family's sampling map into ``sampling``; return the coarse displacement."""
        h, w = self.rig.roi.shape
        coarse: np.ndarray | None = None
        for coefficient, field in zip(head.tolist(), self.head_fields, strict=True):
            if abs(coefficient) > EPSILON:
                coarse = field * coefficient if coarse is None else cv2.scaleAdd(field, coefficient, coarse)
        assert coarse is not None
        cv2.resize(cv2.subtract(self.coarse_base, coarse), (w, h), dst=sampling, interpolation=cv2.INTER_LINEAR)
        for rows, cols, correction in self.strips:
            part = sampling[rows, cols]
            cv2.add(part, correction, dst=part)
        return coarse

    def warp(self, values: Mapping[str, float], scratch: _Scratch) -> np.ndarray:
        """The ROI of one frame, warped and painted, in ``scratch.pixels`` (inside ``scratch.frame``)."""
        rig, roi = self.rig, self.rig.roi
        plan = self.planner.plan(values)
        sampling, pixels = scratch.sampling, scratch.pixels
        coarse = None
        if plan.head_moving:
            coarse = self._head_map(plan.head, sampling)
        else:
            np.copyto(sampling, self.base)
        for rect, coefficients, field in plan.locals:
            part = sampling[rect.y0 - roi.y0 : rect.y1 - roi.y0, rect.x0 - roi.x0 : rect.x1 - roi.x0]
            total: np.ndarray | None = None
            for coefficient, basis in zip(coefficients.tolist(), field.fields, strict=True):
                if abs(coefficient) > EPSILON:
                    # OpenCV's SIMD axpy is several times faster than numpy's temporaries here.
                    total = basis * coefficient if total is None else cv2.scaleAdd(basis, coefficient, total)
            if total is not None:
                cv2.subtract(part, total, dst=part)
        np.copyto(pixels, self.still_roi)
        for y0, y1, x0, x1 in self.bands.spans(coarse, [rect for rect, _, _ in plan.locals]):
            cv2.remap(
                rig.still,
                sampling[y0:y1, x0:x1],
                None,
                cv2.INTER_LINEAR,
                dst=pixels[y0:y1, x0:x1],
                borderMode=cv2.BORDER_REPLICATE,
            )
        paint_overlays(pixels, rig, plan)
        return pixels


def render_frames_opencv(rig: Rig, controls: Controls, *, workers: int | None = None) -> Iterator[np.ndarray]:
    """Frames (H, W, 3) BGR uint8, one per control frame.

    A yielded array stays as it is until the next frame is asked for (buffers are reused): consume or
    copy it before then. Frames are warped on ``workers`` threads (OpenCV and numpy release the GIL),
    each into a whole-frame buffer of its own whose background is never rewritten, and yielded in
    order, with at most two per thread in flight, so memory does not grow with the film's length.
    Only the pixels a frame's fields move are remapped.
    """
    import concurrent.futures
    import os

    warper = _OpenCVWarper(rig)
    workers = workers or min(2, os.cpu_count() or 1)
    # Whole frames per thread keep the cores busy; OpenCV's own pool inside each call only adds hand-offs
    # and spinning (twice the CPU time for the same wall time on two cores). Restored when the frames end.
    opencv_threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    tracks = [(name, track.tolist()) for name, track in controls.tracks.items()]

    def values(index: int) -> dict[str, float]:
        return {name: track[index] for name, track in tracks}

    try:
        if workers <= 1:
            scratch = warper.scratch()
            for index in range(controls.frame_count):
                warper.warp(values(index), scratch)
                yield scratch.frame
            return
        with concurrent.futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="render") as pool:
            in_flight = 2 * workers
            # One more buffer than frames in flight: the one the caller holds.
            free = [warper.scratch() for _ in range(in_flight + 1)]
            pending: list[tuple[concurrent.futures.Future[np.ndarray], _Scratch]] = []
            submitted = 0
            held: _Scratch | None = None
            for _ in range(controls.frame_count):
                if held is not None:
                    free.append(held)
                while submitted < controls.frame_count and len(pending) < in_flight:
                    scratch = free.pop()
                    pending.append((pool.submit(warper.warp, values(submitted), scratch), scratch))
                    submitted += 1
                future, held = pending.pop(0)
                future.result()
                yield held.frame
    finally:
        cv2.setNumThreads(opencv_threads)


def render_frames(
    rig: Rig, controls: Controls, *, backend: str = "opencv", device: str = "cpu", batch_size: int = 32
) -> Iterator[np.ndarray]:
    """Frames for ``controls`` with the chosen backend ("opencv", or "torch" on ``device``)."""
    if backend == "opencv":
        return render_frames_opencv(rig, controls)
    if backend == "torch":
        from animation.engine.render_torch import render_frames_torch

        return render_frames_torch(rig, controls, device=device, batch_size=batch_size)
    raise ValueError(f"unknown render backend {backend!r}")
