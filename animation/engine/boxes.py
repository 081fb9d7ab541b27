"""Face boxes [x0, y0, x1, y1] in pixels: overlap, and whether two boxes are the same face."""

from __future__ import annotations

import numpy as np


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two boxes (0 when they do not touch)."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def same_face(a: np.ndarray, b: np.ndarray) -> bool:
    """Two boxes of one face: they overlap (IoU > 0.3), or the smaller one's centre is inside the larger.

    A face seen whole in one tile and cut in another gives boxes of different sizes; the centre of the
    smaller inside the larger catches those where IoU does not.
    """
    if iou(a, b) > 0.3:
        return True
    small, large = (a, b) if (a[2] - a[0]) < (b[2] - b[0]) else (b, a)
    cx, cy = (small[0] + small[2]) / 2, (small[1] + small[3]) / 2
    return bool(large[0] <= cx <= large[2] and large[1] <= cy <= large[3])
