"""A head that turns in depth: yaw, pitch and roll as a rotation of a 3-D face, projected back.

The painted face is given a depth per point (``HeadShape``): a dome over the face oval whose slope is
bounded at its rim (so the far cheek foreshortens without folding over), a ridge for the nose and a
smaller bump for the chin, on proportions taken from mediapipe's canonical face model (nose tip about
0.48 face widths in front of the ear-to-ear line, the eye corners 0.2-0.24, the mouth 0.27-0.38).
mediapipe 0.10.21's wheel does not ship ``canonical_face_model.obj`` (``modules/face_geometry/data``
holds only ``__init__.py``), so the shape is parametric, fitted to the painting's key points.

Per frame every point of the head's coarse grid is rotated about the neck (yaw about a vertical axis a
little behind the cheeks, pitch about a horizontal one at the mouth's height, roll in the picture's
plane about the neck), projected with a weak perspective, and the move is weighted by a soft mask
(1 over the face, hair and headdress, falling to 0 past them and down the neck), so the background
never moves. That gives the forward field (where a painted point goes); the sampling map the back ends
need is its inverse, found by Newton's method on the coarse grid (exact to well under a pixel
even where the far cheek is compressed 2.5x), not the first-order ``x - forward(x)``, which tears and
doubles lines once displacements reach tens of pixels.

Signs follow ``controls``: yaw > 0 turns the nose towards the image's right, pitch > 0 nods down,
roll > 0 tilts clockwise on screen. Nothing here knows about paintings or Django.
"""

from __future__ import annotations

import dataclasses
import math

import cv2
import numpy as np

from animation.engine.render.geometry import smoothstep

# Depth, in face widths (the jaw's ear-to-ear span), in front of the plane of the face's outline.
DOME_DEPTH = 0.26
NOSE_DEPTH = 0.2
CHIN_DEPTH = 0.06
# The mouth and its surround stand out of the dome (the canonical model's upper lip is 0.18 face widths
# in front of the outer eye corners, its mouth corners 0.07).
MUZZLE_DEPTH = 0.12
# The dome is sqrt(1 - r^2 + e), shifted and scaled to 1 at the centre and 0 at the rim; e bounds its
# slope at the rim (a sphere's is infinite there and would fold the far cheek at any turn).
DOME_SOFTNESS = 0.09
# The yaw and pitch axes lie this far (face widths) behind the outline's plane; pitch turns at the
# mouth's height. Camera distance for the weak perspective, in face widths.
AXIS_BEHIND = 0.1
CAMERA_DISTANCE = 8.0
# Newton iterations inverting the forward field on the coarse grid.
INVERSE_ITERATIONS = 4


@dataclasses.dataclass(frozen=True)
class HeadShape:
    """Where the head is (frame pixels) and how deep each part of it is."""

    centre: tuple[float, float]  # the face oval's centre
    face_w: float
    face_h: float
    nose: tuple[float, float]
    chin: tuple[float, float]
    mouth: tuple[float, float]  # the mouth's centre
    neck: tuple[float, float]  # the roll pivot
    pitch_y: float  # height of the pitch axis (the mouth's)
    # The soft mask's egg (same as the flat rig's): half-widths and heights above/below the centre.
    egg: tuple[float, float, float]
    egg_falloff: tuple[float, float]

    def depth(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Depth (pixels, towards the viewer) of the painted point (x, y)."""
        cx, cy = self.centre
        fw = self.face_w
        rx = (x - cx) / (0.55 * fw)
        ry = (y - cy) / np.where(y < cy, 0.62 * self.face_h, 0.56 * self.face_h)
        r2 = rx * rx + ry * ry
        e = DOME_SOFTNESS
        top, floor = math.sqrt(1.0 + e), math.sqrt(e)
        dome = (np.sqrt(np.clip(1.0 - r2, 0.0, None) + e) - floor) / (top - floor)
        nx, ny = self.nose
        # The nose: a ridge from between the eyes down to the tip, widest and deepest at the tip.
        along = np.clip((y - (ny - 0.35 * self.face_h)) / (0.35 * self.face_h), 0.0, 1.0)
        across = (x - nx) / (0.09 * fw + 0.05 * fw * along)
        below = np.clip((y - ny) / (0.07 * self.face_h), 0.0, None)
        nose = (0.35 + 0.65 * along) * np.exp(-0.5 * across * across - 0.5 * below * below)
        nose *= smoothstep(ny - 0.42 * self.face_h, ny - 0.3 * self.face_h, y)
        chx, chy = self.chin
        chin = np.exp(
            -0.5 * (((x - chx) / (0.12 * fw)) ** 2 + ((y - chy + 0.06 * self.face_h) / (0.08 * self.face_h)) ** 2)
        )
        mx, my = self.mouth
        muzzle = np.exp(-0.5 * (((x - mx) / (0.17 * fw)) ** 2 + ((y - my) / (0.11 * self.face_h)) ** 2))
        return fw * (DOME_DEPTH * dome + NOSE_DEPTH * nose + CHIN_DEPTH * chin + MUZZLE_DEPTH * muzzle)

    def weight(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """How much of the head's rotation a point follows: 1 on the head, 0 past its falloff."""
        cx, cy = self.centre
        half_w, up, down = self.egg
        rx = (x - cx) / half_w
        ry = (y - cy) / np.where(y < cy, up, down)
        radius = np.hypot(rx, ry)
        return 1.0 - smoothstep(self.egg_falloff[0], self.egg_falloff[1], radius)


@dataclasses.dataclass
class HeadModel:
    """A head's depth and follow weights on the rig's coarse grid, and the rotation of them."""

    shape: HeadShape
    grid: np.ndarray  # (hc, wc, 2) frame-pixel positions of the coarse samples
    z: np.ndarray  # (hc, wc) depth at each sample
    weight: np.ndarray  # (hc, wc) follow weight (already times the frame's edge fade)

    def forward(
        self,
        yaw: float,
        pitch: float,
        roll: float,
        points: np.ndarray | None = None,
        z: np.ndarray | None = None,
        weight: np.ndarray | None = None,
    ) -> np.ndarray:
        """Forward displacement (..., 2) of ``points`` (default: the coarse grid) for the angles (degrees)."""
        if points is None:
            points, z, weight = self.grid, self.z, self.weight
        assert z is not None and weight is not None
        s = self.shape
        cx = s.centre[0]
        fw = s.face_w
        behind = -AXIS_BEHIND * fw
        distance = CAMERA_DISTANCE * fw
        x = points[..., 0] - cx
        y = points[..., 1]
        # Undo the rest pose's perspective so that projecting the unrotated head gives the painting.
        rest_scale = (distance - z) / distance
        x3, z3 = x * rest_scale, z - behind
        y3 = (y - s.centre[1]) * rest_scale + s.centre[1]
        if yaw:
            c, n = math.cos(math.radians(yaw)), math.sin(math.radians(yaw))
            x3, z3 = c * x3 + n * z3, -n * x3 + c * z3
        if pitch:
            c, n = math.cos(math.radians(pitch)), math.sin(math.radians(pitch))
            yp = y3 - s.pitch_y
            y3, z3 = s.pitch_y + c * yp + n * z3, -n * yp + c * z3
        z3 = z3 + behind
        scale = distance / np.maximum(distance - z3, 0.2 * distance)
        px = x3 * scale + cx
        py = (y3 - s.centre[1]) * scale + s.centre[1]
        if roll:
            c, n = math.cos(math.radians(roll)), math.sin(math.radians(roll))
            ox, oy = px - s.neck[0], py - s.neck[1]
            px, py = s.neck[0] + c * ox - n * oy, s.neck[1] + n * ox + c * oy
        return np.stack([(px - points[..., 0]) * weight, (py - points[..., 1]) * weight], -1)


def invert_on_grid(
    forward: np.ndarray, grid: np.ndarray, roi_origin: tuple[int, int], roi_shape: tuple[int, int]
) -> np.ndarray:
    """The backward displacement B on the coarse grid: grid - B is where each sample's colour comes from,
    i.e. p + forward(p) = grid at p = grid - B, solved by Newton's method with ``forward`` and its
    derivatives interpolated bilinearly on the grid (it is smooth). A plain fixed-point iteration
    p = grid - forward(p) diverges where the field shears by more than a pixel per pixel (a rolled
    head's hair against the still background), though the map is one-to-one there. Returns float32
    (hc, wc, 2)."""
    hc, wc = forward.shape[:2]
    y0, x0 = roi_origin
    h, w = roi_shape
    field = np.ascontiguousarray(forward, dtype=np.float32)
    # Frame pixels -> coarse sample coordinates (cv2.resize's pixel-centre convention).
    sx, sy = wc / w, hc / h
    # d forward / d frame pixel, as four channels: dFx/dx, dFx/dy, dFy/dx, dFy/dy.
    gradient = np.ascontiguousarray(
        np.stack(
            [
                np.gradient(field[..., 0], axis=1) * sx,
                np.gradient(field[..., 0], axis=0) * sy,
                np.gradient(field[..., 1], axis=1) * sx,
                np.gradient(field[..., 1], axis=0) * sy,
            ],
            -1,
        ),
        dtype=np.float32,
    )
    target = grid.astype(np.float32)
    p = target - field
    for _ in range(INVERSE_ITERATIONS):
        map_x = ((p[..., 0] - x0 + 0.5) * sx - 0.5).astype(np.float32)
        map_y = ((p[..., 1] - y0 + 0.5) * sy - 0.5).astype(np.float32)
        moved = cv2.remap(field, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=(0.0,))
        slope = cv2.remap(gradient, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=(0.0,))
        residual = p + moved - target
        a, b, c, d = 1.0 + slope[..., 0], slope[..., 1], slope[..., 2], 1.0 + slope[..., 3]
        det = a * d - b * c
        det = np.where(np.abs(det) < 0.05, np.copysign(0.05, det), det)
        step_x = (d * residual[..., 0] - b * residual[..., 1]) / det
        step_y = (a * residual[..., 1] - c * residual[..., 0]) / det
        p = p - np.stack([step_x, step_y], -1)
    return np.ascontiguousarray(target - p, dtype=np.float32)


def sampling_jacobian(sampling: np.ndarray) -> np.ndarray:
    """The Jacobian determinant of a sampling map (h, w, 2) by central differences: > 0 everywhere means
    the warp is one-to-one (no fold), its size how much area is squeezed (< 1: the film stretches)."""
    sx = sampling[..., 0].astype(np.float64)
    sy = sampling[..., 1].astype(np.float64)
    dxdx = np.gradient(sx, axis=1)
    dxdy = np.gradient(sx, axis=0)
    dydx = np.gradient(sy, axis=1)
    dydy = np.gradient(sy, axis=0)
    return dxdx * dydy - dxdy * dydx
