"""The torch back end: the same rig and plans, maps summed and sampled in batches.

Frames are built ``batch_size`` at a time: the head field as one matrix product and one bilinear
upsample, the local fields per frame, then one ``grid_sample`` over the batch. Sampling conventions
match OpenCV's (pixel centres at integer coordinates, ``align_corners=False`` in normalised
coordinates, border replication), so both backends give the same frames to within rounding: OpenCV
interpolates with 1/32-pixel fixed-point weights, torch in float.
Painted lids and mouth are composited by the shared CPU code after the batch comes back: it touches a
few thousand pixels per frame.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
import torch.nn.functional as functional

from animation.engine.controls import Controls
from animation.engine.render.frame_plan import Planner, values_at
from animation.engine.render.painted import paint_overlays
from animation.engine.render.rig import Rig


def render_frames_torch(
    rig: Rig, controls: Controls, *, device: str = "cpu", batch_size: int = 32
) -> Iterator[np.ndarray]:
    """Frames (H, W, 3) BGR uint8; like ``render_frames_opencv``, one array reused for every frame."""
    target = torch.device(device)
    roi = rig.roi
    h, w = roi.shape
    height, width = rig.still.shape[:2]
    hc, wc = rig.head_coarse.shape[1:3]
    with torch.inference_mode():
        still = torch.from_numpy(rig.still).to(target).permute(2, 0, 1).unsqueeze(0).float()
        ys, xs = torch.meshgrid(
            torch.arange(roi.y0, roi.y1, device=target, dtype=torch.float32),
            torch.arange(roi.x0, roi.x1, device=target, dtype=torch.float32),
            indexing="ij",
        )
        base = torch.stack([xs, ys])  # (2, h, w)
        local_fields = {
            id(field): torch.from_numpy(field.fields).to(target).permute(0, 3, 1, 2).contiguous()
            for field in (rig.mouth, rig.brows)
            if field is not None
        }
        # Normalised coordinate = (pixel + 0.5) * scale - 1 for grid_sample with align_corners=False.
        scale = torch.tensor([2.0 / width, 2.0 / height], device=target).view(1, 2, 1, 1)
        planner = Planner(rig)
        frame = rig.still.copy()
        view = frame[roi.y0 : roi.y1, roi.x0 : roi.x1]
        for start in range(0, controls.frame_count, batch_size):
            stop = min(start + batch_size, controls.frame_count)
            plans = [planner.plan(values_at(controls, index)) for index in range(start, stop)]
            count = len(plans)
            # Each plan's coarse backward displacement (the head turned in depth, inverted on the CPU:
            # a few thousand samples); a still head's is zero.
            still_head = np.zeros((hc, wc, 2), np.float32)
            stacked = np.stack([plan.head_coarse if plan.head_coarse is not None else still_head for plan in plans])
            coarse = torch.from_numpy(stacked).to(target).permute(0, 3, 1, 2)
            displacement = functional.interpolate(coarse, size=(h, w), mode="bilinear", align_corners=False)
            sampling = base.unsqueeze(0) - displacement
            for index, plan in enumerate(plans):
                for rect, values, field in plan.locals:
                    weights = torch.from_numpy(values).to(target)
                    combined = torch.einsum("k,kchw->chw", weights, local_fields[id(field)])
                    sampling[index, :, rect.y0 - roi.y0 : rect.y1 - roi.y0, rect.x0 - roi.x0 : rect.x1 - roi.x0] -= (
                        combined
                    )
            grid = ((sampling + 0.5) * scale - 1.0).permute(0, 2, 3, 1)
            warped = functional.grid_sample(
                still.expand(count, -1, -1, -1),
                grid,
                mode="bilinear",
                padding_mode="border",
                align_corners=False,
            )
            pixels = (warped + 0.5).clamp_(0, 255).to(torch.uint8).permute(0, 2, 3, 1).contiguous().cpu().numpy()
            for index, plan in enumerate(plans):
                roi_pixels = pixels[index]
                paint_overlays(roi_pixels, rig, plan)
                view[...] = roi_pixels
                yield frame
