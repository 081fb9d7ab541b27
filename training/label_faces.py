"""Label the faces of the development paintings by eye: ``python training/label_faces.py <command> ...``.

The development set (../shared/media/chinese-figures/) has no labels of its own. This script renders what
a person (or a reviewer) needs to read a face's box and key points off an image, and checks and stores
what they read, in ``bench/labels/chinese_figures.json`` (labels only: no image, crop or thumbnail is ever
written into the repository; the sheets go to a scratch folder outside it).

Commands:

- ``sheet NAME [--out PNG]``: the painting enlarged so its long side is about 900 px, with a grid labelled
  in the image's own pixel coordinates (a line every 20 px, a number every 40) and the faces already
  labelled drawn and numbered (green: animatable, grey: small).
- ``crop NAME --box x,y,w,h [--out PNG]``: one face enlarged to about 480 px with a fine grid (every
  2-10 px of the image), to read key points (eye and mouth corners) to a pixel.
- ``set NAME --faces JSON``: store the faces of one image (a JSON list, see the labels file's ``about``);
  checks every box and point lies in the image and names only known keys, keeps the image's split or
  gives a new image its fixed split (see ``split_of``).
- ``todo``: the development images with no entry yet.
- ``summary``: counts per split, view and kind.

``--set extra`` (before the command) works on chinese-figures-extra/ instead, into
``bench/labels/chinese_figures_extra.json`` (training material: split "train").
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEV = REPO.parent / "shared" / "media" / "chinese-figures"
LABELS = REPO / "bench" / "labels" / "chinese_figures.json"
# ``--set extra``: the training images (chinese-figures-extra/), labelled the same way into their own file;
# they are never measured on, so they have no split.
SETS = {
    "dev": (DEV, LABELS),
    "extra": (
        REPO.parent / "shared" / "media" / "chinese-figures-extra",
        REPO / "bench" / "labels" / "chinese_figures_extra.json",
    ),
}
SCRATCH = Path(tempfile.gettempdir()) / "shuohua_label_sheets"

VIEWS = ("frontal", "three_quarter", "profile")
# Groups the issue measures separately; a face may be in several (a Zhong Kui drawn in ink).
KINDS = ("zhong_kui", "ink", "fierce", "child", "bent")
POINTS = ("eye_left", "eye_right", "mouth_left", "mouth_right", "nose_tip")
FACE_KEYS = {"box", "small", "view", "kinds", "points", "note"}


def split_of(name: str) -> str:
    """A new image's split, fixed by its name alone (never by what a detector does on it): half measure."""
    return "measure" if int(hashlib.sha256(name.encode()).hexdigest(), 16) % 2 else "tune"


def load() -> dict:
    if not LABELS.exists():
        return {"about": "Hand-labelled faces on ../shared/media/chinese-figures-extra/ (training material, never "
                "measured on), made with training/label_faces.py --set extra; the schema of chinese_figures.json.",
                "images": {}}  # fmt: skip
    return json.loads(LABELS.read_text(encoding="utf-8"))


def save(labels: dict) -> None:
    """Written beside and moved into place: a reader never sees a half-written file."""
    labels["images"] = dict(sorted(labels["images"].items()))
    partial = LABELS.with_suffix(".partial")
    partial.write_text(json.dumps(labels, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    os.replace(partial, LABELS)


def read_image(name: str) -> np.ndarray:
    image = cv2.imread(str(DEV / name))
    if image is None:
        raise SystemExit(f"cannot read {DEV / name}")
    return image


def _grid(canvas: np.ndarray, scale: float, origin: tuple[float, float], step: int, label_every: int) -> None:
    """Grid lines at image coordinates multiple of ``step`` (numbered every ``label_every``)."""
    h, w = canvas.shape[:2]
    ox, oy = origin
    first_x = int(np.ceil(ox / step) * step)
    for x in range(first_x, int(ox + w / scale) + 1, step):
        px = round((x - ox) * scale)
        strong = x % label_every == 0
        cv2.line(canvas, (px, 0), (px, h - 1), (0, 200, 255) if strong else (0, 140, 200), 1)
        if strong:
            cv2.putText(canvas, str(x), (px + 2, 12), cv2.FONT_HERSHEY_SIMPLEX, 0.38, (0, 0, 255), 1)
    first_y = int(np.ceil(oy / step) * step)
    for y in range(first_y, int(oy + h / scale) + 1, step):
        py = round((y - oy) * scale)
        strong = y % label_every == 0
        cv2.line(canvas, (0, py), (w - 1, py), (0, 200, 255) if strong else (0, 140, 200), 1)
        if strong:
            cv2.putText(canvas, str(y), (2, py - 2), cv2.FONT_HERSHEY_SIMPLEX, 0.38, (0, 0, 255), 1)


def sheet(name: str, out: Path | None) -> Path:
    image = read_image(name)
    h, w = image.shape[:2]
    scale = 900 / max(h, w)
    canvas = cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_CUBIC)
    canvas = (canvas * 0.8 + 40).astype(np.uint8)  # lighter, so the grid reads over dark ink
    _grid(canvas, scale, (0, 0), 20, 40)
    faces = load()["images"].get(name, {}).get("faces", [])
    for number, face in enumerate(faces, 1):
        x, y, bw, bh = face["box"]
        colour = (160, 160, 160) if face.get("small") else (0, 200, 0)
        p0 = (round(x * scale), round(y * scale))
        cv2.rectangle(canvas, p0, (round((x + bw) * scale), round((y + bh) * scale)), colour, 2)
        cv2.putText(canvas, str(number), (p0[0], p0[1] - 3), cv2.FONT_HERSHEY_SIMPLEX, 0.6, colour, 2)
        for point in face.get("points", {}).values():
            cv2.circle(canvas, (round(point[0] * scale), round(point[1] * scale)), 3, (255, 0, 255), -1)
    out = out or SCRATCH / f"sheet_{Path(name).stem}.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out), canvas)
    print(f"{out}  ({w} x {h} px, shown at {scale:.2f}x)")
    return out


def crop(name: str, box: list[float], out: Path | None) -> Path:
    image = read_image(name)
    x, y, bw, bh = box
    margin = 0.35 * max(bw, bh)
    x0, y0 = max(0, int(x - margin)), max(0, int(y - margin))
    x1, y1 = min(image.shape[1], int(np.ceil(x + bw + margin))), min(image.shape[0], int(np.ceil(y + bh + margin)))
    scale = 480 / max(x1 - x0, y1 - y0)
    size = (round((x1 - x0) * scale), round((y1 - y0) * scale))
    canvas = cv2.resize(image[y0:y1, x0:x1], size, interpolation=cv2.INTER_CUBIC)
    step = 2 if bw < 30 else 5 if bw < 80 else 10
    _grid(canvas, scale, (x0, y0), step, step * 2)
    out = out or SCRATCH / f"crop_{Path(name).stem}_{int(x)}_{int(y)}.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out), canvas)
    print(f"{out}  (image x {x0}-{x1}, y {y0}-{y1}, shown at {scale:.1f}x, grid every {step} px)")
    return out


def check_face(face: dict, width: int, height: int) -> None:
    unknown = set(face) - FACE_KEYS
    if unknown:
        raise SystemExit(f"unknown keys {sorted(unknown)}")
    x, y, w, h = face["box"]
    if w < 2 or h < 2 or x < 0 or y < 0 or x + w > width + 1 or y + h > height + 1:
        raise SystemExit(f"box {face['box']} is outside the {width} x {height} image")
    if face.get("view", "frontal") not in VIEWS:
        raise SystemExit(f"view must be one of {VIEWS}")
    if set(face.get("kinds", [])) - set(KINDS):
        raise SystemExit(f"kinds must be among {KINDS}")
    for key, (px, py) in face.get("points", {}).items():
        if key not in POINTS:
            raise SystemExit(f"point {key} is not one of {POINTS}")
        if not (x - w * 0.3 <= px <= x + w * 1.3 and y - h * 0.3 <= py <= y + h * 1.3):
            raise SystemExit(f"point {key} {px, py} is far outside its box {face['box']}")


def set_faces(name: str, faces: list[dict]) -> None:
    image = read_image(name)
    for face in faces:
        check_face(face, image.shape[1], image.shape[0])
    # Two people may label at once: one writer at a time, each reading the file as the other left it.
    with open(LABELS.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        labels = load()
        measured = LABELS.name == "chinese_figures.json"  # the extra images only ever train
        entry = labels["images"].get(name, {"split": split_of(name) if measured else "train"})
        entry["faces"] = faces
        labels["images"][name] = entry
        save(labels)
    print(f"{name}: {len(faces)} faces stored ({entry['split']})")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=sorted(SETS), default="dev", help="which images (default: dev)")
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("sheet")
    p.add_argument("name")
    p.add_argument("--out", type=Path)
    p = commands.add_parser("crop")
    p.add_argument("name")
    p.add_argument("--box", required=True)
    p.add_argument("--out", type=Path)
    p = commands.add_parser("set")
    p.add_argument("name")
    p.add_argument("--faces", required=True)
    commands.add_parser("todo")
    commands.add_parser("summary")
    args = parser.parse_args(argv)
    global DEV, LABELS
    DEV, LABELS = SETS[args.set]
    if args.command == "sheet":
        sheet(args.name, args.out)
    elif args.command == "crop":
        crop(args.name, [float(v) for v in args.box.split(",")], args.out)
    elif args.command == "set":
        set_faces(args.name, json.loads(args.faces))
    elif args.command == "todo":
        done = load()["images"]
        for path in sorted(DEV.glob("*.jpg")):
            if path.name not in done:
                print(path.name)
    else:
        images = load()["images"]
        rows: dict[str, dict[str, int]] = {}
        for entry in images.values():
            row = rows.setdefault(entry["split"], {"images": 0, "faces": 0, "small": 0, "points": 0})
            row["images"] += 1
            for face in entry["faces"]:
                if face.get("small"):
                    row["small"] += 1
                    continue
                row["faces"] += 1
                row["points"] += bool(face.get("points"))
                for key in [face.get("view", "frontal"), *face.get("kinds", [])]:
                    row[key] = row.get(key, 0) + 1
        print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    sys.exit(main())
