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
the CPU and torch grid_sample in batches (``backend_torch``), which is the one to use on CUDA.

Modules, each importing only those above it:

geometry        rectangles, local axes, contours, thin-plate splines, fades, polygon masks
style           how the painting is made (ink lines or tone, its colours, stroke width, grain)
rig             framing the painting and precomputing every field for one face (``build_rig``)
frame_plan      one frame's control values -> a FramePlan (``Planner``), shared by both back ends
painted         lids and the inside of the mouth painted over the warped frame
backend_opencv  cv2.remap of the moving spans, on a few threads
backend_torch   grid_sample in batches (imported only when asked for: it loads torch)
ensemble        several rigs on one framed painting, composed into one frame (a dialogue)

This package re-exports what callers use and chooses the back end (``render_frames``).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from animation.engine.controls import Controls
from animation.engine.render.backend_opencv import render_frames_opencv
from animation.engine.render.ensemble import render_ensemble
from animation.engine.render.frame_plan import EPSILON, FramePlan, Planner, values_at
from animation.engine.render.geometry import Rect
from animation.engine.render.painted import paint_eyelid, paint_mouth, paint_overlays
from animation.engine.render.rig import (
    BROW_CONTROLS,
    COARSE_STEP,
    HEAD_CONTROLS,
    MOUTH_CONTROLS,
    EyeRig,
    Framing,
    LocalField,
    MouthLook,
    MouthShades,
    Rig,
    build_rig,
    coarse_shape,
    frame_painting,
    mouth_shades,
)
from animation.engine.render.style import Style, painting_grain, painting_style

__all__ = [
    "BROW_CONTROLS",
    "COARSE_STEP",
    "EPSILON",
    "HEAD_CONTROLS",
    "MOUTH_CONTROLS",
    "EyeRig",
    "FramePlan",
    "Framing",
    "LocalField",
    "MouthLook",
    "MouthShades",
    "Planner",
    "Rect",
    "Rig",
    "Style",
    "build_rig",
    "coarse_shape",
    "frame_painting",
    "mouth_shades",
    "paint_eyelid",
    "paint_mouth",
    "paint_overlays",
    "painting_grain",
    "painting_style",
    "render_ensemble",
    "render_frames",
    "render_frames_opencv",
    "values_at",
]


def render_frames(
    rig: Rig, controls: Controls, *, backend: str = "opencv", device: str = "cpu", batch_size: int = 32
) -> Iterator[np.ndarray]:
    """Frames for ``controls`` with the chosen backend ("opencv", or "torch" on ``device``)."""
    if backend == "opencv":
        return render_frames_opencv(rig, controls)
    if backend == "torch":
        from animation.engine.render.backend_torch import render_frames_torch

        return render_frames_torch(rig, controls, device=device, batch_size=batch_size)
    raise ValueError(f"unknown render backend {backend!r}")
