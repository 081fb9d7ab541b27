"""Painted features: what is painted over the warped frame instead of warped, in place.

Closing lids (the lid skin coming down from the painted lash line, with a lash line of the painting's
own colour, or a brush line on an ink painting) and the inside of the parted lips (shaded from the
painting's palette, with its grain, teeth when asked for, drawn lip edges where features are drawn).
Both back ends call ``paint_overlays`` on the region of interest of every frame.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from animation.engine.render.frame_plan import FramePlan
from animation.engine.render.geometry import Rect, polygon_mask, profile, smoothstep
from animation.engine.render.rig import EyeRig, Rig
from animation.engine.render.style import Style


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
    top = smoothstep(eye.upper - 0.6 * eye.tallest - 1.0, eye.upper - 0.12 * eye.tallest, b)
    cover = top * (1.0 - smoothstep(lid - soft, lid + soft, b)) * eye.within
    # Fade the painted lid in over the first part of a blink, so the painted lashes do not pop.
    appear = float(smoothstep(0.0, 0.3, np.float64(closed)))
    cover *= appear
    depth = np.clip((b - eye.upper) / np.maximum(lid - eye.upper, 1.0), 0.0, 1.0)
    # A lid turned down catches less light than the brow bone its colour came from; paper does not.
    shade = (1.0 - ink) * (0.9 - 0.1 * depth) + ink
    skin = eye.skin * shade[..., None].astype(np.float32)
    taper = profile(np.clip(eye.a, -1, 1))
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
    return polygon_mask(shape, outline).astype(np.float32) / 255.0


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
    mask = polygon_mask(rect.shape, polygon - offset).astype(np.float32) / 255.0
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
        teeth = polygon_mask(rect.shape, plan.teeth_polygon - offset).astype(np.float32) / 255.0
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
            widths = style.line_width * (0.3 + 0.7 * profile(np.linspace(-1.0, 1.0, len(chain))))
            stroke = _ribbon(rect.shape, chain - offset, np.maximum(widths, 0.6))
            stroke *= weight * style.outline * plan.mouth_strength
            result += (shades.ink - result) * stroke[..., None]
    target[...] = np.clip(result + 0.5, 0, 255).astype(np.uint8)
