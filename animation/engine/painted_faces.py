"""Second stage of the painting path: a small CNN that says whether a candidate box is a painted face.

The logistic verifier of ``face_paintings`` judges a candidate by the pattern under the fitted face mesh.
When the landmark network cannot fit a face at all (fierce bearded Zhong Kui faces, xieyi ink monks,
profiles), its presence score is near zero and the face is lost although BlazeFace proposed the right box.
This classifier looks at the candidate box itself (x1.5, at 40 px) and was trained on candidates of Chinese
figure paintings marked by hand (``training/train_face_classifier.py``; labels in bench/labels/, no images).

Weights: ``models/painted_face_cnn.npz`` (float16, batch norm folded), run with numpy alone, offline.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from animation.engine.model_cache import cached_model

CNN_PATH = Path(__file__).resolve().parent / "models" / "painted_face_cnn.npz"
CONTEXT = 1.5  # crop side = box side x CONTEXT, as in training


@dataclasses.dataclass
class _Cnn:
    convs: list[tuple[np.ndarray, np.ndarray]]
    fc_w: np.ndarray
    fc_b: np.ndarray
    size: int

    def logits(self, batch: np.ndarray) -> np.ndarray:
        """(n, size, size, 3) floats in [0, 1] -> (n,) logits."""
        x = batch.astype(np.float32) * 2 - 1
        for k, (w, b) in enumerate(self.convs):
            x = np.maximum(_conv3x3(x, w) + b, 0.0)
            if k % 2 == 1:  # two convolutions, then 2 x 2 max pooling
                n, h, wd, c = x.shape
                x = x[:, : h // 2 * 2, : wd // 2 * 2].reshape(n, h // 2, 2, wd // 2, 2, c).max(axis=(2, 4))
        x = x.mean(axis=(1, 2))
        return (x @ self.fc_w.T + self.fc_b)[:, 0]


def _conv3x3(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Same-padded 3 x 3 convolution, NHWC input, (out, in, 3, 3) weights."""
    n, h, wd, c = x.shape
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    columns = np.empty((n, h, wd, 3, 3, c), np.float32)
    for dy in range(3):
        for dx in range(3):
            columns[:, :, :, dy, dx] = padded[:, dy : dy + h, dx : dx + wd]
    kernel = w.transpose(2, 3, 1, 0).reshape(9 * c, -1)
    return (columns.reshape(-1, 9 * c) @ kernel).reshape(n, h, wd, -1)


def _load() -> _Cnn:
    data = np.load(CNN_PATH)
    convs = []
    k = 0
    while f"conv{k}_w" in data:
        convs.append((data[f"conv{k}_w"].astype(np.float32), data[f"conv{k}_b"].astype(np.float32)))
        k += 1
    return _Cnn(convs, data["fc_w"].astype(np.float32), data["fc_b"].astype(np.float32), int(data["input_size"]))


def cnn() -> _Cnn:
    return cached_model("painted_faces.cnn", _load)


def crop_candidate(rgb: np.ndarray, box: np.ndarray, size: int) -> np.ndarray:
    """The box's centre square, CONTEXT times its longer side, at size x size, as floats in [0, 1]."""
    import cv2

    box = np.asarray(box, np.float64)
    centre = (box[:2] + box[2:]) / 2
    side = max(float(box[2] - box[0]), float(box[3] - box[1]), 2.0) * CONTEXT
    # Cut a 64 px crop first (as training did), then shrink: the same blur as the training crops saw.
    scale = 64 / side
    matrix = np.array([[scale, 0, 32 - centre[0] * scale], [0, scale, 32 - centre[1] * scale]])
    crop = cv2.warpAffine(
        rgb, matrix, (64, 64), flags=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    return cv2.resize(crop.astype(np.float32) / 255.0, (size, size), interpolation=cv2.INTER_AREA)


def face_probabilities(rgb: np.ndarray, boxes: list[np.ndarray]) -> np.ndarray:
    """Probability that each candidate box [x0, y0, x1, y1] of an RGB painting holds a painted face."""
    if not boxes:
        return np.zeros(0)
    model = cnn()
    batch = np.stack([crop_candidate(rgb, box, model.size) for box in boxes])
    mirrored = batch[:, :, ::-1]
    logits = (model.logits(batch) + model.logits(mirrored)) / 2
    return 1 / (1 + np.exp(-np.clip(logits, -30, 30)))
