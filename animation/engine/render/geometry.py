"""Small geometry for the rig: pixel rectangles, a feature's local axes, contours split into upper and
lower chains, thin-plate splines, soft fades and anti-aliased polygon masks.

Everything here is plain numpy and OpenCV on points and rectangles; nothing knows about faces.
"""

from __future__ import annotations

import dataclasses
import math

import cv2
import numpy as np


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


def pixel_grid(rect: Rect) -> np.ndarray:
    ys, xs = np.mgrid[rect.y0 : rect.y1, rect.x0 : rect.x1]
    return np.stack([xs, ys], -1).astype(np.float64)


def smoothstep(edge0: float | np.ndarray, edge1: float | np.ndarray, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - edge0) / (edge1 - edge0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


@dataclasses.dataclass(frozen=True)
class Axes:
    """A local frame: ``a`` along the feature (corner to corner, in half-widths), ``b`` across it
    (pixels, towards the chin)."""

    origin: np.ndarray
    u: np.ndarray
    v: np.ndarray
    half_width: float

    @classmethod
    def from_corners(cls, left: np.ndarray, right: np.ndarray) -> Axes:
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


def split_contour(points: np.ndarray, axes: Axes) -> tuple[np.ndarray, np.ndarray]:
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


def curve(axes: Axes, chain: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, b = axes.local(chain)
    order = np.argsort(a)
    return a[order], b[order]


def profile(a: np.ndarray) -> np.ndarray:
    """1 in the middle of a lip or lid, 0 at its corners: how far each part of it can move."""
    return np.clip(1.0 - a * a, 0.0, 1.0) ** 0.7


def chain_coords(axes: Axes, chain: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(a in mouth half-widths, a normalised to the chain's own corners, profile) per point."""
    a, _ = axes.local(chain)
    extent = max(abs(float(a[0])), abs(float(a[-1])), 1e-3)
    normalised = np.clip(a / extent, -1.0, 1.0)
    return a, normalised, profile(normalised)


def tps_fit(points: np.ndarray, values: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray, float]:
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


def tps_eval(fit: tuple[np.ndarray, np.ndarray, float], query: np.ndarray) -> np.ndarray:
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


def tps_field(fit: tuple[np.ndarray, np.ndarray, float], rect: Rect, step: int = 3) -> np.ndarray:
    """The spline over every pixel of ``rect`` (h*w, C): evaluated every ``step`` pixels and upsampled,
    since the fields are smooth and a full-resolution evaluation costs a second per painting."""
    h, w = rect.shape
    ch, cw = max(2, -(-h // step) + 1), max(2, -(-w // step) + 1)
    ys = rect.y0 + (np.arange(ch) + 0.5) * (h / ch) - 0.5
    xs = rect.x0 + (np.arange(cw) + 0.5) * (w / cw) - 0.5
    gx, gy = np.meshgrid(xs, ys)
    coarse = tps_eval(fit, np.stack([gx, gy], -1).reshape(-1, 2)).reshape(ch, cw, -1).astype(np.float32)
    channels = [cv2.resize(coarse[..., i], (w, h), interpolation=cv2.INTER_LINEAR) for i in range(coarse.shape[-1])]
    return np.stack(channels, -1).reshape(h * w, -1).astype(np.float64)


def ring(x0: float, y0: float, x1: float, y1: float, count: int = 7) -> np.ndarray:
    xs, ys = np.linspace(x0, x1, count), np.linspace(y0, y1, count)
    return np.concatenate(
        [
            np.stack([xs, np.full(count, y0)], 1),
            np.stack([xs, np.full(count, y1)], 1),
            np.stack([np.full(count - 2, x0), ys[1:-1]], 1),
            np.stack([np.full(count - 2, x1), ys[1:-1]], 1),
        ]
    )


def edge_fade(shape: tuple[int, int], margin: float) -> np.ndarray:
    """1 inside the frame, falling to 0 at its edges: no field may move the painting's border."""
    height, width = shape
    ys, xs = np.mgrid[0:height, 0:width]
    distance = np.minimum(np.minimum(xs, width - 1 - xs), np.minimum(ys, height - 1 - ys)).astype(np.float64)
    return smoothstep(1.0, margin, distance)


def rect_fade(rect: Rect, fraction: float = 0.12) -> np.ndarray:
    """1 inside ``rect``, 0 on its border, so a local field pastes into the map without a seam."""
    h, w = rect.shape
    ys, xs = np.mgrid[0:h, 0:w]
    distance = np.minimum(np.minimum(xs, w - 1 - xs), np.minimum(ys, h - 1 - ys)).astype(np.float64)
    return smoothstep(0.0, max(2.0, fraction * min(h, w)), distance)


def polygon_mask(shape: tuple[int, ...], polygon: np.ndarray) -> np.ndarray:
    mask = np.zeros(shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(polygon * 4).astype(np.int32)], 255, lineType=cv2.LINE_AA, shift=2)
    return mask
