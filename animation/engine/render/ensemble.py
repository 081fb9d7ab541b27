"""Several figures of one painting in one frame: one rig per face, all built on the same framed painting
(``build_rig(..., crop=...)`` with one crop and size), each warping only its own region of interest.

Everything outside every rig's region is the painting itself, untouched, in every frame. Per frame the
rigs are drawn in turn, the one named ``front`` for that frame last (the speaker): a rig whose region
meets no region drawn before it in that frame writes its region whole, exactly as a single rig does.

Where regions overlap (figures standing close enough that one's head and shoulders reach into the
other's region), the rig drawn later replaces the earlier one's pixels only where it moves them
itself; elsewhere in the overlap the earlier rig's pixels stay. Each rig warps the painting, not the
frame drawn so far, so where both really move the same pixels (one head in front of the other) the
front rig wins there and the other's motion does not show through it: the speaker stays whole, the
listener may lose a sliver of its motion where the speaker's fields reach over it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence

import numpy as np

from animation.engine.controls import Controls
from animation.engine.render.backend_opencv import _OpenCVWarper, _Scratch, frames_on_threads
from animation.engine.render.geometry import Rect
from animation.engine.render.rig import Rig


def _meets(first: Rect, second: Rect) -> bool:
    return first.y0 < second.y1 and second.y0 < first.y1 and first.x0 < second.x1 and second.x0 < first.x1


def _composite(target: np.ndarray, pixels: np.ndarray, still: np.ndarray, roi: Rect, earlier: list[Rect]) -> None:
    """Write a rig's warped region ``pixels`` over ``target`` (that region of the frame), keeping what
    the ``earlier`` regions drew where this rig leaves the painting (``still``, the region's painting)
    as it is."""
    keep = np.zeros(roi.shape, bool)
    for other in earlier:
        part = other.clip(roi)
        keep[part.y0 - roi.y0 : part.y1 - roi.y0, part.x0 - roi.x0 : part.x1 - roi.x0] = True
    keep &= ~np.any(pixels != still, axis=2)
    np.copyto(target, pixels, where=~keep[..., None])


def drawing_orders(count: int, front: Sequence[int] | np.ndarray | None, frame_count: int) -> list[tuple[int, ...]]:
    """Per frame, the rigs in the order they are drawn: the others by index, ``front[i]`` last."""
    if front is None:
        return [tuple(range(count))] * frame_count
    front = np.asarray(front, dtype=np.int64)
    if front.shape != (frame_count,) or (frame_count and (front.min() < 0 or front.max() >= count)):
        raise ValueError(f"front must name one of the {count} rigs for each of the {frame_count} frames")
    orders = [(*(k for k in range(count) if k != last), last) for last in range(count)]
    return [orders[last] for last in front.tolist()]


def check_shared_framing(rigs: Sequence[Rig]) -> None:
    """Rigs of one ensemble must share one framed painting (same crop and size): their stills agree."""
    if not rigs:
        raise ValueError("an ensemble needs at least one rig")
    first = rigs[0]
    for rig in rigs[1:]:
        if rig.framing != first.framing or not np.array_equal(rig.still, first.still):
            raise ValueError("the rigs of an ensemble must be built on one framing: build_rig(..., crop=, size=)")


@dataclasses.dataclass
class _Slot:
    """One frame in flight: the whole frame (painting outside the regions, never rewritten) and, per rig,
    a scratch writing straight into its region of the frame and, for rigs whose region can meet another,
    one writing into a buffer of its own for the masked composite."""

    frame: np.ndarray
    direct: list[_Scratch]
    apart: list[_Scratch | None]


class _Ensemble:
    def __init__(self, rigs: Sequence[Rig], controls: Sequence[Controls], front: Sequence[int] | np.ndarray | None):
        check_shared_framing(rigs)
        if len(controls) != len(rigs):
            raise ValueError(f"{len(rigs)} rigs but {len(controls)} sets of controls")
        frame_count = controls[0].frame_count
        if any(c.frame_count != frame_count for c in controls):
            raise ValueError("every rig's controls must have the same number of frames")
        self.rigs = list(rigs)
        self.frame_count = frame_count
        self.warpers = [_OpenCVWarper(rig) for rig in rigs]
        self.orders = drawing_orders(len(rigs), front, frame_count)
        rois = [rig.roi for rig in rigs]
        self.can_meet = [
            any(_meets(roi, other) for j, other in enumerate(rois) if j != k) for k, roi in enumerate(rois)
        ]
        self.tracks = [[(name, track.tolist()) for name, track in c.tracks.items()] for c in controls]

    def values(self, rig: int, index: int) -> dict[str, float]:
        return {name: track[index] for name, track in self.tracks[rig]}

    def slot(self) -> _Slot:
        frame = self.rigs[0].still.copy()
        direct, apart = [], []
        for rig, meets in zip(self.rigs, self.can_meet, strict=True):
            roi = rig.roi
            h, w = roi.shape
            # One sampling map per rig: a frame uses one of the two scratches, never both.
            sampling = np.empty((h, w, 2), np.float32)
            direct.append(_Scratch(sampling, frame, frame[roi.y0 : roi.y1, roi.x0 : roi.x1]))
            apart.append(_Scratch(sampling, frame, np.empty((h, w, 3), np.uint8)) if meets else None)
        return _Slot(frame, direct, apart)

    def draw(self, index: int, slot: _Slot) -> np.ndarray:
        drawn: list[Rect] = []
        for k in self.orders[index]:
            rig, warper = self.rigs[k], self.warpers[k]
            roi = rig.roi
            earlier = [other for other in drawn if _meets(roi, other)]
            apart = slot.apart[k]
            if not earlier or apart is None:
                warper.warp(self.values(k, index), slot.direct[k])
            else:
                pixels = warper.warp(self.values(k, index), apart)
                target = slot.frame[roi.y0 : roi.y1, roi.x0 : roi.x1]
                _composite(target, pixels, warper.still_roi, roi, earlier)
            drawn.append(roi)
        return slot.frame


def render_ensemble(
    rigs: Sequence[Rig],
    controls: Sequence[Controls],
    *,
    front: Sequence[int] | np.ndarray | None = None,
    backend: str = "opencv",
    device: str = "cpu",
    batch_size: int = 32,
    workers: int | None = None,
) -> Iterator[np.ndarray]:
    """Frames (H, W, 3) BGR uint8 of the shared framed painting with every rig's figure moving by its own
    controls (``controls[k]`` for ``rigs[k]``, all of one length); ``front[i]`` is the rig drawn last in
    frame i (the speaker; default: the last rig). As ``render_frames``: a yielded array stays as it is
    until the next frame is asked for. The OpenCV back end draws whole frames on ``workers`` threads
    (``frames_on_threads``, as a single rig's: each region warped as alone);
    the torch one renders each rig in batches and composes the regions on the CPU.
    """
    ensemble = _Ensemble(rigs, controls, front)
    if backend == "torch":
        return _render_torch(ensemble, controls, device=device, batch_size=batch_size)
    if backend != "opencv":
        raise ValueError(f"unknown render backend {backend!r}")
    return frames_on_threads(ensemble.frame_count, ensemble.draw, ensemble.slot, workers=workers)


def _render_torch(
    ensemble: _Ensemble, controls: Sequence[Controls], *, device: str, batch_size: int
) -> Iterator[np.ndarray]:
    from animation.engine.render.backend_torch import render_frames_torch

    streams = [
        iter(render_frames_torch(rig, c, device=device, batch_size=batch_size))
        for rig, c in zip(ensemble.rigs, controls, strict=True)
    ]
    still = ensemble.rigs[0].still
    frame = still.copy()
    for index in range(ensemble.frame_count):
        rendered = [next(stream) for stream in streams]
        drawn: list[Rect] = []
        for k in ensemble.orders[index]:
            roi = ensemble.rigs[k].roi
            pixels = rendered[k][roi.y0 : roi.y1, roi.x0 : roi.x1]
            target = frame[roi.y0 : roi.y1, roi.x0 : roi.x1]
            earlier = [other for other in drawn if _meets(roi, other)]
            if earlier:
                _composite(target, pixels, still[roi.y0 : roi.y1, roi.x0 : roi.x1], roi, earlier)
            else:
                target[...] = pixels
            drawn.append(roi)
        yield frame
