"""Train the painted-face classifier: ``nice -n 19 python training/train_face_classifier.py``.

A second stage for the painting path (animation/engine/painted_faces.py): a small CNN that says whether a
BlazeFace candidate box on a Chinese figure painting is a face. It reads

- the candidate cache written by ``training/painted_face_candidates.py`` (BlazeFace tiles + mesh fits on
  ../shared/media/chinese-figures/ and chinese-figures-extra/, kept outside the repository);
- labels: ``bench/labels/extra_candidates.json`` (candidates on chinese-figures-extra/ marked face / not a
  face by looking at them; no images) and, with ``--with-tune``, the tune split of
  bench/labels/chinese_figures.json (candidates matched to the hand boxes). The measure split is never read.

and writes animation/engine/models/painted_face_cnn.npz (float16 weights, ~100 kB) that the engine loads
with numpy alone. Heavy augmentation: flips, rotations, scale and shift, perspective, colour and hue shifts,
grey and sepia, ink-wash and paper textures (multiplied low-frequency noise), line-drawing renderings
(edges only), blur, noise. Two threads, a few minutes.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import numpy as np  # noqa: E402

LABELS = REPO / "bench" / "labels" / "chinese_figures.json"
EXTRA_LABELS = REPO / "bench" / "labels" / "extra_candidates.json"
SHARED = REPO.parent / "shared" / "media"
OUT = REPO / "animation" / "engine" / "models" / "painted_face_cnn.npz"
CROP = 64  # crops are cut at this size, then augmented and resized to the network's input


def crop_box(image: np.ndarray, box: np.ndarray, size: int, *, context: float = 1.5, jitter=None) -> np.ndarray:
    import cv2

    c = (box[:2] + box[2:]) / 2
    side = max(box[2] - box[0], box[3] - box[1]) * context
    angle, scale, dx, dy = jitter if jitter is not None else (0.0, 1.0, 0.0, 0.0)
    side = side / scale
    c = c + np.array([dx, dy]) * side
    s = size / side
    a = np.deg2rad(angle)
    rot = np.array([[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]]) * s
    matrix = np.hstack([rot, (size / 2 - rot @ c)[:, None]])
    return cv2.warpAffine(
        image,
        matrix,
        (size, size),
        flags=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )


def load_samples(with_tune: bool, fold: str = "") -> tuple[list, list]:
    """(image path, box, label, source) for every labelled candidate."""
    from bench_faces_chinese import matches, xyxy
    from face_decisions import tune_fold

    cache = Path(tempfile.gettempdir()) / "shuohua_face_cache"  # made by painted_face_candidates.py
    samples = []
    extra = json.loads(EXTRA_LABELS.read_text())["candidates"] if EXTRA_LABELS.exists() else []
    for item in extra:
        samples.append(
            (str(SHARED / "chinese-figures-extra" / item["image"]), np.array(item["box"]), item["face"], "extra")
        )
    if with_tune:
        labels = json.loads(LABELS.read_text())["images"]
        for name, entry in labels.items():
            if entry["split"] != "tune":
                continue
            if fold and tune_fold(name) != fold:  # the other fold is where the decision rule is chosen
                continue
            data = json.loads((cache / f"dev__{Path(name).stem}.json").read_text())
            boxes = [(xyxy(f["box"]), bool(f.get("small"))) for f in entry["faces"]]
            for record in data["candidates"]:
                hit = next(
                    (
                        small
                        for label, small in boxes
                        if matches(np.array(record["box"]), label) or matches(np.array(record["fit_box"]), label)
                    ),
                    None,
                )
                if hit:
                    continue
                samples.append((str(SHARED / "chinese-figures" / name), np.array(record["box"]), hit is False, "tune"))
            for label, small in boxes:  # the hand boxes themselves, at the detector's box size
                if not small:
                    samples.append((str(SHARED / "chinese-figures" / name), label.copy(), True, "tune-box"))
    return samples


def augment(crop: np.ndarray, rng: np.random.Generator, size: int) -> np.ndarray:
    import cv2

    img = crop.astype(np.float32) / 255.0
    if rng.random() < 0.5:
        img = img[:, ::-1]
    if rng.random() < 0.3:  # perspective warp
        d = CROP * 0.08
        src = np.float32([[0, 0], [CROP, 0], [CROP, CROP], [0, CROP]])
        dst = src + rng.uniform(-d, d, src.shape).astype(np.float32)
        img = cv2.warpPerspective(
            img, cv2.getPerspectiveTransform(src, dst), (CROP, CROP), borderMode=cv2.BORDER_REPLICATE
        )
    r = rng.random()
    if r < 0.15:  # grey
        img = np.repeat(img.mean(axis=2, keepdims=True), 3, axis=2)
    elif r < 0.25:  # sepia / old silk
        g = img.mean(axis=2, keepdims=True)
        img = g * np.array([1.0, 0.85, 0.65], np.float32)[None, None] + 0.1
    elif r < 0.32:  # line drawing (baimiao): dark edges on paper
        g = (img.mean(axis=2) * 255).astype(np.uint8)
        edges = cv2.Canny(g, 40, 120).astype(np.float32) / 255.0
        edges = cv2.GaussianBlur(edges, (0, 0), 0.7)
        paper = np.array([0.85, 0.88, 0.9], np.float32)[None, None]
        img = paper * (1 - 0.8 * edges[..., None])
    # colour shifts
    img = img * rng.uniform(0.75, 1.25, 3).astype(np.float32)[None, None] + rng.uniform(-0.1, 0.1, 3).astype(np.float32)
    mean = img.mean()
    img = (img - mean) * rng.uniform(0.6, 1.4) + mean
    if rng.random() < 0.4:  # ink-wash / paper texture: multiplied low-frequency noise
        noise = rng.normal(0, 1, (8, 8)).astype(np.float32)
        noise = cv2.resize(noise, (CROP, CROP), interpolation=cv2.INTER_CUBIC)
        img = img * (1 + rng.uniform(0.05, 0.25) * noise[..., None])
    if rng.random() < 0.3:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.5, 1.5))
    if rng.random() < 0.3:
        img = img + rng.normal(0, rng.uniform(0.01, 0.05), img.shape).astype(np.float32)
    img = cv2.resize(np.clip(img, 0, 1), (size, size), interpolation=cv2.INTER_AREA)
    return img


def build_model(width: int = 16):
    import torch.nn as nn

    def block(i, o):
        return nn.Sequential(
            nn.Conv2d(i, o, 3, padding=1, bias=False),
            nn.BatchNorm2d(o),
            nn.ReLU(),
            nn.Conv2d(o, o, 3, padding=1, bias=False),
            nn.BatchNorm2d(o),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )

    return nn.Sequential(
        block(3, width),
        block(width, 2 * width),
        block(2 * width, 4 * width),
        block(4 * width, 4 * width),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Dropout(0.3),
        nn.Linear(4 * width, 1),
    )


def export(model, path: Path, size: int, about: str) -> None:
    """Fold batch norm into the convolutions and write float16 arrays for the numpy forward pass."""
    import torch.nn as nn

    arrays = {}
    convs = []
    layers = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.BatchNorm2d, nn.Linear))]
    k = 0
    i = 0
    while i < len(layers):
        layer = layers[i]
        if isinstance(layer, nn.Conv2d):
            bn = layers[i + 1]
            w = layer.weight.detach().numpy()
            scale = (bn.weight / (bn.running_var + bn.eps).sqrt()).detach().numpy()
            b = bn.bias.detach().numpy() - bn.running_mean.detach().numpy() * scale
            arrays[f"conv{k}_w"] = (w * scale[:, None, None, None]).astype(np.float16)
            arrays[f"conv{k}_b"] = b.astype(np.float16)
            convs.append(k)
            k += 1
            i += 2
        else:
            arrays["fc_w"] = layer.weight.detach().numpy().astype(np.float16)
            arrays["fc_b"] = layer.bias.detach().numpy().astype(np.float16)
            i += 1
    arrays["input_size"] = np.array(size)
    arrays["about"] = np.array(about)
    np.savez_compressed(path, **arrays)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--with-tune", action="store_true", help="also train on the tune split (final model)")
    parser.add_argument("--tune-fold", default="", help="with --with-tune: only fold A or B of the tune split")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--size", type=int, default=40)
    parser.add_argument("--out", default=str(OUT))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    import cv2
    import torch

    torch.set_num_threads(2)
    cv2.setNumThreads(1)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    samples = load_samples(args.with_tune, args.tune_fold)
    images: dict[str, np.ndarray] = {}
    crops, targets = [], []
    for path, box, face, _source in samples:
        if path not in images:
            images[path] = np.ascontiguousarray(cv2.imread(path)[:, :, ::-1])
        # Each sample is cut at several jitters up front (rotation, scale, shift); colour etc. per epoch.
        for j in range(6 if face else 2):
            jitter = (
                (0, 1, 0, 0)
                if j == 0
                else (rng.uniform(-25, 25), rng.uniform(0.8, 1.25), rng.uniform(-0.08, 0.08), rng.uniform(-0.08, 0.08))
            )
            crops.append(crop_box(images[path], box, CROP, jitter=jitter))
            targets.append(float(face))
    # Hard negatives: shifted and mis-sized crops of faces (half a face is not a face to animate).
    for path, box, face, _source in samples:
        if face:
            for _ in range(2):
                shift = rng.choice([-1, 1], 2) * rng.uniform(0.55, 0.8, 2)
                crops.append(crop_box(images[path], box, CROP, jitter=(0, 1, *shift)))
                targets.append(0.0)
            crops.append(crop_box(images[path], box, CROP, jitter=(0, rng.choice([0.3, 3.0]), 0, 0)))
            targets.append(0.0)
    x_all = np.stack(crops)
    y_all = np.array(targets, np.float32)
    print(
        f"{len(samples)} labelled candidates ({int(sum(s[2] for s in samples))} faces); "
        f"{len(y_all)} crops ({int(y_all.sum())} face)",
        flush=True,
    )
    model = build_model()
    optimiser = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-3)
    steps = args.epochs * (len(y_all) // 64 + 1)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=3e-3, total_steps=steps)
    pos_weight = torch.tensor((y_all == 0).sum() / max((y_all == 1).sum(), 1))
    loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=pos_weight)
    start = time.perf_counter()
    for epoch in range(args.epochs):
        model.train()
        order = rng.permutation(len(y_all))
        total = 0.0
        for b in range(0, len(order), 64):
            idx = order[b : b + 64]
            batch = np.stack([augment(x_all[i], rng, args.size) for i in idx])
            xb = torch.from_numpy(batch.transpose(0, 3, 1, 2).copy()) * 2 - 1
            yb = torch.from_numpy(y_all[idx])
            loss = loss_fn(model(xb).squeeze(1), yb)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            total += loss.item() * len(idx)
        print(
            f"epoch {epoch + 1}/{args.epochs} loss {total / len(y_all):.4f} {time.perf_counter() - start:.0f} s",
            flush=True,
        )
    model.eval()
    about = (
        "Painted-face classifier (animation/engine/painted_faces.py): 8 conv layers (batch norm folded), "
        f"{args.size} px RGB crops of BlazeFace candidate boxes x1.5. "
        "Trained with training/train_face_classifier.py "
        f"on {len(samples)} labelled candidates ({'extra + tune' + args.tune_fold if args.with_tune else 'extra'}; "
        "never the measure split)."
    )
    export(model, Path(args.out), args.size, about)
    print(f"wrote {args.out} ({Path(args.out).stat().st_size / 1024:.0f} kB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
