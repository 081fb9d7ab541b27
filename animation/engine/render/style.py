"""How the painting around the face is made, measured once per rig: ink lines or modelled tone, the
painting's own ink, paper and darkest colours, its stroke width, and its fine grain.

The painted features (``painted``) use these so that what they paint looks like the painting.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import cv2
import numpy as np

from animation.engine.render.geometry import Rect, smoothstep


@dataclasses.dataclass(frozen=True)
class Style:
    """How the painting around the face is made, measured once per rig (``painting_style``).

    ``ink`` is 0 for a face modelled in tone (oil, digital, a photo-like portrait) and 1 for a face
    drawn in ink lines on paper (baimiao, xieyi), where skin is the paper itself; ``outline`` is how
    much features are bounded by drawn lines (also high for gongbi: fine lines around flat colour).
    Colours are BGR floats taken from the painting: the darkest line ink, the paper or skin tone.
    """

    kind: str  # "ink", "gongbi" or "painted": for people and logs; the weights drive the rendering
    ink: float
    outline: float
    ink_colour: np.ndarray
    paper_colour: np.ndarray
    dark_colour: np.ndarray  # the darkest tone painted around the face: nothing new goes below it
    line_width: float  # typical stroke width around the face, frame pixels
    line_density: float
    saturation: float
    drawn_outline: float = 0.0  # share of the jaw line that is a drawn line


def painting_style(still: np.ndarray, lm: Mapping[str, np.ndarray]) -> Style:
    """Measure how the face is painted: line density, saturation, paper and ink colours, stroke width.

    Lines are what a closing (a grey-level "black-hat") finds darker than their surroundings by a clear
    step; the rest is skin or paper. An ink-line face has many lines, little colour and skin as light
    as the paper; a photo-like portrait models its face in tone and has almost no lines.
    """
    points = np.concatenate([lm["jaw"], lm["left_eye"], lm["right_eye"], lm["mouth_outer"]])
    box = Rect.around(points, 0.15 * float(np.ptp(points[:, 0]))).clip(Rect(0, still.shape[0], 0, still.shape[1]))
    patch = still[box.y0 : box.y1, box.x0 : box.x1]
    fallback = Style("painted", 0.0, 0.0, np.array([40.0] * 3), np.array([200.0, 210.0, 220.0]), np.zeros(3), 1.0, 0, 0)
    if patch.shape[0] < 8 or patch.shape[1] < 8:
        return fallback
    gray = cv2.cvtColor(patch, cv2.COLOR_BGR2GRAY)
    face_w = max(float(np.ptp(points[:, 0])), 8.0)
    reach = int(np.clip(round(0.05 * face_w), 2, 9))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1, 2 * reach + 1))
    blackhat = cv2.morphologyEx(gray, cv2.MORPH_BLACKHAT, kernel)
    lines = blackhat > 28
    density = float(lines.mean())
    hsv = cv2.cvtColor(patch, cv2.COLOR_BGR2HSV)
    rest = ~cv2.dilate(lines.view(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    if rest.sum() < 16:
        rest = np.ones_like(lines)
    saturation = float(np.median(hsv[..., 1][rest])) / 255.0
    light = patch[rest].astype(np.float64)
    brightness = light.sum(1)
    paper = np.median(light[brightness >= np.percentile(brightness, 60)], axis=0)
    skin = np.median(light, axis=0)
    if lines.sum() >= 6:
        strength = blackhat[lines]
        ink_colour = patch[lines][strength >= np.percentile(strength, 70)].astype(np.float64).mean(0)
        skeleton = cv2.ximgproc.thinning(lines.view(np.uint8) * 255) > 0
        line_width = float(np.clip(lines.sum() / max(int(skeleton.sum()), 1), 1.0, 0.06 * face_w + 1))
    else:
        ink_colour, line_width = np.clip(skin * 0.3, 0, 255), 1.0
    # A drawn face has its outline drawn: a dark line along the jaw. A face modelled in tone meets its
    # background in a step of tone, which the closing does not pick up.
    jaw = np.round(lm["jaw"] - [box.x0, box.y0]).astype(int)
    near = cv2.dilate(blackhat, np.ones((2 * reach + 1, 2 * reach + 1), np.uint8))
    inside = (jaw[:, 0] >= 0) & (jaw[:, 0] < patch.shape[1]) & (jaw[:, 1] >= 0) & (jaw[:, 1] < patch.shape[0])
    drawn = float((near[jaw[inside, 1], jaw[inside, 0]] > 40).mean()) if inside.any() else 0.0
    # Skin as light as the paper: the face is left unpainted, as in baimiao and xieyi.
    unpainted = 1.0 - float(smoothstep(12.0, 45.0, np.float64(abs(paper.mean() - skin.mean()))))
    linework = float(smoothstep(0.03, 0.09, np.float64(density))) * float(smoothstep(0.35, 0.7, np.float64(drawn)))
    colourless = 1.0 - float(smoothstep(0.12, 0.22, np.float64(saturation)))
    ink = linework * colourless * (0.4 + 0.6 * unpainted)
    outline = max(ink, linework)
    kind = "ink" if ink >= 0.5 else "gongbi" if outline >= 0.5 else "painted"
    pixels = patch.reshape(-1, 3).astype(np.float64)
    luminance = pixels.mean(1)
    dark = pixels[luminance <= np.percentile(luminance, 1)].mean(0)
    return Style(kind, ink, outline, ink_colour, paper, dark, line_width, density, saturation, drawn)


def painting_grain(still: np.ndarray) -> np.ndarray:
    """The painting's fine texture (canvas, paper, brush) as a grey offset per pixel, to carry into paint."""
    grey = cv2.cvtColor(still, cv2.COLOR_BGR2GRAY).astype(np.float32)
    return 0.7 * np.clip(grey - cv2.GaussianBlur(grey, (0, 0), 1.5), -12.0, 12.0)
