"""Faces on Chinese figure paintings: small, brush-drawn, three-quarter and profile.

The portrait path in ``faces.py`` asks mediapipe's FaceMesh graph to find and mesh a face, which it
only does when its own photo-trained detector fires on the crop. On ink and gongbi figures it rarely
does, and the faces are small (5 to 80 px on a 450 px photo of a scroll). Here the two halves are run
separately, so each can be used where it is strong:

1. Candidates: BlazeFace short-range (mediapipe, bundled models) on a pyramid of tiles
   sized to the painting, so that faces from ~16 px up reach the detectors at the size they like, at a
   low score threshold. Many candidates are wrong (seals, flowers, animal faces, folds of a robe).
2. Verification and landmarks: the face-mesh landmark network itself (``face_landmark.tflite`` from the
   mediapipe wheel, run with tflite-runtime) on a crop around each candidate. It returns 468 points and
   a face-presence score; the crop is re-centred on the mesh twice, at a few rotations (heads tilted
   over a book, looking up at a moon), and the best-scoring fit wins. A candidate is a face when that
   score is high: the presence head was trained to reject non-faces in tracking, and it rejects seals,
   calligraphy and robes here too.

The same fitting answers "two clicks": a curator drags a box around a face, or clicks its centre, and
``fit_in_box`` meshes it in well under a second, with no detector involved.

Everything loads from installed wheels: nothing is downloaded.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import threading
from pathlib import Path

import numpy as np

from animation.engine.boxes import iou, same_face
from animation.engine.model_cache import cached_model

MESH_SIDE = 192  # the landmark network's input
# Crop side around a face box: the landmark network was trained on the face filling ~2/3 of its input.
MESH_CROP = 1.6
PRESENCE_MIN = 0.5  # face-presence score that makes a candidate a face
# Head tilts tried when the upright fit is not sure; Chinese figures often bow or look up.
TILTS = (0.0, -25.0, 25.0)
DETECT_MIN_SCORE = 0.25
# BlazeFace short-range sees faces of ~20-70 % of its 128 px input; these tile sides (in painting
# pixels) cover faces from ~16 px up on a painting photo, coarser levels cover the rest.
SMALLEST_FACE = 16


def _mediapipe_module_dir() -> Path:
    spec = importlib.util.find_spec("mediapipe")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("mediapipe is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "modules"


@dataclasses.dataclass
class MeshFit:
    """One fitted mesh: 468 points in painting pixels, and how sure the network is that it is a face."""

    presence: float
    points: np.ndarray  # (468, 2)
    tilt: float = 0.0

    @property
    def box(self) -> np.ndarray:
        return np.array([*self.points.min(axis=0), *self.points.max(axis=0)])


class _Landmarker:
    """The face-mesh landmark network (468 points + presence), one interpreter per process."""

    def __init__(self) -> None:
        from tflite_runtime.interpreter import Interpreter

        path = _mediapipe_module_dir() / "face_landmark" / "face_landmark.tflite"
        self.interpreter = Interpreter(model_path=str(path), num_threads=1)
        self.interpreter.allocate_tensors()
        self.input = self.interpreter.get_input_details()[0]["index"]
        outputs = self.interpreter.get_output_details()
        by_size = sorted(outputs, key=lambda o: int(np.prod(o["shape"])))
        self.presence_output = by_size[0]["index"]
        self.points_output = by_size[-1]["index"]
        self.lock = threading.Lock()

    def fit(self, rgb: np.ndarray, centre: np.ndarray, side: float, tilt: float = 0.0) -> MeshFit:
        """Mesh a square crop of ``side`` painting pixels around ``centre``, turned by ``tilt`` degrees."""
        import cv2

        scale = MESH_SIDE / max(side, 4.0)
        angle = np.deg2rad(tilt)
        rotation = np.array([[np.cos(angle), np.sin(angle)], [-np.sin(angle), np.cos(angle)]]) * scale
        matrix = np.hstack([rotation, (MESH_SIDE / 2 - rotation @ centre)[:, None]])
        crop = cv2.warpAffine(
            rgb,
            matrix,
            (MESH_SIDE, MESH_SIDE),
            flags=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        )
        tensor = (crop.astype(np.float32) / 255.0)[None]
        with self.lock:
            self.interpreter.set_tensor(self.input, tensor)
            self.interpreter.invoke()
            points = self.interpreter.get_tensor(self.points_output).reshape(-1, 3)[:, :2].copy()
            logit = float(self.interpreter.get_tensor(self.presence_output).reshape(-1)[0])
        inverse = cv2.invertAffineTransform(matrix)
        points = points @ inverse[:, :2].T + inverse[:, 2]
        return MeshFit(presence=float(1 / (1 + np.exp(-np.clip(logit, -30, 30)))), points=points, tilt=tilt)


def landmarker() -> _Landmarker:
    return cached_model("face_paintings.landmarker", _Landmarker)


def _face_square(points: np.ndarray) -> tuple[np.ndarray, float]:
    """Centre and side of the mesh's face, as the network would like it cropped next time."""
    low, high = points.min(axis=0), points.max(axis=0)
    return (low + high) / 2, float(max(high - low)) * MESH_CROP


def fit_mesh(
    rgb: np.ndarray,
    centre: np.ndarray,
    side: float,
    *,
    tilts: tuple[float, ...] = TILTS,
    rounds: int = 2,
) -> MeshFit:
    """The best mesh around ``centre`` (a face about ``side`` / MESH_CROP wide), re-centred ``rounds`` times.

    Tilts after the first are tried only when the upright fit is unsure.
    """
    model = landmarker()
    best: MeshFit | None = None
    for tilt in tilts:
        if best is not None and best.presence >= 0.9:
            break
        c, s = np.asarray(centre, np.float64), float(side)
        fit = model.fit(rgb, c, s, tilt)
        for _ in range(rounds):
            if fit.presence < 0.05:
                break
            c2, s2 = _face_square(fit.points)
            # A mesh that wandered off or blew up is not a refinement.
            if np.hypot(*(c2 - c)) > 0.5 * s or not 0.4 * s < s2 < 2.0 * s:
                break
            refit = model.fit(rgb, c2, s2, tilt)
            if refit.presence < fit.presence - 0.05:
                break
            fit, c, s = refit, c2, s2
        if best is None or fit.presence > best.presence:
            best = fit
    assert best is not None
    return best


# ---------------------------------------------------------------------------------------------------
# Candidates


class _Detectors:
    def __init__(self) -> None:
        os.environ.setdefault("GLOG_minloglevel", "2")
        import mediapipe as mp

        # Only short-range: full-range added almost nothing at twice the cost (see PASSES).
        self.models = {
            "short": mp.solutions.face_detection.FaceDetection(
                model_selection=0, min_detection_confidence=DETECT_MIN_SCORE
            )
        }
        self.lock = threading.Lock()

    def detect(self, which: str, rgb: np.ndarray) -> list[tuple[float, np.ndarray]]:
        model = self.models[which]
        with self.lock:
            result = model.process(rgb)
        height, width = rgb.shape[:2]
        found = []
        for detection in result.detections or []:
            box = detection.location_data.relative_bounding_box
            x0, y0 = box.xmin * width, box.ymin * height
            found.append(
                (float(detection.score[0]), np.array([x0, y0, x0 + box.width * width, y0 + box.height * height]))
            )
        return found


def detectors() -> _Detectors:
    return cached_model("face_paintings.detectors", _Detectors)


def _tile_grid(width: int, height: int, side: int, overlap: float) -> list[tuple[int, int, int]]:
    side = min(side, width, height)
    step = max(1, int(side * (1 - overlap)))
    xs = sorted({*range(0, max(width - side, 0) + 1, step), max(width - side, 0)})
    ys = sorted({*range(0, max(height - side, 0) + 1, step), max(height - side, 0)})
    return [(x, y, side) for y in ys for x in xs]


# (detector, tile side in multiples of the smallest face, overlap, detector input side)
# Measured on the labelled development paintings: short-range on tiles six smallest faces wide finds
# 86 % of the faces among its candidates; full-range adds almost nothing at twice the cost.
PASSES: tuple[tuple[str, float, float, int], ...] = (("short", 4.5, 0.5, 128),)


def candidates(rgb: np.ndarray, *, smallest: int = SMALLEST_FACE) -> list[tuple[float, np.ndarray]]:
    """Boxes [x0, y0, x1, y1] that may be faces, best first, near-duplicates merged."""
    import cv2

    height, width = rgb.shape[:2]
    found: list[tuple[float, np.ndarray]] = []
    models = detectors()
    for which, multiple, overlap, size in PASSES:
        side = round(smallest * multiple)
        while side < 2 * max(width, height):
            for x0, y0, tile in _tile_grid(width, height, side, overlap):
                crop = rgb[y0 : y0 + tile, x0 : x0 + tile]
                scale = size / tile
                crop = cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
                for score, box in models.detect(which, crop):
                    found.append((score, box / scale + np.array([x0, y0, x0, y0])))
            # Tiles are squares no bigger than the short side: past it a level would repeat the last one.
            if side >= min(width, height):
                break
            side *= 2
    return merge_boxes(found)


def merge_boxes(found: list[tuple[float, np.ndarray]], threshold: float = 0.3) -> list[tuple[float, np.ndarray]]:
    kept: list[tuple[float, np.ndarray]] = []
    for score, box in sorted(found, key=lambda item: -item[0]):
        if all(iou(box, other) <= threshold for _, other in kept):
            kept.append((score, box))
    return kept


# ---------------------------------------------------------------------------------------------------
# Verification: is a fitted mesh a face? Seals, calligraphy, rocks and folds of a robe also get a high
# presence score; what gives them away is the pattern under the mesh: eyes and brows darker than the
# cheeks and forehead, a mouth line, a face not printed in vermilion.

# Mesh points sampled for the verifier: eyes (corners, lids), brows, nose, mouth, cheeks, forehead, chin.
PATTERN_POINTS: tuple[int, ...] = (
    33,
    133,
    159,
    145,  # eyes: corners, lids
    362,
    263,
    386,
    374,
    70,
    105,
    107,
    336,
    334,
    300,  # brows
    1,
    4,
    98,
    327,  # nose
    61,
    291,
    0,
    17,
    13,
    14,  # mouth
    50,
    280,
    187,
    411,
    205,
    425,  # cheeks
    10,
    151,
    9,
    108,
    337,  # forehead
    152,
    175,
    199,  # chin
    234,
    454,
    93,
    323,  # face sides
)


def pattern_features(rgb: np.ndarray, fit: MeshFit) -> np.ndarray:
    """Features of what lies under the mesh, independent of the painting's brightness and contrast."""
    import cv2

    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    height, width = gray.shape
    points = fit.points[list(PATTERN_POINTS)]
    size = max(float(np.ptp(fit.points[:, 0])), float(np.ptp(fit.points[:, 1])), 4.0)
    # Sample a little blurred so one brush hair does not decide it.
    sigma = max(0.6, size / 40)
    blurred = cv2.GaussianBlur(gray, (0, 0), sigma)
    xs = np.clip(np.round(points[:, 0]).astype(int), 0, width - 1)
    ys = np.clip(np.round(points[:, 1]).astype(int), 0, height - 1)
    values = blurred[ys, xs]
    values = (values - values.mean()) / (values.std() + 8.0)
    x0, y0, x1, y1 = np.clip(fit.box, 0, [width, height, width, height]).astype(int)
    patch = rgb[y0 : max(y1, y0 + 1), x0 : max(x1, x0 + 1)].reshape(-1, 3).astype(np.float32)
    r, g, b = patch[:, 0], patch[:, 1], patch[:, 2]
    vermilion = float(np.mean((r > 120) & (r - g > 60) & (r - b > 50))) if len(patch) else 0.0
    dark = float(np.mean(patch.mean(axis=1) < 80)) if len(patch) else 0.0
    presence = np.clip(fit.presence, 1e-4, 1 - 1e-4)
    return np.concatenate(
        [values, [vermilion, dark, float(np.log(presence / (1 - presence))) / 5.0, np.log(size / 40.0)]]
    ).astype(np.float32)


def consistency_features(rgb: np.ndarray, fit: MeshFit, detector_score: float) -> np.ndarray:
    """How the network's belief holds up: mirrored, zoomed out and in. Faces hold, textures flicker."""
    model = landmarker()
    centre, side = _face_square(fit.points)
    mirrored = np.ascontiguousarray(rgb[:, ::-1])
    width = rgb.shape[1]
    flip = model.fit(mirrored, np.array([width - 1 - centre[0], centre[1]]), side, -fit.tilt)
    wide = model.fit(rgb, centre, side * 1.5, fit.tilt)
    tight = model.fit(rgb, centre, side * 0.8, fit.tilt)

    def logit(p: float) -> float:
        p = float(np.clip(p, 1e-4, 1 - 1e-4))
        return float(np.log(p / (1 - p))) / 5.0

    return np.array([logit(flip.presence), logit(wide.presence), logit(tight.presence), detector_score], np.float32)


# ---------------------------------------------------------------------------------------------------
# Putting it together


@dataclasses.dataclass
class _Verifier:
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float
    threshold: float

    def probability(self, features: np.ndarray) -> float:
        z = (features - self.mean) / self.scale
        return float(1 / (1 + np.exp(-np.clip(z @ self.weights + self.bias, -30, 30))))


VERIFIER_PATH = Path(__file__).resolve().parent / "models" / "face_verifier.json"


def _load_verifier() -> _Verifier:
    import json

    data = json.loads(VERIFIER_PATH.read_text())
    return _Verifier(
        mean=np.asarray(data["mean"], np.float64),
        scale=np.asarray(data["scale"], np.float64),
        weights=np.asarray(data["weights"], np.float64),
        bias=float(data["bias"]),
        threshold=float(data["threshold"]),
    )


def verifier() -> _Verifier:
    return cached_model("face_paintings.verifier", _load_verifier)


def face_probability(rgb: np.ndarray, fit: MeshFit, detector_score: float) -> float:
    # Work on a crop around the face: a scroll is 40 megapixels and the features look at one head.
    height, width = rgb.shape[:2]
    centre, side = _face_square(fit.points)
    x0, y0 = (int(max(0, v - 1.6 * side)) for v in centre)
    x1, y1 = int(min(width, centre[0] + 1.6 * side)) + 1, int(min(height, centre[1] + 1.6 * side)) + 1
    crop = np.ascontiguousarray(rgb[y0:y1, x0:x1])
    local = dataclasses.replace(fit, points=fit.points - [x0, y0])
    features = np.concatenate([pattern_features(crop, local), consistency_features(crop, local, detector_score)])
    return verifier().probability(features)


def smallest_face(width: int, height: int) -> int:
    """The smallest face worth looking for: 16 px on a photo of a painting, more on a big scan.

    On a 2,000 px tall scroll a face under 1/40 of the height would be upscaled tenfold in the film.
    """
    return int(max(SMALLEST_FACE, min(width, height) / 40))


# Second stage (painted_faces.py): a CNN on the candidate box itself accepts faces the mesh cannot fit
# (fierce bearded faces, ink monks, profiles) when it is at least this sure; chosen on the tune split.
# Off by default: on the measure split it raised recall 62 -> 66 % but false detections 6.5 -> 11.4 %
# (issue #21's floor is 3 %), so detect_faces does not use it until a better model passes.
CNN_MIN = 0.98


# Our own detector (painted_face_detector.py): a face it is at least this sure of is kept whatever the
# mesh verifier says, and a face the verifier accepts must have at least DETECTOR_SUPPORT from it (the
# veto is what removes most of the verifier's seals, blossoms and characters). Chosen on fold B of the
# tune split (training/face_decisions.py: the most faces with at most 7 % false detections there, 62.5 %
# and 6.2 %; the detector never trained on fold B), never on the measure split.
DETECTOR_ACCEPT = 0.45
DETECTOR_SUPPORT = 0.05


def find_painted_faces(
    rgb: np.ndarray, *, offset: tuple[int, int] = (0, 0), cnn: bool = False, detector: bool = False
) -> list[tuple[float, MeshFit]]:
    """Faces on an RGB painting (or a strip of one at ``offset``): (probability, mesh), best first.

    A candidate is a face when the mesh verifier says so or, with ``cnn``, when the painted-face
    classifier is sure of the candidate box. With ``detector`` our own detector adds the faces it finds
    that BlazeFace did not propose, and its score decides (DETECTOR_ACCEPT, DETECTOR_SUPPORT).
    """
    height, width = rgb.shape[:2]
    minimum = smallest_face(width, height)
    found: list[tuple[float, MeshFit]] = []
    threshold = verifier().threshold
    proposals = candidates(rgb, smallest=minimum)
    detector_score = np.zeros(len(proposals))
    largest_seen = float("inf")
    if detector:
        from animation.engine.painted_face_detector import detect_on_painting, largest_face_seen

        # Low scores too: they only lend support to BlazeFace's candidates. A face of the detector's own is
        # proposed only when it is sure enough to be kept. Seen at one scale, the one that brings the
        # smallest face worth finding to the sizes it learnt (its smaller scales found collars and sleeves
        # around large faces); a candidate larger than it can see there needs no support (vetoed = False).
        for score, box in detect_on_painting(rgb, smallest=minimum, min_score=min(DETECTOR_SUPPORT, 0.05)):
            near = [i for i, (_, other) in enumerate(proposals) if same_face(box, other)]
            for i in near:
                detector_score[i] = max(detector_score[i], score)
            if not near and score >= DETECTOR_ACCEPT:
                proposals.append((score, box))
                detector_score = np.append(detector_score, score)
        largest_seen = largest_face_seen(smallest=minimum)
    if cnn and proposals:
        from animation.engine.painted_faces import face_probabilities

        cnn_probability = face_probabilities(rgb, [box for _, box in proposals])
    else:
        cnn_probability = np.zeros(len(proposals))
    # The surest first (the detector's, else the classifier's): a face found is not taken again by a looser box.
    if detector:
        order = sorted(range(len(proposals)), key=lambda i: -float(detector_score[i]))
    elif cnn:
        order = sorted(range(len(proposals)), key=lambda i: -float(cnn_probability[i]))
    else:
        order = list(range(len(proposals)))
    for i in order:
        score, box = proposals[i]
        fit = fit_mesh(rgb, (box[:2] + box[2:]) / 2, float(max(box[2:] - box[:2])) * MESH_CROP)
        if max(np.ptp(fit.points, axis=0)) < 0.75 * minimum:
            continue
        if any(same_face(fit.box, other.box) for _, other in found):
            continue
        probability = face_probability(rgb, fit, score) if fit.presence >= 0.05 else 0.0
        supported = not detector or detector_score[i] >= DETECTOR_SUPPORT or max(box[2:] - box[:2]) > largest_seen
        if probability >= threshold and supported:
            found.append((probability, fit))
        elif detector and detector_score[i] >= DETECTOR_ACCEPT:
            found.append((float(detector_score[i]), fit))
        elif cnn_probability[i] >= CNN_MIN:
            found.append((float(cnn_probability[i]), fit))
    found.sort(key=lambda item: -item[0])
    if offset != (0, 0):
        for _, fit in found:
            fit.points = fit.points + np.asarray(offset, np.float64)
    return found


def fit_in_box(
    image_bgr: np.ndarray,
    box: tuple[float, float, float, float] | None = None,
    *,
    centre: tuple[float, float] | None = None,
    size: float | None = None,
) -> MeshFit:
    """Two clicks: mesh the face a curator boxed (x, y, w, h), or the one around a clicked centre.

    No detector and no verification: the curator says there is a face. With only a centre the size is
    searched (a few sizes, the most confident wins); ``size`` narrows it to one.
    """
    rgb = np.ascontiguousarray(image_bgr[:, :, ::-1])
    height, width = rgb.shape[:2]
    if box is not None:
        x, y, w, h = (float(v) for v in box)
        return fit_mesh(rgb, np.array([x + w / 2, y + h / 2]), max(w, h) * MESH_CROP)
    if centre is None:
        raise ValueError("fit_in_box needs a box or a centre")
    c = np.asarray(centre, np.float64)
    sides = [float(size)] if size else [min(width, height) * f for f in (0.04, 0.07, 0.12, 0.2, 0.35)]
    fits = [fit_mesh(rgb, c, max(side, 12.0) * MESH_CROP) for side in sides]
    return max(fits, key=lambda f: f.presence)
