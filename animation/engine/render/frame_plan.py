"""Per frame: one frame's control values -> a FramePlan, shared by both back ends.

The plan holds the head family's coefficients, each local field's (shifted) rectangle and
coefficients, the eyes to close and how far, and the polygons of the parted lips and teeth.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping

import cv2
import numpy as np

from animation.engine.controls import Controls
from animation.engine.render.geometry import Rect, chain_coords
from animation.engine.render.head3d import field_gradient, invert_on_grid, min_jacobian
from animation.engine.render.rig import HEAD_CONTROLS, MOUTH_CONTROLS, TURN_CONTROLS, EyeRig, LocalField, Rig

TURNS = len(TURN_CONTROLS)
# The forward head field's Jacobian determinant may not fall below this anywhere (the far cheek is
# foreshortened to about 0.4 at the range's corners): a turn that would is scaled down until it holds.
FOLD_GUARD = 0.25


# Below this a control changes the picture by well under a pixel: skip its work.
EPSILON = 1e-3


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
    # (hc, wc, 2) float32 on the rig's coarse grid when the head moves: the backward displacement, i.e.
    # each sample's colour comes from (sample position - this); the inverse of the forward head field.
    head_coarse: np.ndarray | None = None


class Planner:
    """Turns one frame's control values into a FramePlan for a rig."""

    def __init__(self, rig: Rig) -> None:
        self.rig = rig
        hc, wc = rig.head_coarse.shape[1:3]
        self.head_flat = rig.head_coarse.reshape(len(HEAD_CONTROLS), -1)
        # Each field as its x plane over its y plane (2 * hc, wc): summed contiguously, as head3d's planes.
        self._linear = [
            np.ascontiguousarray(np.moveaxis(f, -1, 0), dtype=np.float32).reshape(2 * hc, wc) for f in rig.head_coarse
        ]
        self._anchors: dict[
            tuple[float, float], tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray] | None]
        ] = {}
        self._coarse_hw = (hc, wc)
        self._spacing = (rig.roi.shape[1] / wc, rig.roi.shape[0] / hc)
        for point in [rig.mouth.anchor, rig.look.axes.origin, *(e.axes.origin for e in rig.eyes)]:
            self.head_shift_at(np.zeros(len(HEAD_CONTROLS)), point)  # fill the cache before threads share it
        if rig.brows is not None:
            self.head_shift_at(np.zeros(len(HEAD_CONTROLS)), rig.brows.anchor)

    def head_forward(self, head: np.ndarray) -> np.ndarray:
        """The head family's forward displacement (hc, wc, 2) float32 on the coarse grid: the turns
        rotated in depth (``head3d``), the shifts and breath added as linear fields."""
        planes = self._head_forward(head)[0]
        return cv2.merge([planes[0], planes[1]])

    def _head_forward(self, head: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """``head_forward`` as planes (2, hc, wc) and, for a head turned in depth, its derivatives
        (``field_gradient``), which the fold guard and the inverse share."""
        model = self.rig.head3d
        coefficients = [float(c) for c in head]
        first = 0 if model is None else TURNS
        hc, wc = self._coarse_hw
        linear = np.zeros((2 * hc, wc), np.float32)  # both planes stacked: one scaleAdd per field
        for coefficient, field in zip(coefficients[first:], self._linear[first:], strict=True):
            if abs(coefficient) > EPSILON:
                cv2.scaleAdd(field, coefficient, linear, dst=linear)
        linear = linear.reshape(2, hc, wc)
        if model is None:
            return linear, None
        yaw, pitch, roll = (float(value) for value in coefficients[:TURNS])
        total = model.forward_planes(yaw, pitch, roll)
        total += linear
        gradient = field_gradient(total, self._spacing)
        if min_jacobian(gradient) >= FOLD_GUARD:
            return total, gradient
        # A turn this painting's head cannot take without folding (a head against the frame's edge, a
        # corner of the range): the largest share of it that stays one-to-one.
        low, high = 0.0, 1.0
        best, best_gradient = linear, field_gradient(linear, self._spacing)
        for _ in range(6):
            share = (low + high) / 2
            trial = model.forward_planes(share * yaw, share * pitch, share * roll)
            trial += linear
            trial_gradient = field_gradient(trial, self._spacing)
            if min_jacobian(trial_gradient) >= FOLD_GUARD:
                low, best, best_gradient = share, trial, trial_gradient
            else:
                high = share
        return best, best_gradient

    def head_backward(self, head: np.ndarray) -> np.ndarray:
        """The inverse of ``head_forward`` as a backward displacement on the coarse grid (see FramePlan)."""
        forward, gradient = self._head_forward(head)
        model = self.rig.head3d
        if model is None:
            return cv2.merge([forward[0], forward[1]])  # the flat rig's first-order inverse
        roi = self.rig.roi
        return invert_on_grid(forward, model.grid_planes, (roi.y0, roi.x0), roi.shape, gradient)

    def head_shift_at(self, coefficients: np.ndarray, point: np.ndarray) -> np.ndarray:
        """The head family's forward displacement at ``point`` (its depth and weight bilinear on the
        coarse grid, the turn computed there exactly)."""
        key = (float(point[0]), float(point[1]))
        cached = self._anchors.get(key)
        if cached is None:
            cached = self._anchors[key] = self._sample_coarse(point)
        per_control, rest = cached
        model = self.rig.head3d
        coefficients = np.asarray(coefficients, np.float64)
        if model is None or rest is None:
            return coefficients @ per_control
        shift = coefficients[TURNS:] @ per_control[TURNS:]
        if np.any(np.abs(coefficients[:TURNS]) > EPSILON):
            yaw, pitch, roll = (float(value) for value in coefficients[:TURNS])
            shift = shift + model.turn(rest, yaw, pitch, roll)[:, 0]
        return shift

    def _sample_coarse(self, point: np.ndarray) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray] | None]:
        """(K, 2) each head field's displacement at ``point``, and the head model's rest pose there (its
        depth and weight bilinear on the coarse grid), computed once per anchor."""
        roi = self.rig.roi
        hc, wc = self._coarse_hw
        cx = (point[0] - roi.x0 + 0.5) * wc / roi.shape[1] - 0.5
        cy = (point[1] - roi.y0 + 0.5) * hc / roi.shape[0] - 0.5
        x0, y0 = int(np.clip(math.floor(cx), 0, wc - 2)), int(np.clip(math.floor(cy), 0, hc - 2))
        fx, fy = float(np.clip(cx - x0, 0, 1)), float(np.clip(cy - y0, 0, 1))

        def bilinear(values: np.ndarray) -> np.ndarray:
            patch = values[..., y0 : y0 + 2, x0 : x0 + 2, :].astype(np.float64)
            top = patch[..., 0, 0, :] * (1 - fx) + patch[..., 0, 1, :] * fx
            bottom = patch[..., 1, 0, :] * (1 - fx) + patch[..., 1, 1, :] * fx
            return top * (1 - fy) + bottom * fy

        per_control = bilinear(self.rig.head_coarse)
        at = np.asarray(point, np.float64).reshape(1, 2)
        model = self.rig.head3d
        if model is None:
            return per_control, None
        z = bilinear(model.z[..., None])[..., 0].reshape(1)
        weight = bilinear(model.weight[..., None])[..., 0].reshape(1)
        return per_control, model.rest_pose(at, z, weight)

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
        coarse = self.head_backward(head) if moving_head else None
        return FramePlan(head, locals_, eyes, mouth_polygon, teeth_polygon, strength, moving_head, coarse)

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
            _, _an, prof = chain_coords(axes, upper)
            depth = teeth * np.minimum(0.55 * gap.max() * prof, 0.2 * look.half_width) + 0.5
            teeth_polygon = np.concatenate([upper, (upper + np.outer(depth, axes.v))[::-1]])
        return polygon, teeth_polygon, strength


def values_at(controls: Controls, index: int) -> dict[str, float]:
    return {name: float(track[index]) for name, track in controls.tracks.items()}
