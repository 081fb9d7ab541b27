"""How the trained painted-face detector does alone: ``python training/face_detector_eval.py [--model PT]``.

For each split of the development labels (tune fold A / fold B, measure) and each score threshold: recall
of animatable faces, paintings with a face found, false detections (small faces count neither way), as
bench/bench_faces_chinese.py counts them; and the groups (turned, Zhong Kui, ink, fierce). Also how many
labelled faces the detector proposes that the shipped proposals (BlazeFace tiles, photo path) miss.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO / "training"))

import numpy as np  # noqa: E402


def main() -> int:
    import cv2
    from bench_faces_chinese import matches, xyxy
    from face_decisions import CACHE, DEV, GROUPS, LABELS, tune_fold

    from animation.engine import painted_face_detector

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(painted_face_detector.DETECTOR_PATH))
    parser.add_argument("--scales", default="1.0")
    args = parser.parse_args()
    model = painted_face_detector.load(args.model)
    scales = tuple(float(v) for v in args.scales.split(","))
    thresholds = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6)
    labels = json.loads(LABELS.read_text())["images"]
    tallies: dict[tuple[str, float], dict] = {}
    new_cover: dict[str, list[int]] = {}
    for name, entry in labels.items():
        split = entry["split"] if entry["split"] == "measure" else "tune-" + tune_fold(name)
        rgb = np.ascontiguousarray(cv2.imread(str(DEV / name))[:, :, ::-1])
        found = painted_face_detector.detect(rgb, model=model, min_score=min(thresholds), scales=scales)
        labelled = [(xyxy(f["box"]), bool(f.get("small")), f) for f in entry["faces"]]
        cached = json.loads((CACHE / f"dev__{Path(name).stem}.json").read_text())["candidates"]
        photo = json.loads((CACHE / f"photo__{Path(name).stem}.json").read_text())
        for threshold in thresholds:
            t = tallies.setdefault((split, threshold), {"faces": 0, "found": 0, "dets": 0, "false": 0, "paint": 0,
                                                        "hit": 0, "groups": {g: [0, 0] for g in GROUPS}})  # fmt: skip
            hit: set[int] = set()
            for score, box in found:
                if score < threshold:
                    continue
                index = next((i for i, (label, _, _) in enumerate(labelled) if matches(box, label)), None)
                if index is not None and labelled[index][1]:
                    continue
                t["dets"] += 1
                if index is None or index in hit:
                    t["false"] += 1
                else:
                    hit.add(index)
            animatable = [i for i, item in enumerate(labelled) if not item[1]]
            t["faces"] += len(animatable)
            t["found"] += len(hit)
            t["paint"] += bool(animatable)
            t["hit"] += bool(animatable) and bool(hit)
            for i in animatable:
                for group, member in GROUPS.items():
                    if member(labelled[i][2]):
                        t["groups"][group][0] += i in hit
                        t["groups"][group][1] += 1
        # Coverage: labelled faces the shipped proposals miss and the detector (at 0.1) proposes.
        cover = new_cover.setdefault(split, [0, 0, 0])
        for label, small, _ in labelled:
            if small:
                continue
            shipped = any(matches(np.array(b), label) for b in photo) or any(
                matches(np.array(r["box"]), label) or matches(np.array(r["fit_box"]), label) for r in cached
            )
            ours = any(matches(box, label) for _, box in found)
            cover[0] += shipped
            cover[1] += shipped or ours
            cover[2] += 1
    for (split, threshold), t in sorted(tallies.items()):
        groups = " ".join(f"{g} {100 * a / b:.0f}%/{b}" for g, (a, b) in t["groups"].items() if b)
        print(
            f"{split:8s} >= {threshold:.1f}: recall {100 * t['found'] / max(t['faces'], 1):5.1f} %  paintings "
            f"{100 * t['hit'] / max(t['paint'], 1):5.1f} %  false {100 * t['false'] / max(t['dets'], 1):5.1f} %"
            f" of {t['dets']}  {groups}"
        )
    for split, (shipped, union, total) in sorted(new_cover.items()):
        print(f"{split:8s} proposals cover {shipped}/{total} faces; with the detector's {union}/{total}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
