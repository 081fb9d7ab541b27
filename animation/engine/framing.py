"""Where the film's camera looks: the crop of the painting around the speaking figure, at the film's
aspect, and an optional opening push-in from the whole scene to that crop.

A portrait (a face at least a fifth of the painting's shorter side) is a composed picture: without an
aspect asked for, the whole painting is the frame. A figure in a scene or a long scroll gets a crop
around its head and shoulders at the film's aspect: landscape 16:9 unless 9:16 (phones) or 1:1 is
asked for. Everything here works on crop boxes in painting pixels; nothing resamples the painting but
the crop itself, so a 20,000 x 2,000 scroll costs what its crop costs.

Several figures in one shot (a dialogue's wide shot) get the smallest box at the film's aspect that
holds each one's own crop (``group_box``).

The push-in (``CameraMove``) starts on the widest view of the scene at the film's aspect that the
painting holds around the speaker and eases in to the speaker's crop. Its frames are camera moves of
the still painting (no part of it is warped), read from a few pre-scaled copies of just the region
the camera passes over, so each frame costs one output-sized resample. Its last frame is the rig's
still exactly, so the talking film continues without a jump.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

import cv2
import numpy as np

from animation.engine.controls import Controls
from animation.engine.errors import EngineInputError

ASPECTS: dict[str, tuple[int, int]] = {"16:9": (16, 9), "9:16": (9, 16), "1:1": (1, 1)}
# Head and shoulders: the crop's shorter side in face sizes.
FACE_SIZES_ACROSS = {"16:9": 3.2, "9:16": 3.0, "1:1": 3.5}
# Where the face's centre sits, as a fraction of the crop's height from the top.
FACE_HEIGHT = {"16:9": 0.42, "9:16": 0.32, "1:1": 0.43}
PORTRAIT_FACE_SHARE = 0.2


def parse_aspect(text: str | None) -> str | None:
    """``None`` or "auto" for the painting's own framing; otherwise one of ASPECTS."""
    if text is None or text == "auto":
        return None
    if text not in ASPECTS:
        raise EngineInputError(f"aspect {text!r} is not offered: use one of {', '.join(ASPECTS)} (or auto)")
    return text


def is_portrait(image_shape: tuple[int, ...], face_box: list[int] | tuple[int, ...]) -> bool:
    height, width = image_shape[:2]
    return max(face_box[2], face_box[3]) >= PORTRAIT_FACE_SHARE * min(width, height)


def _fit(cx: float, cy: float, w: float, h: float, width: int, height: int) -> tuple[int, int, int, int]:
    """A w x h box centred at (cx, cy), shrunk (keeping its aspect) to fit and moved inside the painting."""
    shrink = min(1.0, width / w, height / h)
    w, h = w * shrink, h * shrink
    w_i, h_i = max(2, min(width, round(w))), max(2, min(height, round(h)))
    x0 = int(np.clip(round(cx - w_i / 2), 0, width - w_i))
    y0 = int(np.clip(round(cy - h_i / 2), 0, height - h_i))
    return x0, y0, x0 + w_i, y0 + h_i


def crop_box(
    image_shape: tuple[int, ...], face_box: list[int] | tuple[int, ...], aspect: str | None
) -> tuple[int, int, int, int]:
    """The crop (x0, y0, x1, y1) in painting pixels that frames the face ``face_box`` ([x, y, w, h])."""
    height, width = image_shape[:2]
    fx, fy, fw, fh = (float(v) for v in face_box)
    face_size = max(fw, fh, 1.0)
    cx, cy = fx + fw / 2, fy + fh / 2
    if aspect is None:
        if is_portrait(image_shape, face_box):
            return 0, 0, width, height
        aspect = "16:9"
    across, down = ASPECTS[aspect]
    if is_portrait(image_shape, face_box):
        # A portrait cut to an aspect: as much of the painting as that aspect allows, face in the frame.
        scale = min(width / across, height / down)
        w, h = across * scale, down * scale
    else:
        short = FACE_SIZES_ACROSS[aspect] * face_size
        w, h = (short * across / down, short) if across >= down else (short, short * down / across)
    centre_y = cy + (0.5 - FACE_HEIGHT[aspect]) * h
    return _fit(cx, centre_y, w, h, width, height)


def scene_box(
    image_shape: tuple[int, ...], crop: tuple[int, int, int, int], *, widest: float = 12.0
) -> tuple[int, int, int, int]:
    """The opening view of a push-in: the widest box at the crop's aspect that the painting holds around
    the crop (a scroll's full height, say), at most ``widest`` times the crop's size."""
    height, width = image_shape[:2]
    x0, y0, x1, y1 = crop
    w, h = x1 - x0, y1 - y0
    grow = min(widest, width / w, height / h)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return _fit(cx, cy, w * grow, h * grow, width, height)


def group_box(
    image_shape: tuple[int, ...], crops: Sequence[Sequence[float]], ratio: float
) -> tuple[int, int, int, int]:
    """The smallest box of ``ratio`` (width / height) that holds every crop in ``crops`` (x0, y0, x1,
    y1 each), centred on them and moved inside the painting: a shot of several figures at once (a
    dialogue's wide shot). Where the painting cannot hold it, it shrinks (keeping ``ratio``) about the
    crops' middle, so the outer edges of the outermost crops may fall outside."""
    boxes = np.asarray(crops, np.float64).reshape(-1, 4)
    x0, y0 = boxes[:, 0].min(), boxes[:, 1].min()
    x1, y1 = boxes[:, 2].max(), boxes[:, 3].max()
    w, h = max(x1 - x0, 2.0), max(y1 - y0, 2.0)
    w, h = max(w, h * ratio), max(h, w / ratio)
    height, width = image_shape[:2]
    return _fit((x0 + x1) / 2, (y0 + y1) / 2, w, h, width, height)


def _ease(t: np.ndarray) -> np.ndarray:
    """Slow out, slow in (a camera operator's push): smootherstep."""
    t = np.clip(t, 0.0, 1.0)
    return t * t * t * (t * (6 * t - 15) + 10)


@dataclasses.dataclass
class _Level:
    image: np.ndarray  # the region ``origin`` .. of the painting scaled by ``scale``
    origin: tuple[float, float]  # painting pixels of the image's (0, 0) pixel's top-left corner
    scale: float


class CameraMove:
    """The push-in's frames: ``frame(i)`` for i in range(``frame_count``), each (height, width, 3) uint8.

    ``final_still`` is the rig's still (the crop at film size): the last frame returns it unchanged.
    The view's size moves geometrically (a steady feeling of approach) and its centre follows in step.
    """

    def __init__(
        self,
        image: np.ndarray,
        crop: tuple[int, int, int, int],
        scene: tuple[int, int, int, int],
        final_still: np.ndarray,
        frame_count: int,
    ) -> None:
        self.crop, self.scene = crop, scene
        self.final_still = final_still
        self.frame_count = max(1, frame_count)
        self.height, self.width = final_still.shape[:2]
        t = _ease(np.linspace(0.0, 1.0, self.frame_count))
        start, end = np.array(scene, np.float64), np.array(crop, np.float64)
        start_w, end_w = start[2] - start[0], end[2] - end[0]
        widths = start_w * (end_w / start_w) ** t
        # Centre moves in proportion to how far the zoom has come, so the speaker drifts to the middle.
        progress = (start_w - widths) / max(start_w - end_w, 1e-6) if start_w != end_w else t
        centres = (start[:2] + start[2:]) / 2 + np.outer(
            progress, (end[:2] + end[2:]) / 2 - (start[:2] + start[2:]) / 2
        )
        heights = widths * (end[3] - end[1]) / (end[2] - end[0])
        self.views = np.stack(
            [
                centres[:, 0] - widths / 2,
                centres[:, 1] - heights / 2,
                centres[:, 0] + widths / 2,
                centres[:, 1] + heights / 2,
            ],
            1,
        )
        self.levels = self._levels(image)

    def _levels(self, image: np.ndarray) -> list[_Level]:
        """Copies of the region the camera passes over, each at half the scale of the last, so every
        frame is read from a copy at most twice its size (no aliasing, no full-painting resample)."""
        scales = self.width / (self.views[:, 2] - self.views[:, 0])  # film pixels per painting pixel
        finest = float(scales.max())
        self.level_of = np.floor(np.log2(finest / scales) + 1e-9).astype(int)
        levels = []
        for k in range(int(self.level_of.max()) + 1):
            views = self.views[self.level_of == k]
            scale = finest / 2**k
            if not len(views):
                levels.append(_Level(np.zeros((1, 1, 3), np.uint8), (0.0, 0.0), scale))
                continue
            x0, y0 = np.floor(views[:, :2].min(0)) - 2
            x1, y1 = np.ceil(views[:, 2:].max(0)) + 2
            x0, y0 = max(0, int(x0)), max(0, int(y0))
            x1, y1 = min(image.shape[1], int(x1)), min(image.shape[0], int(y1))
            size = (max(1, round((x1 - x0) * scale)), max(1, round((y1 - y0) * scale)))
            interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
            levels.append(_Level(cv2.resize(image[y0:y1, x0:x1], size, interpolation=interpolation), (x0, y0), scale))
        return levels

    def frame(self, index: int) -> np.ndarray:
        if index >= self.frame_count - 1:
            return self.final_still
        x0, y0, x1, _ = self.views[index]
        scale = self.width / (x1 - x0)
        level = self.levels[int(self.level_of[index])]
        # Film pixel (u, v) shows painting point (x0 + (u + 0.5) / scale, ...), which is level pixel
        # (that - origin) * level.scale - 0.5: an affine map from film to level pixels.
        ratio = level.scale / scale
        offset_x = (x0 - level.origin[0]) * level.scale + 0.5 * ratio - 0.5
        offset_y = (y0 - level.origin[1]) * level.scale + 0.5 * ratio - 0.5
        matrix = np.array([[ratio, 0.0, offset_x], [0.0, ratio, offset_y]])
        return cv2.warpAffine(
            level.image,
            matrix,
            (self.width, self.height),
            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_REPLICATE,
        )


def push_in_frames(fps: float, first_word: float, *, seconds: float = 3.0, hold: float = 0.6) -> tuple[int, int]:
    """(frames of camera move, frames of silence to put before the voice) for a push-in of ``seconds``
    that ends ``hold`` seconds before the first word at ``first_word`` s: the voice is delayed when
    the reader starts sooner than that."""
    move = max(2, round(seconds * fps))
    needed = seconds + hold
    lead_in = max(0, math.ceil((needed - max(first_word, 0.0)) * fps))
    return move, lead_in


@dataclasses.dataclass
class Opening:
    """How a film opens: ``camera`` frames (the push-in) over the first frames, the voice delayed by
    ``lead_in`` frames when it starts too soon for them, and the controls for every film frame (at rest
    during the push-in, easing in after it so the figure does not jerk awake)."""

    camera: CameraMove | None
    lead_in: int
    controls: Controls

    @property
    def camera_frames(self) -> int:
        return self.camera.frame_count if self.camera is not None else 0

    def frame(self, index: int, rendered: np.ndarray) -> np.ndarray:
        """The film's frame ``index``: the camera's while it moves, the rendered one after."""
        if self.camera is not None and index < self.camera.frame_count - 1:
            return self.camera.frame(index)
        return rendered

    def after_camera(self) -> Controls:
        start = self.camera_frames
        return Controls(
            fps=self.controls.fps,
            frame_count=self.controls.frame_count - start,
            tracks={name: track[start:] for name, track in self.controls.tracks.items()},
        )


def plan_opening(
    image: np.ndarray,
    crop: tuple[int, int, int, int],
    still: np.ndarray,
    controls: Controls,
    alignment: Mapping[str, Any],
    *,
    push_in: bool,
    seconds: float = 3.0,
) -> Opening:
    """The film's opening for ``controls`` (one per voice frame). Without ``push_in`` nothing changes."""
    if not push_in:
        return Opening(None, 0, controls)
    fps = controls.fps
    starts = [float(unit["start"]) for unit in alignment.get("units", []) if "start" in unit]
    move, lead_in = push_in_frames(fps, min(starts) if starts else 0.0, seconds=seconds)
    camera = CameraMove(image, crop, scene_box(image.shape, crop), still, move)
    total = lead_in + controls.frame_count
    settle = np.clip((np.arange(total) - move) / max(1.0, 0.6 * fps), 0.0, 1.0).astype(np.float32)
    tracks = {
        name: np.concatenate([np.zeros(lead_in, np.float32), track]) * settle for name, track in controls.tracks.items()
    }
    return Opening(camera, lead_in, Controls(fps=fps, frame_count=total, tracks=tracks))


def shift_alignment(alignment: Mapping[str, Any], seconds: float) -> dict[str, Any]:
    """A copy of an alignment dict with every unit and phrase ``seconds`` later (a delayed voice)."""
    shifted = dict(alignment)
    for key in ("units", "phrases"):
        shifted[key] = [
            {**item, "start": float(item["start"]) + seconds, "end": float(item["end"]) + seconds}
            for item in alignment.get(key, [])
        ]
    return shifted
