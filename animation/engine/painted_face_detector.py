"""A face detector of our own for Chinese figure paintings (issue 21): CenterNet-sized, trained with torch
on the CPU on hand-labelled paintings (training/train_face_detector.py; labels in bench/labels/).

BlazeFace and mediapipe's mesh were trained on photographs: they miss Zhong Kui's fierce painted masks,
xieyi ink faces drawn in a few strokes and many profiles. This network sees the painting at a quarter of
its resolution, predicts a heat map of face centres with each face's size and offset, and proposes the
faces it finds; the painting path (face_paintings.find_painted_faces) fits the landmark mesh on each.

Weights: ``models/painted_face_detector.pt`` (float16 state dict, ~1 MB), loaded offline with torch.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from animation.engine.model_cache import cached_model

DETECTOR_PATH = Path(__file__).resolve().parent / "models" / "painted_face_detector.pt"
STRIDE = 4


def build_model(width: int = 16, top: int = 48):
    """The network (the training script builds the same one)."""
    import torch
    import torch.nn as nn

    def conv(i: int, o: int, s: int = 1) -> nn.Module:
        return nn.Sequential(nn.Conv2d(i, o, 3, s, 1, bias=False), nn.BatchNorm2d(o), nn.ReLU(inplace=True))

    class Block(nn.Module):
        def __init__(self, i: int, o: int):
            super().__init__()
            self.down = conv(i, o, 2)
            self.body = nn.Sequential(conv(o, o), nn.Conv2d(o, o, 3, 1, 1, bias=False), nn.BatchNorm2d(o))

        def forward(self, x):
            x = self.down(x)
            return torch.relu(x + self.body(x))

    class Detector(nn.Module):
        """Strides 4-32 down, back up to 4 with lateral sums (narrow there: the high-resolution layers
        are most of the cost on a CPU); heads: centre heat, log size, offset."""

        def __init__(self):
            super().__init__()
            c = [width, 2 * width, 3 * width, 4 * width, 6 * width]
            # Straight to a quarter of the resolution (4 x 4 patches): nothing is computed at full or half
            # size, where a CPU would spend most of its time.
            self.stem = nn.Sequential(
                nn.Conv2d(3, c[1], 4, 4, bias=False), nn.BatchNorm2d(c[1]), nn.ReLU(inplace=True), conv(c[1], c[1])
            )  # /4
            self.b2 = Block(c[1], c[2])  # /8
            self.b3, self.b4 = Block(c[2], c[3]), Block(c[3], c[4])  # /16 /32
            self.l4 = nn.Conv2d(c[4], top, 1)
            self.l3, self.l2, self.l1 = nn.Conv2d(c[3], top, 1), nn.Conv2d(c[2], top, 1), nn.Conv2d(c[1], top, 1)
            self.s3, self.s2, self.s1 = conv(top, top), conv(top, top), conv(top, top)
            heat_out = nn.Conv2d(32, 1, 1)
            assert heat_out.bias is not None
            nn.init.constant_(heat_out.bias, -2.2)  # faces are rare: the heat map starts near 0.1
            self.heat = nn.Sequential(conv(top, 32), heat_out)
            self.box = nn.Sequential(conv(top, 32), nn.Conv2d(32, 4, 1))

        def forward(self, x):
            up = nn.functional.interpolate
            x1 = self.stem(x)
            x2 = self.b2(x1)
            x3 = self.b3(x2)
            y = self.l4(self.b4(x3))
            y = self.s3(up(y, size=x3.shape[2:], mode="nearest") + self.l3(x3))
            y = self.s2(up(y, size=x2.shape[2:], mode="nearest") + self.l2(x2))
            y = self.s1(up(y, size=x1.shape[2:], mode="nearest") + self.l1(x1))
            return self.heat(y), self.box(y)

    return Detector()


def load(path: Path | str = DETECTOR_PATH):
    import torch

    saved = torch.load(path, map_location="cpu", weights_only=True)
    model = build_model()
    model.load_state_dict(
        {key: value.float() if value.is_floating_point() else value for key, value in saved["state"].items()}
    )
    model.eval()
    return model


def detector():
    return cached_model("painted_face_detector", load)


def detect(
    rgb: np.ndarray, *, model=None, min_score: float = 0.2, scales: tuple[float, ...] = (1.0,)
) -> list[tuple[float, np.ndarray]]:
    """(score, box [x0, y0, x1, y1]) of every face the network finds on an RGB painting, best first.

    The painting is seen at each of SCALES (1.0: as it is; faces the network learnt are ~12-110 px), padded
    to a multiple of 32; peaks of the heat map (3 x 3 maxima) above MIN_SCORE become boxes; boxes of the
    same face seen at two scales are merged (the surer one kept)."""
    import cv2
    import torch

    model = model or detector()
    found: list[tuple[float, np.ndarray]] = []
    height, width = rgb.shape[:2]
    for scale in scales:
        h, w = max(32, round(height * scale)), max(32, round(width * scale))
        image = (
            rgb
            if scale == 1.0
            else cv2.resize(rgb, (w, h), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        )
        ph, pw = -(-h // 32) * 32, -(-w // 32) * 32
        padded = np.zeros((ph, pw, 3), np.float32)
        padded[:h, :w] = image.astype(np.float32) / 255.0
        padded[h:, :] = padded[:h].mean(axis=(0, 1))
        padded[:, w:] = padded[:h].mean(axis=(0, 1))
        with torch.inference_mode():
            x = torch.from_numpy(padded.transpose(2, 0, 1).copy())[None] * 2 - 1
            heat_logits, box = model(x)
            heat = torch.sigmoid(heat_logits)[0, 0]
            peaks = (heat == torch.nn.functional.max_pool2d(heat[None, None], 3, 1, 1)[0, 0]) & (heat >= min_score)
            ys, xs = torch.nonzero(peaks, as_tuple=True)
            scores = heat[ys, xs].numpy()
            sizes = torch.exp(box[0, :2, ys, xs]).numpy() * STRIDE
            offsets = torch.sigmoid(box[0, 2:, ys, xs]).numpy()
        for k in range(len(scores)):
            cx = (xs[k].item() + offsets[0, k]) * STRIDE / scale
            cy = (ys[k].item() + offsets[1, k]) * STRIDE / scale
            bw, bh = sizes[0, k] / scale, sizes[1, k] / scale
            if cx >= width or cy >= height:
                continue
            found.append((float(scores[k]), np.array([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2])))
    return _surest_first(found)


# The faces the network learnt are ~12-110 px: a painting is seen at the scale that brings the smallest
# face worth finding to about LEARNT_SMALLEST.
LEARNT_SMALLEST = 16
LEARNT_LARGEST = 110
MAX_PIXELS = 4_000_000  # per pass: a longer scroll is searched in overlapping pieces


def detect_on_painting(rgb: np.ndarray, *, smallest: int, min_score: float = 0.2) -> list[tuple[float, np.ndarray]]:
    """``detect`` on a whole painting of any size, at the scale that brings SMALLEST (the smallest face
    worth finding, face_paintings.smallest_face) to the faces the network learnt (larger faces are left to
    BlazeFace and the photo path: at smaller scales it found collars and sleeves), a scroll searched in
    overlapping pieces."""
    height, width = rgb.shape[:2]
    found: list[tuple[float, np.ndarray]] = []
    scale = _scale_for(smallest)
    piece = max(256, int(np.sqrt(MAX_PIXELS) / scale))
    overlap = int(300 / scale)  # wider than the largest face at this scale
    for y0 in range(0, max(1, height - overlap), max(1, piece - overlap)):
        for x0 in range(0, max(1, width - overlap), max(1, piece - overlap)):
            part = rgb[y0 : y0 + piece, x0 : x0 + piece]
            for score, box in detect(part, min_score=min_score, scales=(scale,)):
                found.append((score, box + np.array([x0, y0, x0, y0], float)))
            if x0 + piece >= width:
                break
        if y0 + piece >= height:
            break
    return _surest_first(found)


def largest_face_seen(*, smallest: int) -> float:
    """The largest face (px of the painting) ``detect_on_painting`` can find."""
    return LEARNT_LARGEST / _scale_for(smallest)


def _scale_for(smallest: int) -> float:
    return min(1.0, LEARNT_SMALLEST / max(smallest, 1))


def _surest_first(found: list[tuple[float, np.ndarray]]) -> list[tuple[float, np.ndarray]]:
    """FOUND best first, without the boxes that overlap a surer one (the same face seen twice)."""
    from animation.engine.boxes import iou

    found = sorted(found, key=lambda item: -item[0])
    kept: list[tuple[float, np.ndarray]] = []
    for score, box in found:
        if all(iou(box, other) <= 0.3 for _, other in kept):
            kept.append((score, box))
    return kept
