"""Faces on Chinese figure paintings: ``python bench/bench_faces_chinese.py [--train]`` from the repo root.

Reads the development set ``../shared/media/chinese-figures/`` when it exists (it is never copied into
the repository; says it skipped when it is absent) and the hand labels in ``bench/labels/chinese_figures.json``
(boxes of every animatable face on a subset; ``small`` marks faces under ~20 px or ambiguous ones, which
count neither as found nor as false). Prints, for the "measure" half (the verifier was trained on the
"tune" half) and for the tune half:

- recall: labelled faces found by ``detect_faces`` (the product's detector, portrait and painting paths);
- paintings: share of paintings with a labelled face on which at least one face was found;
- false detections: found faces that match no labelled face, as a share of all found faces;
- recall per group (profile or three-quarter, Zhong Kui, ink, fierce, children, bent figures: the labels'
  ``view`` and ``kinds``), floor 80 % each;
- key-point error: per face, the median distance of its labelled eye and mouth corners (and nose tip) to
  the detected ones, over the outer eye corners' distance (a one-eyed face: eye to mouth corner); the
  median over faces, floor 8 % (the issue asks for 100 labelled faces, 30 of them turned: it prints how many);
- seconds per painting and per megapixel, CPU (all threads) and wall, with the load average;
- a synthetic 20,000 x 2,000 handscroll (demo faces at several sizes on ink-streaked paper), run in a
  child process: faces found of those placed, seconds, and peak resident memory.

Rows (``--rows old,cnn,detector`` chooses): the shipped detector first (its figures go to the guard), then
"old" (BlazeFace tiles and the mesh verifier), "cnn" (with the painted-face CNN of painted_faces.py,
training/train_face_classifier.py) and "detector" (with our own detector, painted_face_detector.py,
training/train_face_detector.py).

``--train`` refits the verifier (animation/engine/models/face_verifier.json) on the tune half.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from testkit.figures import report  # noqa: E402

DEV = REPO.parent / "shared" / "media" / "chinese-figures"
LABELS = REPO / "bench" / "labels" / "chinese_figures.json"
SCROLL = (20_000, 2_000)


def xyxy(box: list[float]) -> np.ndarray:
    x, y, w, h = box
    return np.array([x, y, x + w, y + h], float)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def matches(found: np.ndarray, label: np.ndarray) -> bool:
    """Same face: boxes overlap enough, or the found box's centre is in the label at a similar size."""
    if iou(found, label) >= 0.25:
        return True
    cx, cy = (found[0] + found[2]) / 2, (found[1] + found[3]) / 2
    ratio = (found[2] - found[0]) / max(label[2] - label[0], 1.0)
    return bool(label[0] <= cx <= label[2] and label[1] <= cy <= label[3] and 0.5 < ratio < 2.0)


def corners(landmarks: dict) -> dict[str, np.ndarray]:
    """Outer eye corners, mouth corners and nose tip of a detected face, named as the labels name them."""
    eyes = np.concatenate([np.asarray(landmarks["right_eye"]), np.asarray(landmarks["left_eye"])])
    mouth = np.asarray(landmarks["mouth_outer"])
    return {
        "eye_left": eyes[np.argmin(eyes[:, 0])],
        "eye_right": eyes[np.argmax(eyes[:, 0])],
        "mouth_left": mouth[np.argmin(mouth[:, 0])],
        "mouth_right": mouth[np.argmax(mouth[:, 0])],
        "nose_tip": np.asarray(landmarks["nose_tip"])[0],
    }


def point_scale(points: dict) -> float | None:
    """The length a face's key-point error is divided by: the outer eye corners' distance, or for a face
    with one eye drawn (a profile, a three-quarter view) that eye's distance to the nearer mouth corner."""
    if "eye_left" in points and "eye_right" in points:
        return float(np.linalg.norm(np.subtract(points["eye_left"], points["eye_right"])))
    eye = points.get("eye_left") or points.get("eye_right")
    mouths = [points[k] for k in ("mouth_left", "mouth_right") if k in points]
    if eye is None or not mouths:
        return None
    return min(float(np.linalg.norm(np.subtract(eye, m))) for m in mouths)


def point_errors(found: dict[str, np.ndarray], points: dict, scale: float) -> list[float]:
    """Each labelled point's distance to the detected one, over SCALE. A face with one eye (or one mouth
    corner) labelled is compared with the nearer of the two detected ones: which side a profile's only
    eye is called is a convention of the labeller, not something the detector can be wrong about."""
    errors = []
    for key, value in points.items():
        pair = {"eye": ("eye_left", "eye_right"), "mouth": ("mouth_left", "mouth_right")}.get(key.split("_")[0])
        one_sided = pair is not None and not all(name in points for name in pair)
        names = pair if one_sided else (key,)
        errors.append(min(float(np.linalg.norm(found[name] - np.asarray(value))) for name in names) / scale)
    return errors


# The groups the issue measures separately (each found at least 80 % of the time): a face belongs to
# "profile or three-quarter" by its view, to the others by its kinds (a face can be in several).
GROUPS = {
    "profile or three-quarter": lambda face: face.get("view") in ("profile", "three_quarter"),
    "profile": lambda face: face.get("view") == "profile",
    "zhong_kui": lambda face: "zhong_kui" in face.get("kinds", []),
    "ink": lambda face: "ink" in face.get("kinds", []),
    "fierce": lambda face: "fierce" in face.get("kinds", []),
    "child": lambda face: "child" in face.get("kinds", []),
    "bent": lambda face: "bent" in face.get("kinds", []),
}


# The rows printed: the detector the product ships first (its figures go to the guard), then the others
# as comparison rows (the old detector stays as one, as the issue asks).
ROWS = {
    "detector": ("new: our trained detector + BlazeFace tiles + mesh verifier", {"detector": True}),
    "old": ("old: BlazeFace tiles + mesh verifier", {"detector": False}),
    "cnn": ("old + the painted-face CNN second stage", {"cnn": True, "detector": False}),
}
SHIPPED = "detector"


def evaluate(labels: dict, *, row: str = SHIPPED) -> None:
    from animation.engine.faces import detect_faces, load_painting

    per_split: dict[str, dict[str, float]] = {}
    per_group: dict[tuple[str, str], list[int]] = {}  # (split, group) -> [found, labelled]
    cpu_total = wall_total = megapixels = 0.0
    count = 0
    errors: dict[str, list[float]] = {}  # split -> per-face median corner error / scale
    turned_errors: dict[str, int] = {}  # split -> faces with a one-eyed scale among them
    for name, entry in labels.items():
        image = load_painting(DEV / name)
        cpu, wall = time.process_time(), time.perf_counter()
        faces = detect_faces(image, **ROWS[row][1])
        cpu_total += time.process_time() - cpu
        wall_total += time.perf_counter() - wall
        megapixels += image.shape[0] * image.shape[1] / 1e6
        count += 1
        split = entry["split"]
        stats = per_split.setdefault(split, dict.fromkeys(("faces", "found", "false", "dets", "paint", "hit"), 0))
        labelled = [(xyxy(f["box"]), bool(f.get("small")), f) for f in entry["faces"]]
        animatable = [item for item in labelled if not item[1]]
        stats["faces"] += len(animatable)
        hit: set[int] = set()
        for face in faces:
            box = np.array([face.box[0], face.box[1], face.box[0] + face.box[2], face.box[1] + face.box[3]], float)
            index = next((i for i, (label, _, _) in enumerate(labelled) if matches(box, label)), None)
            if index is not None and labelled[index][1]:
                continue  # a small or ambiguous face: neither found nor false
            stats["dets"] += 1
            if index is None or index in hit:
                stats["false"] += 1
                continue
            hit.add(index)
            stats["found"] += 1
            points = labelled[index][2].get("points")
            scale = point_scale(points) if points else None
            if scale:
                per_face = point_errors(corners(face.landmarks), points, scale)
                errors.setdefault(split, []).append(float(np.median(per_face)))
                turned = labelled[index][2].get("view") in ("profile", "three_quarter")
                turned_errors[split] = turned_errors.get(split, 0) + turned
        for index, (_, small, face) in enumerate(labelled):
            if small:
                continue
            for group, member in GROUPS.items():
                if member(face):
                    tally = per_group.setdefault((split, group), [0, 0])
                    tally[0] += index in hit
                    tally[1] += 1
        if animatable:
            stats["paint"] += 1
            stats["hit"] += bool(hit)
    shipped = " (shipped)" if row == SHIPPED else " (comparison row)"
    print(f"{ROWS[row][0]}{shipped}: labelled paintings: {count}  ({megapixels:.1f} megapixels)")
    for split in ("measure", "tune"):
        s = per_split.get(split)
        if not s:
            continue
        print(
            f"{split:8s} recall {s['found']:.0f}/{s['faces']:.0f} = {100 * s['found'] / max(s['faces'], 1):.0f} %"
            f"   paintings with a face found {s['hit']:.0f}/{s['paint']:.0f}"
            f" = {100 * s['hit'] / max(s['paint'], 1):.0f} %"
            f"   false detections {s['false']:.0f}/{s['dets']:.0f} = {100 * s['false'] / max(s['dets'], 1):.1f} %"
        )
        groups = [
            f"{group} {found}/{total} = {100 * found / total:.0f} %"
            for group in GROUPS
            for found, total in [per_group.get((split, group), [0, 0])]
            if total
        ]
        print(f"{'':8s} by group (floor 80 %): " + "; ".join(groups))
        if errors.get(split):
            print(
                f"{'':8s} key points: median error {100 * float(np.median(errors[split])):.1f} % of the eye distance"
                f" (one-eyed faces: eye to mouth corner) on {len(errors[split])} found faces with labelled points,"
                f" {turned_errors.get(split, 0)} of them profile or three-quarter"
            )
    measured = per_split.get("measure")
    if measured and row == SHIPPED:  # the shipped detector on the measuring split
        recall = measured["found"] / max(measured["faces"], 1)
        report("faces.recall_measure", recall, "share", better="higher", floor=0.9)
        share = measured["hit"] / max(measured["paint"], 1)
        report("faces.paintings_with_a_face_measure", share, "share", better="higher", floor=0.95)
        false = measured["false"] / max(measured["dets"], 1)
        report("faces.false_detections_measure", false, "share", better="lower", floor=0.03, tolerance=0.5)
        report("faces.cpu_seconds_per_megapixel", cpu_total / megapixels, "s", better="lower", floor=1.0)
        for group in ("profile or three-quarter", "zhong_kui", "ink"):
            found, total = per_group.get(("measure", group), [0, 0])
            if total:
                key = group.replace(" ", "_").replace("-", "_")
                report(f"faces.recall_{key}_measure", found / total, "share", better="higher", floor=0.8)
        all_errors = errors.get("measure", []) + errors.get("tune", [])
        if all_errors:
            report("faces.key_point_error", float(np.median(all_errors)), "eye distance", better="lower", floor=0.08)
    load = os.getloadavg()[0]
    print(
        f"speed: {wall_total / count:.2f} s wall, {cpu_total / count:.2f} s CPU per painting; "
        f"{wall_total / megapixels:.2f} s wall, {cpu_total / megapixels:.2f} s CPU per megapixel "
        f"(load average {load:.1f} on {os.cpu_count()} cores)"
    )


def synthetic_scroll(path: Path) -> int:
    """Paper with ink streaks and demo faces at several sizes; returns how many faces were placed."""
    import cv2

    width, height = SCROLL
    rng = np.random.default_rng(7)
    paper = np.empty((height, width, 3), np.uint8)
    paper[:] = (196, 214, 226)  # BGR of old silk
    for _ in range(400):
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        cv2.line(
            paper,
            (x, y),
            (x + int(rng.integers(-300, 300)), y + int(rng.integers(-200, 200))),
            (40, 40, 40),
            int(rng.integers(1, 6)),
        )
    portraits = [cv2.imread(str(p)) for p in sorted((REPO / "demo" / "paintings").glob("*.jpg"))]
    placed = 0
    x = 300
    for size in (700, 420, 300, 560, 360, 250, 480, 320):
        portrait = portraits[placed % len(portraits)]
        y = int(rng.integers(100, height - size - 100))
        paper[y : y + size, x : x + size] = cv2.resize(portrait, (size, size), interpolation=cv2.INTER_AREA)
        placed += 1
        x += size + 1500
    cv2.imwrite(str(path), paper, [cv2.IMWRITE_JPEG_QUALITY, 90])
    return placed


def scroll_child(path: str) -> None:
    from animation.engine.faces import find_faces

    start = time.perf_counter()
    _, faces = find_faces(path)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"faces": [f.box for f in faces], "seconds": seconds, "peak_mb": peak}))


def scroll() -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "scroll.jpg"
        placed = synthetic_scroll(path)
        result = subprocess.run(
            [sys.executable, __file__, "--scroll-child", str(path)],
            capture_output=True,
            text=True,
            cwd=REPO,
            check=True,
        )
        data = json.loads(result.stdout.strip().splitlines()[-1])
    print(
        f"scroll {SCROLL[0]} x {SCROLL[1]}: {len(data['faces'])} faces found of {placed} placed, "
        f"{data['seconds']:.1f} s, peak memory {data['peak_mb']:.0f} MB (limit 1536 MB)"
    )


def train(labels: dict) -> None:
    """Refit the verifier on the tune half's candidates (logistic regression, numpy only)."""
    import cv2

    from animation.engine import face_paintings as fp

    features, targets = [], []
    for name, entry in labels.items():
        if entry["split"] != "tune":
            continue
        rgb = np.ascontiguousarray(cv2.imread(str(DEV / name))[:, :, ::-1])
        boxes = [(xyxy(f["box"]), bool(f.get("small"))) for f in entry["faces"]]
        for score, box in fp.candidates(rgb, smallest=fp.smallest_face(rgb.shape[1], rgb.shape[0])):
            fit = fp.fit_mesh(rgb, (box[:2] + box[2:]) / 2, float(max(box[2:] - box[:2])) * fp.MESH_CROP)
            match = next((small for label, small in boxes if matches(fit.box, label)), None)
            if match:  # small or ambiguous: not a lesson either way
                continue
            features.append(np.concatenate([fp.pattern_features(rgb, fit), fp.consistency_features(rgb, fit, score)]))
            targets.append(1.0 if match is False else 0.0)
    x, y = np.array(features, np.float64), np.array(targets)
    mean, scale = x.mean(0), x.std(0) + 1e-6
    z = (x - mean) / scale
    weights, bias = np.zeros(z.shape[1]), 0.0
    sample_weight = np.where(y == 1, (y == 0).sum() / max((y == 1).sum(), 1), 1.0)
    for _ in range(3000):
        p = 1 / (1 + np.exp(-(z @ weights + bias)))
        gradient = (p - y) * sample_weight
        weights -= 0.1 * (z.T @ gradient / len(y) + 30.0 * weights / len(y))
        bias -= 0.1 * gradient.mean()
    model = json.loads(fp.VERIFIER_PATH.read_text())
    model.update(
        mean=[round(float(v), 6) for v in mean],
        scale=[round(float(v), 6) for v in scale],
        weights=[round(float(v), 6) for v in weights],
        bias=round(float(bias), 6),
    )
    fp.VERIFIER_PATH.write_text(json.dumps(model, indent=0))
    print(f"verifier refitted on {int(y.sum())} faces and {int((y == 0).sum())} other candidates")


def main(argv: list[str]) -> int:
    if argv[:1] == ["--scroll-child"]:
        scroll_child(argv[1])
        return 0
    if not DEV.is_dir():
        print(f"skipped: the development set {DEV} is not here (it is never copied into the repository)")
        scroll()
        return 0
    labels = json.loads(LABELS.read_text())["images"]
    if argv[:1] == ["--train"]:
        train(labels)
        return 0
    rows = [SHIPPED, *(name for name in ROWS if name != SHIPPED)]
    if "--rows" in argv:
        rows = argv[argv.index("--rows") + 1].split(",")
    for row in rows:
        evaluate(labels, row=row)
    scroll()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
