"""The OpenCV back end: each frame's sampling map summed on the CPU, then ``cv2.remap``.

Only the pixels a frame's fields move are remapped (row bands, one column span each, ``_Bands``);
frames are warped on a few threads, each into a whole-frame buffer of its own.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterator, Mapping
from typing import TypeVar

import cv2
import numpy as np

from animation.engine.controls import Controls
from animation.engine.render.frame_plan import EPSILON, FramePlan, Planner
from animation.engine.render.geometry import Rect
from animation.engine.render.painted import paint_overlays
from animation.engine.render.rig import Rig

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

    def _head_map(self, coarse: np.ndarray, sampling: np.ndarray) -> np.ndarray:
        """Write the head family's sampling map into ``sampling`` from the plan's coarse backward
        displacement ``coarse``; return it."""
        h, w = self.rig.roi.shape
        cv2.resize(cv2.subtract(self.coarse_base, coarse), (w, h), dst=sampling, interpolation=cv2.INTER_LINEAR)
        for rows, cols, correction in self.strips:
            part = sampling[rows, cols]
            cv2.add(part, correction, dst=part)
        return coarse

    def sampling_map(self, values: Mapping[str, float]) -> np.ndarray:
        """The whole sampling map (h, w, 2) of one frame over the ROI (head and local fields), as
        ``warp`` remaps with: for measuring a warp (fold-over, stretch) without rendering it."""
        plan = self.planner.plan(values)
        h, w = self.rig.roi.shape
        sampling = np.empty((h, w, 2), np.float32)
        if plan.head_moving:
            assert plan.head_coarse is not None
            self._head_map(plan.head_coarse, sampling)
        else:
            np.copyto(sampling, self.base)
        self._subtract_locals(plan, sampling)
        return sampling

    def _subtract_locals(self, plan: FramePlan, sampling: np.ndarray) -> None:
        roi = self.rig.roi
        for rect, coefficients, field in plan.locals:
            part = sampling[rect.y0 - roi.y0 : rect.y1 - roi.y0, rect.x0 - roi.x0 : rect.x1 - roi.x0]
            total: np.ndarray | None = None
            for coefficient, basis in zip(coefficients.tolist(), field.fields, strict=True):
                if abs(coefficient) > EPSILON:
                    # OpenCV's SIMD axpy is several times faster than numpy's temporaries here.
                    total = basis * coefficient if total is None else cv2.scaleAdd(basis, coefficient, total)
            if total is not None:
                cv2.subtract(part, total, dst=part)

    def warp(self, values: Mapping[str, float], scratch: _Scratch) -> np.ndarray:
        """The ROI of one frame, warped and painted, in ``scratch.pixels`` (inside ``scratch.frame``)."""
        rig = self.rig
        plan = self.planner.plan(values)
        sampling, pixels = scratch.sampling, scratch.pixels
        coarse = None
        if plan.head_moving:
            assert plan.head_coarse is not None
            coarse = self._head_map(plan.head_coarse, sampling)
        else:
            np.copyto(sampling, self.base)
        self._subtract_locals(plan, sampling)
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
    copy it before then. Frames are warped on ``workers`` threads (``frames_on_threads``), each into a
    whole-frame buffer of its own whose background is never rewritten. Only the pixels a frame's fields
    move are remapped.
    """
    warper = _OpenCVWarper(rig)
    tracks = [(name, track.tolist()) for name, track in controls.tracks.items()]

    def draw(index: int, scratch: _Scratch) -> np.ndarray:
        warper.warp({name: track[index] for name, track in tracks}, scratch)
        return scratch.frame

    return frames_on_threads(controls.frame_count, draw, warper.scratch, workers=workers)


Buffer = TypeVar("Buffer")


def frames_on_threads(
    frame_count: int,
    draw: Callable[[int, Buffer], np.ndarray],
    new_buffer: Callable[[], Buffer],
    *,
    workers: int | None = None,
) -> Iterator[np.ndarray]:
    """``draw(index, buffer)`` for every frame index in order, on ``workers`` threads (OpenCV and numpy
    release the GIL), yielding what it returns (a frame inside the buffer). Each frame in flight has a
    buffer of its own (``new_buffer``), at most two per thread, so memory does not grow with the film's
    length; a yielded frame stays as it is until the next one is asked for.
    """
    import concurrent.futures
    import os

    workers = workers or min(2, os.cpu_count() or 1)
    # Whole frames per thread keep the cores busy; OpenCV's own pool inside each call only adds hand-offs
    # and spinning (twice the CPU time for the same wall time on two cores). Restored when the frames end.
    opencv_threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        if workers <= 1:
            buffer = new_buffer()
            for index in range(frame_count):
                yield draw(index, buffer)
            return
        with concurrent.futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="render") as pool:
            in_flight = 2 * workers
            # One more buffer than frames in flight: the one the caller holds.
            free = [new_buffer() for _ in range(in_flight + 1)]
            pending: list[tuple[concurrent.futures.Future[np.ndarray], Buffer]] = []
            submitted = 0
            held: Buffer | None = None
            for _ in range(frame_count):
                if held is not None:
                    free.append(held)
                while submitted < frame_count and len(pending) < in_flight:
                    buffer = free.pop()
                    pending.append((pool.submit(draw, submitted, buffer), buffer))
                    submitted += 1
                future, held = pending.pop(0)
                yield future.result()
    finally:
        cv2.setNumThreads(opencv_threads)
