"""Choose the painting path's decision rule from cached candidates: ``python training/face_decisions.py``.

``detect_faces`` keeps a painting-path candidate when the mesh verifier or the painted-face CNN says it is a
face. Running the detector for every threshold tried would take minutes each; this script replays the
decision instead, from what does not change between tries:

- the painting path's candidates per development image (training/painted_face_candidates.py's cache:
  BlazeFace score, box, fitted mesh box, presence, verifier probability);
- the photo path's meshed faces per image (cached here on first use, next to the candidates);
- the CNN's probability for every candidate (recomputed for the model given with ``--cnn``).

It prints recall, paintings with a face found and false detections per split for the rules tried, with
the groups (profile or three-quarter, Zhong Kui, ink ...). Rules are chosen on the tune split (or its
fold B, when the CNN was trained on fold A: ``--tune-fold B``) and only reported on the measure split.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import numpy as np  # noqa: E402

LABELS = REPO / "bench" / "labels" / "chinese_figures.json"
DEV = REPO.parent / "shared" / "media" / "chinese-figures"
CACHE = Path(tempfile.gettempdir()) / "shuohua_face_cache"


def tune_fold(name: str) -> str:
    """Fold A or B of a tune-split image, fixed by its name (the CNN may train on A, rules chosen on B)."""
    return "A" if int(hashlib.sha256(("fold:" + name).encode()).hexdigest(), 16) % 2 else "B"


def photo_path(name: str, rgb: np.ndarray) -> list[list[float]]:
    """Boxes [x0, y0, x1, y1] of the faces the photo path meshes (cached)."""
    target = CACHE / f"photo__{Path(name).stem}.json"
    if target.exists():
        return json.loads(target.read_text())
    from animation.engine import faces

    mediapipe = faces._mediapipe()
    boxes: list[list[float]] = []
    for _, box in faces._candidates(mediapipe, rgb):
        points = faces._mesh_on_crop(mediapipe, rgb, box)
        if points is None:
            continue
        mesh_box = [*points.min(axis=0), *points.max(axis=0)]
        if any(faces.iou(np.array(mesh_box), np.array(other)) > 0.4 for other in boxes):
            continue
        boxes.append([round(float(v), 1) for v in mesh_box])
    target.write_text(json.dumps(boxes))
    return boxes


def gather(cnn_path: Path | None, detector_path: Path | None = None) -> list[dict]:
    """Per development image: labels, photo-path boxes, painting-path candidates with CNN probabilities."""
    import cv2

    from animation.engine import painted_faces

    if cnn_path is not None:
        painted_faces.CNN_PATH = cnn_path
    from animation.engine import painted_face_detector
    from animation.engine.face_paintings import same_face

    model = painted_face_detector.load(detector_path) if detector_path else None
    labels = json.loads(LABELS.read_text())["images"]
    images = []
    for name, entry in labels.items():
        bgr = cv2.imread(str(DEV / name))
        rgb = np.ascontiguousarray(bgr[:, :, ::-1])
        cached = json.loads((CACHE / f"dev__{Path(name).stem}.json").read_text())["candidates"]
        probabilities = painted_faces.face_probabilities(rgb, [np.array(c["box"]) for c in cached])
        for record, probability in zip(cached, probabilities, strict=True):
            record["cnn"] = float(probability)
            record["det"] = 0.0
        if model is not None:
            # The detector's score of each BlazeFace candidate (its box on the same face), and its own
            # proposals where no candidate stands, as candidates of their own (mesh box ~ its box).
            for score, box in painted_face_detector.detect(rgb, model=model, min_score=0.1):
                near = [
                    r for r in cached if same_face(np.array(r["fit_box"]), box) or same_face(np.array(r["box"]), box)
                ]
                for record in near:
                    record["det"] = max(record["det"], score)
                if not near:
                    cached.append({"score": 1.0, "box": box.tolist(), "fit_box": box.tolist(), "probability": 0.0,
                                   "tiny": bool(max(box[2:] - box[:2]) < 8), "cnn": 0.0, "det": score,
                                   "from_detector": True})  # fmt: skip
        images.append(
            {
                "name": name,
                "split": entry["split"] if entry["split"] == "measure" else "tune-" + tune_fold(name),
                "faces": entry["faces"],
                "photo": photo_path(name, rgb),
                "candidates": cached,
            }
        )
    return images


def decide(image: dict, rule: dict) -> list[np.ndarray]:
    """The boxes detect_faces would return under RULE (the replay of find_painted_faces and its caller)."""
    from animation.engine.face_paintings import same_face

    found: list[np.ndarray] = []
    candidates = [c for c in image["candidates"] if c["score"] >= rule["min_score"] and not c["tiny"]]
    if rule.get("det", 1.01) <= 1:
        candidates.sort(key=lambda c: -c["det"])
    elif rule["cnn"] <= 1 or rule["veto"] > 0:  # the product orders by the CNN only when it uses it
        candidates.sort(key=lambda c: -c["cnn"])
    for record in candidates:
        fit_box = np.array(record["fit_box"])
        if any(same_face(fit_box, other) for other in found):
            continue
        verifier_says = record["probability"] >= rule["verifier"] and record["cnn"] >= rule["veto"]
        verifier_says = verifier_says and record["det"] >= rule.get("det_support", 0.0)
        if verifier_says or record["cnn"] >= rule["cnn"] or record["det"] >= rule.get("det", 1.01):
            found.append(fit_box)
    photo = [np.array(box) for box in image["photo"]]
    return photo + [box for box in found if not any(same_face(box, other) for other in photo)]


GROUPS = {
    "turned": lambda face: face.get("view") in ("profile", "three_quarter"),
    "zhong_kui": lambda face: "zhong_kui" in face.get("kinds", []),
    "ink": lambda face: "ink" in face.get("kinds", []),
    "fierce": lambda face: "fierce" in face.get("kinds", []),
}


def score(images: list[dict], rule: dict, split: str) -> dict:
    from bench_faces_chinese import matches, xyxy

    tally = dict.fromkeys(("faces", "found", "dets", "false", "paint", "hit"), 0)
    groups = {group: [0, 0] for group in GROUPS}
    for image in images:
        if not image["split"].startswith(split):
            continue
        labelled = [(xyxy(face["box"]), bool(face.get("small")), face) for face in image["faces"]]
        hit: set[int] = set()
        for box in decide(image, rule):
            index = next((i for i, (label, _, _) in enumerate(labelled) if matches(box, label)), None)
            if index is not None and labelled[index][1]:
                continue
            tally["dets"] += 1
            if index is None or index in hit:
                tally["false"] += 1
            else:
                hit.add(index)
        animatable = [i for i, item in enumerate(labelled) if not item[1]]
        tally["faces"] += len(animatable)
        tally["found"] += len(hit)
        if animatable:
            tally["paint"] += 1
            tally["hit"] += bool(hit)
        for i in animatable:
            for group, member in GROUPS.items():
                if member(labelled[i][2]):
                    groups[group][0] += i in hit
                    groups[group][1] += 1
    return {
        "recall": tally["found"] / max(tally["faces"], 1),
        "paintings": tally["hit"] / max(tally["paint"], 1),
        "false": tally["false"] / max(tally["dets"], 1),
        "faces": tally["faces"],
        "groups": {group: (found / total if total else None, total) for group, (found, total) in groups.items()},
    }


def line(label: str, result: dict) -> str:
    groups = " ".join(
        f"{group} {100 * share:.0f}%/{total}" for group, (share, total) in result["groups"].items() if total
    )
    return (
        f"{label:<44} recall {100 * result['recall']:5.1f} %  paintings {100 * result['paintings']:5.1f} %  "
        f"false {100 * result['false']:5.1f} %  ({result['faces']} faces)  {groups}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cnn", type=Path, help="a painted-face CNN to replay (default: the shipped one)")
    parser.add_argument("--choose-on", default="tune", help="tune, tune-A or tune-B: where rules are chosen")
    parser.add_argument("--max-false", type=float, default=0.03)
    parser.add_argument("--detector", type=Path, help="a trained painted-face detector to add (rules with it)")
    args = parser.parse_args()
    os.environ.setdefault("GLOG_minloglevel", "2")
    images = gather(args.cnn, args.detector)
    shipped = {"min_score": 0.25, "verifier": 0.5, "veto": 0.0, "cnn": 1.01}
    from animation.engine.face_paintings import CNN_MIN, verifier

    shipped["verifier"] = verifier().threshold
    with_cnn = {**shipped, "cnn": CNN_MIN}
    for label, rule in (("shipped (verifier only)", shipped), ("shipped verifier + CNN", with_cnn)):
        for split in (args.choose_on, "measure"):
            print(line(f"{label} [{split}]", score(images, rule, split)))
    best = None
    if args.detector:
        for det, support, verifier_t in itertools.product(
            (0.2, 0.3, 0.4, 0.5, 0.6, 0.7), (0.0, 0.1, 0.2, 0.3), (shipped["verifier"], 0.3, 0.7, 1.01)
        ):
            rule = {**shipped, "det": det, "det_support": support, "verifier": verifier_t}
            result = score(images, rule, args.choose_on)
            if result["false"] <= args.max_false and (best is None or result["recall"] > best[1]["recall"]):
                best = (rule, result)
    for min_score, verifier_t, veto, cnn_t in itertools.product(
        (0.1, 0.15, 0.25),
        (shipped["verifier"], 0.3, 0.4, 0.6, 0.7),
        (0.0, 0.05, 0.1, 0.2, 0.4),
        (0.6, 0.8, 0.9, 0.95, 0.98, 1.01),
    ):
        rule = {"min_score": min_score, "verifier": verifier_t, "veto": veto, "cnn": cnn_t}
        result = score(images, rule, args.choose_on)
        if result["false"] <= args.max_false and (best is None or result["recall"] > best[1]["recall"]):
            best = (rule, result)
    if best is None:
        print(f"no rule keeps false detections within {100 * args.max_false:.0f} % on {args.choose_on}")
        return 0
    rule, result = best
    print(f"best rule on {args.choose_on} with false <= {100 * args.max_false:.0f} %: {rule}")
    print(line(f"  [{args.choose_on}]", result))
    print(line("  [measure]", score(images, rule, "measure")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
