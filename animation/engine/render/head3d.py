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
doubles lines once displacements reach tens of pixels. Per frame that costs a few tenths of a
millisecond: the rest pose is computed once, the fields are float32 planes, and Newton stops as soon
as it has settled (a film's small turns take one step, the range's corners up to four).

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
# Newton iterations inverting the forward field on the coarse grid, at most. A move whose first-order
# inverse is off by under INVERSE_TOLERANCE pixels takes none (remap resolves 1/32 of a pixel, and the
# iteration itself settles only to about 0.005-0.02 px: the derivatives are interpolated). After a step
# of s pixels the inverse was measured off by about 0.02 s^2 px (demo portraits, yaw/pitch/roll up to the
# range's corner), so a step under INVERSE_SETTLED_STEP leaves it within that floor: the last one.
INVERSE_ITERATIONS = 4
INVERSE_TOLERANCE = 0.02
INVERSE_SETTLED_STEP = 0.5


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
    # The grid's rest pose, computed once: every frame rotates the same points (see ``_rest_pose``).
    _rest: tuple[np.ndarray, np.ndarray, np.ndarray] = dataclasses.field(init=False, repr=False, compare=False)
    # (2, hc, wc) float32 the grid's x and y planes.
    grid_planes: np.ndarray = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._rest = self._rest_pose(self.grid.reshape(-1, 2), self.z.reshape(-1), self.weight.reshape(-1), np.float32)
        self.grid_planes = np.ascontiguousarray(np.moveaxis(self.grid, -1, 0), dtype=np.float32)

    def _rest_pose(
        self, points: np.ndarray, z: np.ndarray, weight: np.ndarray, dtype: type
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(3, N) the points in 3-D about the axes (x from the centre, y from the pitch axis, z from the
        yaw axis), the rest pose's perspective undone so that projecting them unrotated gives the
        painting; (2, N) the roll pivot minus each point; the weights."""
        s = self.shape
        fw = s.face_w
        distance = CAMERA_DISTANCE * fw
        rest_scale = (distance - z) / distance
        volume = np.stack(
            [
                (points[:, 0] - s.centre[0]) * rest_scale,
                (points[:, 1] - s.centre[1]) * rest_scale - (s.pitch_y - s.centre[1]),
                z + AXIS_BEHIND * fw,
            ]
        ).astype(dtype)
        to_pivot = np.stack([s.neck[0] - points[:, 0], s.neck[1] - points[:, 1]]).astype(dtype)
        return volume, to_pivot, np.asarray(weight, dtype)

    def forward(
        self,
        yaw: float,
        pitch: float,
        roll: float,
        points: np.ndarray | None = None,
        z: np.ndarray | None = None,
        weight: np.ndarray | None = None,
    ) -> np.ndarray:
        """Forward displacement (..., 2) of ``points`` (default: the coarse grid, float32) for the angles
        (degrees)."""
        if points is None:
            planes = self.forward_planes(yaw, pitch, roll)
            # Planes to interleaved pairs: cv2.merge is several times numpy's transposed copy.
            return cv2.merge([planes[0], planes[1]])
        assert z is not None and weight is not None
        return self.turn(self.rest_pose(points, z, weight), yaw, pitch, roll).T.reshape(np.shape(points))

    def rest_pose(
        self, points: np.ndarray, z: np.ndarray, weight: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The rest pose of a few ``points`` (n, 2) of depth ``z`` and follow ``weight`` (n,), in float64,
        for ``turn``: kept by callers that turn the same points every frame."""
        return self._rest_pose(
            np.asarray(points, np.float64).reshape(-1, 2),
            np.asarray(z, np.float64).reshape(-1),
            np.asarray(weight, np.float64).reshape(-1),
            np.float64,
        )

    def forward_planes(self, yaw: float, pitch: float, roll: float) -> np.ndarray:
        """The coarse grid's forward displacement as planes (2, hc, wc) float32: x, then y."""
        return self.turn(self._rest, yaw, pitch, roll).reshape(2, *self.grid.shape[:2])

    def turn(
        self, rest: tuple[np.ndarray, np.ndarray, np.ndarray], yaw: float, pitch: float, roll: float
    ) -> np.ndarray:
        """(2, N) the displacement of the rest pose's points turned by the angles (degrees)."""
        volume, to_pivot, follow = rest
        s = self.shape
        fw = s.face_w
        distance = CAMERA_DISTANCE * fw
        # Yaw about the vertical axis, then pitch about the horizontal one, as one matrix.
        c1, n1 = math.cos(math.radians(yaw)), math.sin(math.radians(yaw))
        c2, n2 = math.cos(math.radians(pitch)), math.sin(math.radians(pitch))
        rotation = np.array([[c1, 0.0, n1], [-n2 * n1, c2, n2 * c1], [-c2 * n1, -n2, c2 * c1]], dtype=volume.dtype)
        turned = rotation @ volume
        # Weak perspective about the outline's plane (the axes lie AXIS_BEHIND behind it).
        scale = np.maximum(distance + AXIS_BEHIND * fw - turned[2], 0.2 * distance)
        np.divide(distance, scale, out=scale)
        # Projected, relative to the roll pivot: the pivot minus the centre, and the pitch axis' height.
        ox = turned[0] * scale
        ox += s.centre[0] - s.neck[0]
        oy = turned[1] + (s.pitch_y - s.centre[1])
        oy *= scale
        oy += s.centre[1] - s.neck[1]
        out = np.empty((2, volume.shape[1]), volume.dtype)
        if roll:
            c3, n3 = math.cos(math.radians(roll)), math.sin(math.radians(roll))
            np.multiply(ox, c3, out=out[0])
            out[0] -= n3 * oy
            np.multiply(ox, n3, out=out[1])
            out[1] += c3 * oy
        else:
            out[0], out[1] = ox, oy
        out += to_pivot
        out *= follow
        return out


def field_gradient(planes: np.ndarray, spacing: tuple[float, float]) -> np.ndarray:
    """(4, hc, wc) the derivatives of a coarse field given as planes (2, hc, wc) float32, per frame pixel:
    dFx/dx, dFy/dx, dFx/dy, dFy/dy; central differences inside, one-sided at the edges (numpy.gradient's
    convention), with samples ``spacing`` (x, y) pixels apart. Planes, not interleaved channels: numpy's
    arithmetic on strided channels costs several times its contiguous speed on arrays this small."""
    out = np.empty((4, *planes.shape[1:]), np.float32)
    for index, (plane, dx) in enumerate(((planes[0], 1), (planes[1], 1), (planes[0], 0), (planes[1], 0))):
        step = spacing[0] if dx else spacing[1]
        cv2.Sobel(plane, cv2.CV_32F, dx, 1 - dx, dst=out[index], ksize=1, scale=0.5 / step)
        if dx:
            out[index, :, 0] = (plane[:, 1] - plane[:, 0]) / step
            out[index, :, -1] = (plane[:, -1] - plane[:, -2]) / step
        else:
            out[index, 0] = (plane[1] - plane[0]) / step
            out[index, -1] = (plane[-1] - plane[-2]) / step
    return out


def min_jacobian(gradient: np.ndarray) -> float:
    """The smallest Jacobian determinant of p -> p + F(p), from ``field_gradient``'s derivatives."""
    return float(((1.0 + gradient[0]) * (1.0 + gradient[3]) - gradient[2] * gradient[1]).min())


def invert_on_grid(
    forward: np.ndarray,
    grid: np.ndarray,
    roi_origin: tuple[int, int],
    roi_shape: tuple[int, int],
    gradient: np.ndarray | None = None,
) -> np.ndarray:
    """The backward displacement B on the coarse grid: grid - B is where each sample's colour comes from,
    i.e. p + F(p) = grid at p = grid - B, for the forward field F given as planes (2, hc, wc) float32 on
    the ``grid`` (planes (2, hc, wc) too: ``HeadModel.grid_planes``). Solved by Newton's method with F
    and its derivatives (``field_gradient``; computed here when not given) interpolated bilinearly on the
    grid (it is smooth). A plain fixed-point iteration p = grid - F(p) diverges where the field shears
    by more than a pixel per pixel (a rolled head's hair against the still background), though the map
    is one-to-one there. Small moves need no iteration (the first-order inverse B = F(grid) is within
    ``INVERSE_TOLERANCE``); the rest stop after a step under ``INVERSE_SETTLED_STEP``. Returns float32 (hc, wc, 2)."""
    hc, wc = forward.shape[1:]
    y0, x0 = roi_origin
    h, w = roi_shape
    field_x, field_y = forward[0], forward[1]
    if gradient is None:
        gradient = field_gradient(forward, (w / wc, h / hc))
    # The first-order inverse is off by about F . grad F: within tolerance, it is the answer.
    if 2.0 * float(np.abs(gradient).max()) * float(np.abs(forward).max()) < INVERSE_TOLERANCE:
        return cv2.merge([field_x, field_y])
    # Frame pixels -> coarse sample coordinates (cv2.resize's pixel-centre convention).
    sx, sy = np.float32(wc / w), np.float32(hc / h)
    offset_x, offset_y = np.float32((0.5 - x0) * sx - 0.5), np.float32((0.5 - y0) * sy - 0.5)
    # The field and its derivatives as one image, sampled by one remap per step.
    both = cv2.merge([field_x, field_y, *gradient])
    target_x, target_y = grid[0], grid[1]
    px, py = target_x - field_x, target_y - field_y
    for _ in range(INVERSE_ITERATIONS):
        map_x = px * sx
        map_x += offset_x
        map_y = py * sy
        map_y += offset_y
        moved_x, moved_y, a, c, b, d = cv2.split(
            cv2.remap(both, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=(0.0,))
        )
        # The residual p + F(p) - grid, and the Jacobian [[1 + a, b], [c, 1 + d]] at p.
        moved_x += px
        moved_x -= target_x
        moved_y += py
        moved_y -= target_y
        a += 1.0
        d += 1.0
        det = a * d
        det -= b * c
        # Keep the step finite where the interpolated Jacobian nearly vanishes (outside the head).
        det = np.copysign(np.maximum(np.abs(det), np.float32(0.05)), det)
        step_x = d * moved_x
        step_x -= b * moved_y
        step_x /= det
        step_y = a * moved_y
        step_y -= c * moved_x
        step_y /= det
        px -= step_x
        py -= step_y
        # Newton converges about quadratically: after a step this small the next would change nothing.
        largest = max(-float(step_x.min()), float(step_x.max()), -float(step_y.min()), float(step_y.max()))
        if largest < INVERSE_SETTLED_STEP:
            break
    return cv2.merge([target_x - px, target_y - py])


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
