"""Train a painted-face detector of our own: ``nice python training/train_face_detector.py``.

A CenterNet-sized network (heat map of face centres, box size and offset at a quarter of the input's
resolution) trained from scratch with torch on the CPU, on the hand labels of Chinese figure paintings:

- bench/labels/chinese_figures.json, the tune split only (``--tune-fold A`` keeps fold B out, to choose
  thresholds on); the measure split is never read here;
- bench/labels/chinese_figures_extra.json (faces labelled on chinese-figures-extra/, training material).

Faces marked ``small`` (under ~20 px, or ambiguous) are neither taught as faces nor as background: the
loss ignores their boxes. Heavy augmentation: scale (faces from ~10 to ~120 px), crops, flips, small
rotations, perspective, colour and hue shifts, grey and sepia, ink-wash and paper textures, line-drawing
renderings, blur, noise. Writes the weights (float16, ~1 MB) for animation/engine/painted_face_detector.py.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "training"))

import numpy as np  # noqa: E402

SHARED = REPO.parent / "shared" / "media"
DEV_LABELS = REPO / "bench" / "labels" / "chinese_figures.json"
EXTRA_LABELS = REPO / "bench" / "labels" / "chinese_figures_extra.json"
OUT = REPO / "animation" / "engine" / "models" / "painted_face_detector.pt"
CROP = 256
STRIDE = 4


def load_set(fold: str) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(RGB image, animatable boxes [x0 y0 x1 y1], ignored boxes) per training image."""
    import cv2
    from face_decisions import tune_fold

    items = []
    sources = [(DEV_LABELS, SHARED / "chinese-figures"), (EXTRA_LABELS, SHARED / "chinese-figures-extra")]
    for labels_path, folder in sources:
        if not labels_path.exists():
            continue
        for name, entry in json.loads(labels_path.read_text())["images"].items():
            if entry["split"] == "measure":
                continue
            if entry["split"] == "tune" and fold and tune_fold(name) != fold:
                continue
            bgr = cv2.imread(str(folder / name))
            if bgr is None:
                continue
            faces = [f for f in entry["faces"] if not f.get("small")]
            small = [f for f in entry["faces"] if f.get("small")]

            def boxes(group: list[dict]) -> np.ndarray:
                return np.array([[f["box"][0], f["box"][1], f["box"][0] + f["box"][2], f["box"][1] + f["box"][3]]
                                 for f in group], np.float32).reshape(-1, 4)  # fmt: skip

            items.append((np.ascontiguousarray(bgr[:, :, ::-1]), boxes(faces), boxes(small)))
    return items


def colour_augment(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Float RGB in [0, 1]: the looks of paintings a photo detector never saw."""
    import cv2

    size = img.shape[:2]
    r = rng.random()
    if r < 0.15:
        img = np.repeat(img.mean(axis=2, keepdims=True), 3, axis=2)
    elif r < 0.25:
        g = img.mean(axis=2, keepdims=True)
        img = g * np.array([1.0, 0.85, 0.65], np.float32)[None, None] + 0.1
    elif r < 0.32:
        g = (img.mean(axis=2) * 255).astype(np.uint8)
        edges = cv2.GaussianBlur(cv2.Canny(g, 40, 120).astype(np.float32) / 255.0, (0, 0), 0.7)
        img = np.array([0.85, 0.88, 0.9], np.float32)[None, None] * (1 - 0.8 * edges[..., None])
    img = img * rng.uniform(0.75, 1.25, 3).astype(np.float32)[None, None] + rng.uniform(-0.1, 0.1, 3).astype(np.float32)
    mean = img.mean()
    img = (img - mean) * rng.uniform(0.6, 1.4) + mean
    if rng.random() < 0.4:
        noise = cv2.resize(rng.normal(0, 1, (8, 8)).astype(np.float32), size[::-1], interpolation=cv2.INTER_CUBIC)
        img = img * (1 + rng.uniform(0.05, 0.25) * noise[..., None])
    if rng.random() < 0.3:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.5, 1.2))
    if rng.random() < 0.3:
        img = img + rng.normal(0, rng.uniform(0.01, 0.04), img.shape).astype(np.float32)
    return np.clip(img, 0, 1)


def sample(item, rng: np.random.Generator):
    """One augmented CROP x CROP training crop with its targets at 1/STRIDE resolution."""
    import cv2

    image, faces, ignored = item
    h, w = image.shape[:2]
    sizes = faces[:, 2:] - faces[:, :2] if len(faces) else np.array([[40.0, 40.0]])
    # A scale that puts the faces between ~10 and ~120 px, drawn in log space.
    typical = float(np.median(sizes.max(axis=1)))
    scale = float(np.exp(rng.uniform(np.log(12 / typical), np.log(110 / typical))))
    scale = float(np.clip(scale, 0.25, 4.0))
    angle = rng.uniform(-12, 12) if rng.random() < 0.5 else 0.0
    # Centre the crop on a face half of the time, anywhere the rest.
    if len(faces) and rng.random() < 0.6:
        face = faces[rng.integers(len(faces))]
        centre = (face[:2] + face[2:]) / 2 + rng.uniform(-0.4, 0.4, 2) * CROP / scale
    else:
        centre = np.array([rng.uniform(0, w), rng.uniform(0, h)])
    matrix = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), angle, scale)
    matrix[:, 2] += np.array([CROP / 2, CROP / 2]) - centre
    flip = rng.random() < 0.5
    if flip:
        matrix = np.array([[-1, 0, CROP], [0, 1, 0]], np.float64) @ np.vstack([matrix, [0, 0, 1]])
    border = tuple(float(v) for v in np.median(image.reshape(-1, 3), axis=0))
    crop = cv2.warpAffine(image, matrix, (CROP, CROP), flags=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=border)  # fmt: skip
    if rng.random() < 0.3:
        d = CROP * 0.06
        src = np.float32([[0, 0], [CROP, 0], [CROP, CROP], [0, CROP]])
        dst = (src + rng.uniform(-d, d, src.shape)).astype(np.float32)
        warp = cv2.getPerspectiveTransform(src, dst)
        crop = cv2.warpPerspective(crop, warp, (CROP, CROP), borderMode=cv2.BORDER_REPLICATE)
    else:
        warp = np.eye(3)
    crop = colour_augment(crop.astype(np.float32) / 255.0, rng)

    def transform(boxes: np.ndarray) -> np.ndarray:
        if not len(boxes):
            return boxes.reshape(0, 4)
        corners = np.stack(
            [boxes[:, [0, 1]], boxes[:, [2, 1]], boxes[:, [2, 3]], boxes[:, [0, 3]]], axis=1
        )  # (n, 4, 2)
        ones = np.ones((*corners.shape[:2], 1))
        moved = np.concatenate([corners, ones], axis=2) @ matrix.T
        moved = np.concatenate([moved, np.ones((*moved.shape[:2], 1))], axis=2) @ warp.T
        moved = moved[..., :2] / moved[..., 2:]
        return np.concatenate([moved.min(axis=1), moved.max(axis=1)], axis=1)

    out = CROP // STRIDE
    heat = np.zeros((out, out), np.float32)
    weight = np.ones((out, out), np.float32)
    size = np.zeros((2, out, out), np.float32)
    offset = np.zeros((2, out, out), np.float32)
    mask = np.zeros((out, out), np.float32)
    ys, xs = np.mgrid[0:out, 0:out].astype(np.float32)
    for box in transform(ignored):
        x0, y0, x1, y1 = np.clip(box / STRIDE, 0, out - 1)
        weight[int(y0) : int(np.ceil(y1)) + 1, int(x0) : int(np.ceil(x1)) + 1] = 0
    for box in transform(faces):
        bw, bh = box[2] - box[0], box[3] - box[1]
        cx, cy = (box[0] + box[2]) / 2 / STRIDE, (box[1] + box[3]) / 2 / STRIDE
        if not (0 <= cx < out and 0 <= cy < out) or max(bw, bh) < 6:
            if 0 <= cx < out and 0 <= cy < out:  # too small to teach at this scale: ignore it
                weight[max(0, int(cy) - 1) : int(cy) + 2, max(0, int(cx) - 1) : int(cx) + 2] = 0
            continue
        sigma = max(0.6, min(bw, bh) / STRIDE / 6)
        heat = np.maximum(heat, np.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * sigma**2)))
        ix, iy = int(cx), int(cy)
        size[:, iy, ix] = np.log([max(bw, 1) / STRIDE, max(bh, 1) / STRIDE])
        offset[:, iy, ix] = [cx - ix, cy - iy]
        mask[iy, ix] = 1
        heat[iy, ix] = 1.0
    weight = np.maximum(weight, (heat > 0.5).astype(np.float32))
    return crop, heat, weight, size, offset, mask


def focal_loss(logits, heat, weight):
    import torch

    p = torch.sigmoid(logits).clamp(1e-4, 1 - 1e-4)
    positive = heat.eq(1).float()
    negative = (1 - positive) * weight
    pos_loss = -torch.log(p) * (1 - p) ** 2 * positive
    neg_loss = -torch.log(1 - p) * p**2 * (1 - heat) ** 4 * negative
    count = positive.sum().clamp(min=1)
    return (pos_loss.sum() + neg_loss.sum()) / count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tune-fold", default="", help="train on fold A (or B) of the tune split only")
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--out", default=str(OUT))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    import cv2
    import torch

    torch.set_num_threads(2)
    cv2.setNumThreads(1)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    items = load_set(args.tune_fold)
    print(f"{len(items)} images, {sum(len(i[1]) for i in items)} faces, {sum(len(i[2]) for i in items)} ignored",
          flush=True)  # fmt: skip
    from animation.engine.painted_face_detector import STRIDE as ENGINE_STRIDE
    from animation.engine.painted_face_detector import build_model

    assert ENGINE_STRIDE == STRIDE
    model = build_model()
    optimiser = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=3e-3, total_steps=args.steps, pct_start=0.1)
    start = time.perf_counter()
    running = 0.0
    for step in range(args.steps):
        batch = [sample(items[rng.integers(len(items))], rng) for _ in range(args.batch)]
        x = torch.from_numpy(np.stack([b[0] for b in batch]).transpose(0, 3, 1, 2).copy()) * 2 - 1
        heat, weight, size, offset, mask = (torch.from_numpy(np.stack([b[k] for b in batch])) for k in range(1, 6))
        model.train()
        heat_logits, box = model(x)
        loss_heat = focal_loss(heat_logits[:, 0], heat, weight)
        count = mask.sum().clamp(min=1)
        loss_size = (torch.abs(box[:, :2] - size) * mask[:, None]).sum() / count
        loss_offset = (torch.abs(torch.sigmoid(box[:, 2:]) - offset) * mask[:, None]).sum() / count
        loss = loss_heat + 0.5 * loss_size + loss_offset
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
        running = 0.98 * running + 0.02 * loss.item() if step else loss.item()
        if step % 100 == 0 or step == args.steps - 1:
            print(f"step {step}/{args.steps} loss {running:.3f} {time.perf_counter() - start:.0f} s", flush=True)
    model.eval()
    state = {key: value.half() if value.is_floating_point() else value for key, value in model.state_dict().items()}
    torch.save(
        {
            "state": state,
            "stride": STRIDE,
            "about": f"trained by training/train_face_detector.py on {len(items)} labelled images "
            f"(tune{args.tune_fold or ''} + extra; never the measure split), {args.steps} steps",
        },
        args.out,
    )
    print(f"wrote {args.out} ({Path(args.out).stat().st_size / 1024:.0f} kB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
