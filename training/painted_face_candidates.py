"""Cache the painting path's candidates on the development images: ``python training/painted_face_candidates.py``.

For every image of ../shared/media/chinese-figures/ (labelled ones) and chinese-figures-extra/ it runs
BlazeFace tiles (face_paintings.candidates, at a lower score floor), fits the landmark network in each box and
records, per candidate: detector score, fitted mesh square (centre, side, tilt), presence, the old verifier's
probability, and (for labelled images) whether it matches a labelled face. Written to a cache outside the
repository (``--out``, default /tmp/shuohua_face_cache); nothing derived from the images goes into the repo.
The second-stage classifier (training/train_face_classifier.py) reads it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

SHARED = REPO.parent / "shared" / "media"
LABELS = REPO / "bench" / "labels" / "chinese_figures.json"


# Candidates and crops of the unshared image sets stay on this machine, never in the repository.
CACHE = Path(tempfile.gettempdir()) / "shuohua_face_cache"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=str(CACHE))
    parser.add_argument("--sets", default="labelled,extra")
    parser.add_argument("--min-score", type=float, default=0.1)
    args = parser.parse_args()
    os.environ.setdefault("GLOG_minloglevel", "2")
    import cv2

    cv2.setNumThreads(1)
    from animation.engine import face_paintings as fp

    fp.DETECT_MIN_SCORE = args.min_score
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    labels = json.loads(LABELS.read_text())["images"]
    jobs: list[tuple[str, Path]] = []
    if "labelled" in args.sets:
        jobs += [("dev", SHARED / "chinese-figures" / name) for name in labels]
    if "dev" in args.sets:  # every development image: the cache does not depend on the labels (matched later)
        jobs += [("dev", p) for p in sorted((SHARED / "chinese-figures").glob("*.jpg")) if p.name not in labels]
    if "extra" in args.sets:
        jobs += [("extra", p) for p in sorted((SHARED / "chinese-figures-extra").glob("*.jpg"))]
    start = time.perf_counter()
    for n, (kind, path) in enumerate(jobs):
        target = out / f"{kind}__{path.stem}.json"
        if target.exists():
            continue
        bgr = cv2.imread(str(path))
        if bgr is None:
            continue
        rgb = np.ascontiguousarray(bgr[:, :, ::-1])
        height, width = rgb.shape[:2]
        minimum = fp.smallest_face(width, height)
        records = []
        for score, box in fp.candidates(rgb, smallest=minimum):
            fit = fp.fit_mesh(rgb, (box[:2] + box[2:]) / 2, float(max(box[2:] - box[:2])) * fp.MESH_CROP)
            centre, side = fp._face_square(fit.points)
            small = max(np.ptp(fit.points, axis=0)) < 0.75 * minimum
            probability = fp.face_probability(rgb, fit, score) if fit.presence >= 0.05 and not small else 0.0
            records.append(
                {
                    "score": round(float(score), 4),
                    "box": [round(float(v), 1) for v in box],
                    "centre": [round(float(v), 2) for v in centre],
                    "side": round(float(side), 2),
                    "tilt": fit.tilt,
                    "presence": round(float(fit.presence), 4),
                    "fit_box": [round(float(v), 1) for v in fit.box],
                    "probability": round(float(probability), 4),
                    "tiny": bool(small),
                }
            )
        target.write_text(json.dumps({"image": str(path), "width": width, "height": height, "candidates": records}))
        if n % 20 == 0:
            print(f"{n}/{len(jobs)} {time.perf_counter() - start:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
