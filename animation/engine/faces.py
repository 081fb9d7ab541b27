"""Faces and landmarks on a painting.

Primary detector: mediapipe 0.10.21, which ships its models inside the wheel (nothing is downloaded).
Candidates come from BlazeFace full-range run on the whole painting and on overlapping tiles of a
pyramid, so that the small faces of a multi-figure scroll are seen at a size the detector likes; each
candidate is then meshed (478 points with irises) on a crop where it fills about half the frame, which
is the framing the mesh model was trained on. A candidate that cannot be meshed is dropped: a box
without landmarks cannot be animated.

No dlib fallback: on this repository's portraits (oil, naive, digital, anime, glasses) the mesh found
every face, and a second detector would add a 100 MB dependency for a case we have not seen. A curator
can always place the landmarks by hand (``face_from_landmarks``), which is the real fallback.

Landmark groups are in image pixels. "left" and "right" are the figure's own (its left eye is on the
image's right in a frontal portrait), matching the ``blink_left``/``blink_right`` controls. Contours
are ordered so that tools and the renderer can rely on them:

- eyes and mouth: start at the corner nearer the image's left edge, run along the upper lid/lip to the
  other corner, then back along the lower one (corners at index 0 and len/2);
- brows: from the end nearer the image's left edge along the upper edge, back along the lower edge;
- jaw: from the image-left ear along the jawline through the chin to the image-right ear;
- face_oval: clockwise from the top of the forehead.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from animation.engine.boxes import iou, same_face
from animation.engine.errors import EngineInputError
from animation.engine.model_cache import cached_model

# Smaller than this has no face worth animating; bigger is a scan nobody should render from (the
# renderer works at --size anyway) and would cost gigabytes to decode.
MIN_SIDE = 32
# A handscroll is long and narrow (20,000 x 2,000 px is common): the side limit is generous and the
# pixel count does the capping.
MAX_SIDE = 32000
MAX_PIXELS = 80_000_000

MESH_GROUPS: dict[str, tuple[int, ...]] = {
    "left_eye": (362, 398, 384, 385, 386, 387, 388, 466, 263, 249, 390, 373, 374, 380, 381, 382),
    "right_eye": (33, 246, 161, 160, 159, 158, 157, 173, 133, 155, 154, 153, 145, 144, 163, 7),
    "left_iris": (473, 474, 475, 476, 477),
    "right_iris": (468, 469, 470, 471, 472),
    "left_brow": (336, 296, 334, 293, 300, 276, 283, 282, 295, 285),
    "right_brow": (70, 63, 105, 66, 107, 55, 65, 52, 53, 46),
    "mouth_outer": (
        61,
        185,
        40,
        39,
        37,
        0,
        267,
        269,
        270,
        409,
        291,
        375,
        321,
        405,
        314,
        17,
        84,
        181,
        91,
        146,
    ),
    "mouth_inner": (
        78,
        191,
        80,
        81,
        82,
        13,
        312,
        311,
        310,
        415,
        308,
        324,
        318,
        402,
        317,
        14,
        87,
        178,
        88,
        95,
    ),
    "nose_tip": (1,),
    "nose_bridge": (168, 6, 197, 195, 5),
    "nose_base": (98, 97, 2, 326, 327),
    "jaw": (
        234,
        93,
        132,
        58,
        172,
        136,
        150,
        149,
        176,
        148,
        152,
        377,
        400,
        378,
        379,
        365,
        397,
        288,
        361,
        323,
        454,
    ),
    "face_oval": (
        10,
        338,
        297,
        332,
        284,
        251,
        389,
        356,
        454,
        323,
        361,
        288,
        397,
        365,
        379,
        378,
        400,
        377,
        152,
        148,
        176,
        149,
        150,
        136,
        172,
        58,
        132,
        93,
        234,
        127,
        162,
        21,
        54,
        103,
        67,
        109,
    ),
}

# What the renderer needs, and the fewest points that still describe each shape; a manual override
# may carry fewer points than the mesh gives (the editor's handles), not fewer than this.
REQUIRED_GROUPS: dict[str, int] = {
    "left_eye": 6,
    "right_eye": 6,
    "mouth_outer": 8,
    "mouth_inner": 6,
    "nose_tip": 1,
    "jaw": 5,
}
OPTIONAL_GROUPS: dict[str, int] = {
    "left_iris": 1,
    "right_iris": 1,
    "left_brow": 3,
    "right_brow": 3,
    "nose_bridge": 2,
    "nose_base": 2,
    "face_oval": 8,
}


@dataclasses.dataclass
class Face:
    """One face: ``box`` is [x, y, w, h] in image pixels, ``landmarks`` named groups of [x, y]."""

    index: int
    box: list[int]
    score: float
    landmarks: dict[str, np.ndarray]

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "box": [int(v) for v in self.box],
            "score": round(float(self.score), 3),
            "landmarks": {
                name: [[round(float(x), 1), round(float(y), 1)] for x, y in points]
                for name, points in self.landmarks.items()
            },
        }


# ---------------------------------------------------------------------------------------------------
# Loading


def load_painting(path: str | os.PathLike[str]) -> np.ndarray:
    """Read a painting as a BGR uint8 array, upright (EXIF orientation applied), alpha over white.

    Raises EngineInputError for a missing, unreadable, tiny or enormous file.
    """
    path = Path(path)
    if not path.is_file():
        raise EngineInputError(f"painting not found: {path}")
    with warnings.catch_warnings():
        # Pillow warns before it refuses: we make our own size decision from the header instead.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            with Image.open(path) as image:
                width, height = image.size
                _check_size(width, height, path)
                image.load()
                image = ImageOps.exif_transpose(image)
                rgb = _to_rgb(image)
        except EngineInputError:
            raise
        except (
            UnidentifiedImageError,
            OSError,
            SyntaxError,
            ValueError,
            Image.DecompressionBombError,
        ) as error:
            raise EngineInputError(
                f"{path.name} cannot be read as an image ({error}); upload a JPEG or PNG of the painting"
            ) from None
    return np.ascontiguousarray(rgb[:, :, ::-1])


def _check_size(width: int, height: int, path: Path) -> None:
    if max(width, height) > MAX_SIDE or width * height > MAX_PIXELS:
        raise EngineInputError(
            f"{path.name} is {width}x{height} pixels: too large; downscale it to at most {MAX_SIDE} pixels "
            f"on the longest side and {MAX_PIXELS // 1_000_000} megapixels"
        )
    if min(width, height) < MIN_SIDE:
        raise EngineInputError(
            f"{path.name} is {width}x{height} pixels: too small to hold a face; use a scan at least "
            f"{MIN_SIDE} pixels on each side (a few hundred is better)"
        )


def _to_rgb(image: Image.Image) -> np.ndarray:
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return np.asarray(Image.alpha_composite(background, rgba).convert("RGB"))
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit scans: Pillow's convert("RGB") clips instead of scaling.
        data = np.asarray(image, dtype=np.float64)
        data = np.clip(data / max(float(data.max()), 1.0) * 255.0, 0, 255).astype(np.uint8)
        return np.repeat(data[:, :, None], 3, axis=2)
    return np.asarray(image.convert("RGB"))


# ---------------------------------------------------------------------------------------------------
# Detection


class _Mediapipe:
    """The mediapipe graphs, built once per process; calls are serialised (graphs are not re-entrant)."""

    def __init__(self) -> None:
        os.environ.setdefault("GLOG_minloglevel", "2")
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        import mediapipe as mp

        self.detector = mp.solutions.face_detection.FaceDetection(model_selection=1, min_detection_confidence=0.5)
        self.mesh = mp.solutions.face_mesh.FaceMesh(
            static_image_mode=True, max_num_faces=4, refine_landmarks=True, min_detection_confidence=0.4
        )
        self.lock = threading.Lock()

    def detect(self, rgb: np.ndarray) -> list[tuple[float, np.ndarray]]:
        """Boxes [x0, y0, x1, y1] in the given image's pixels, with scores."""
        with self.lock:
            result = self.detector.process(rgb)
        height, width = rgb.shape[:2]
        found = []
        for detection in result.detections or []:
            box = detection.location_data.relative_bounding_box
            x0, y0 = box.xmin * width, box.ymin * height
            found.append(
                (
                    float(detection.score[0]),
                    np.array([x0, y0, x0 + box.width * width, y0 + box.height * height]),
                )
            )
        return found

    def mesh_points(self, rgb: np.ndarray) -> list[np.ndarray]:
        """Every mesh found, as (478, 2) arrays in the given image's pixels."""
        with self.lock:
            result = self.mesh.process(rgb)
        height, width = rgb.shape[:2]
        meshes = []
        for face in result.multi_face_landmarks or []:
            points = np.array([(p.x * width, p.y * height) for p in face.landmark], dtype=np.float64)
            meshes.append(points)
        return meshes


def _mediapipe() -> _Mediapipe:
    return cached_model("faces.mediapipe", _Mediapipe)


# Tiles: each level's tile is this much smaller than the one above, overlapping by a third so a face
# on a boundary is whole in some tile. BlazeFace full-range sees faces down to ~5% of its input; tiles
# stop at a size where that is ~20 px, smaller than any face worth animating.
TILE_SHRINK = 2.5
TILE_OVERLAP = 1 / 3
MIN_TILE = 256
MAX_TILES = 400
TILE_INPUT = 384
MESH_INPUT = 320


def _tiles(width: int, height: int) -> list[tuple[int, int, int]]:
    """Squares (x0, y0, side) of the pyramid below the whole image, coarse to fine."""
    tiles: list[tuple[int, int, int]] = []
    side = max(width, height) / TILE_SHRINK
    while side >= MIN_TILE and len(tiles) < MAX_TILES:
        tile = int(min(side, width, height))
        step = max(1, int(tile * (1 - TILE_OVERLAP)))
        xs = sorted({*range(0, max(width - tile, 0) + 1, step), max(width - tile, 0)})
        ys = sorted({*range(0, max(height - tile, 0) + 1, step), max(height - tile, 0)})
        tiles.extend((x, y, tile) for y in ys for x in xs)
        side /= TILE_SHRINK
    return tiles[:MAX_TILES]


def _candidates(mediapipe: _Mediapipe, rgb: np.ndarray) -> list[tuple[float, np.ndarray]]:
    import cv2

    height, width = rgb.shape[:2]
    found = mediapipe.detect(rgb)
    for x0, y0, side in _tiles(width, height):
        crop = rgb[y0 : y0 + side, x0 : x0 + side]
        scale = TILE_INPUT / side
        crop = cv2.resize(
            crop, (TILE_INPUT, TILE_INPUT), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
        )
        for score, box in mediapipe.detect(crop):
            box = box / scale + np.array([x0, y0, x0, y0])
            # A face cut by the tile's edge is seen whole in a neighbouring tile or level.
            touches = box[0] < x0 + 1 or box[1] < y0 + 1 or box[2] > x0 + side - 1 or box[3] > y0 + side - 1
            inside_image = box[0] > 1 and box[1] > 1 and box[2] < width - 1 and box[3] < height - 1
            if touches and inside_image:
                continue
            found.append((score, box))
    # Also what the mesh's own detector sees on the whole painting: it is tuned to close-up faces.
    for points in mediapipe.mesh_points(rgb):
        found.append((0.5, np.array([*points.min(axis=0), *points.max(axis=0)])))
    found.sort(key=lambda item: -item[0])
    kept: list[tuple[float, np.ndarray]] = []
    for score, box in found:
        if not any(same_face(box, other) for _, other in kept):
            kept.append((score, box))
    return kept


def _mesh_on_crop(mediapipe: _Mediapipe, rgb: np.ndarray, box: np.ndarray) -> np.ndarray | None:
    """Mesh the face in ``box``: crop a square around it, scaled so the face fills about half of it."""
    import cv2

    height, width = rgb.shape[:2]
    centre = np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2])
    size = max(box[2] - box[0], box[3] - box[1])
    for factor in (2.0, 1.5, 3.0):
        side = max(8.0, size * factor)
        scale = MESH_INPUT / side
        # An affine crop pads outside the painting instead of shifting the face off-centre.
        matrix = np.array(
            [[scale, 0, MESH_INPUT / 2 - centre[0] * scale], [0, scale, MESH_INPUT / 2 - centre[1] * scale]]
        )
        crop = cv2.warpAffine(
            rgb,
            matrix,
            (MESH_INPUT, MESH_INPUT),
            flags=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC,
            borderMode=cv2.BORDER_REPLICATE,
        )
        meshes = mediapipe.mesh_points(crop)
        if not meshes:
            continue
        # Neighbouring figures may share the crop: take the mesh nearest its centre.
        points = min(meshes, key=lambda p: float(np.linalg.norm(p.mean(axis=0) - MESH_INPUT / 2)))
        points = (points - matrix[:, 2]) / scale
        mesh_box = np.array([*points.min(axis=0), *points.max(axis=0)])
        if same_face(mesh_box, box) and np.all(mesh_box[2:] > 0) and mesh_box[0] < width and mesh_box[1] < height:
            return points
    return None


def detect_faces(image: np.ndarray, *, cnn: bool = False, detector: bool = True) -> list[Face]:
    """Every face mediapipe can mesh on a BGR painting, largest first (index 0 is the main figure).

    ``cnn=True`` adds the painted-face classifier (painted_faces.py), measured as its own row in
    bench/bench_faces_chinese.py; off until it keeps false detections within the floor.
    """
    rgb = np.ascontiguousarray(image[:, :, ::-1])
    mediapipe = _mediapipe()
    meshed: list[tuple[float, np.ndarray]] = []
    for score, box in _candidates(mediapipe, rgb):
        points = _mesh_on_crop(mediapipe, rgb, box)
        if points is None:
            continue
        mesh_box = np.array([*points.min(axis=0), *points.max(axis=0)])
        if any(iou(mesh_box, np.array([*other.min(axis=0), *other.max(axis=0)])) > 0.4 for _, other in meshed):
            continue
        meshed.append((score, points))
    # Then the painting path (face_paintings.py): small, brush-drawn and turned faces the mesh graph's
    # photo detector does not fire on, found by tiles and verified under the landmark network's mesh.
    from animation.engine.face_paintings import find_painted_faces

    for probability, fit in find_painted_faces(rgb, cnn=cnn, detector=detector):
        if any(same_face(fit.box, np.array([*other.min(axis=0), *other.max(axis=0)])) for _, other in meshed):
            continue
        meshed.append((probability, fit.points))
    meshed.sort(key=lambda item: -float(np.ptp(item[1][:, 0]) * np.ptp(item[1][:, 1])))
    meshed = _without_faces_inside_faces(meshed)
    return [
        _face_from_points(index, score, mesh_groups(points), image.shape)
        for index, (score, points) in enumerate(meshed)
    ]


def _without_faces_inside_faces(meshed: list[tuple[float, np.ndarray]]) -> list[tuple[float, np.ndarray]]:
    """Drop a face whose centre lies inside a face at least twice as wide, or at the edge of one at least
    four times as wide (a quarter of its width around it; MESHED is largest first): an eye, a mouth, a
    curl of hair or a collar of a large face seen as a small face of its own. The faces of a painting's
    figures do not lie inside one another, and a face a quarter the size of its neighbour is not pressed
    against its cheek."""

    def near(centre: np.ndarray, other: np.ndarray, margin: float) -> bool:
        low, high = other.min(axis=0), other.max(axis=0)
        pad = margin * (high - low)
        return bool(np.all(centre >= low - pad) and np.all(centre <= high + pad))

    kept: list[tuple[float, np.ndarray]] = []
    for score, points in meshed:
        centre = (points.min(axis=0) + points.max(axis=0)) / 2
        width = float(np.ptp(points[:, 0]))
        inside = any(
            (np.ptp(other[:, 0]) >= 2 * width and near(centre, other, 0.0))
            or (np.ptp(other[:, 0]) >= 4 * width and near(centre, other, 0.25))
            for _, other in kept
        )
        if not inside:
            kept.append((score, points))
    return kept


def face_from_mesh(points: np.ndarray, image_shape: tuple[int, ...], *, index: int = 0, score: float = 1.0) -> Face:
    """A face from mesh points (e.g. ``face_paintings.fit_in_box``: the curator's two clicks)."""
    return _face_from_points(index, score, mesh_groups(np.asarray(points, np.float64)), image_shape)


def mesh_groups(points: np.ndarray) -> dict[str, np.ndarray]:
    """Named landmark groups from a face mesh: 478 points (with irises) or 468 (the landmark network's)."""
    return {name: points[list(ids)] for name, ids in MESH_GROUPS.items() if max(ids) < len(points)}


def _face_from_points(index: int, score: float, groups: Mapping[str, np.ndarray], shape: tuple[int, ...]) -> Face:
    height, width = shape[:2]
    outline = np.concatenate(
        [groups[name] for name in ("face_oval", "jaw", "left_brow", "right_brow") if name in groups]
    )
    outline = np.concatenate([outline, groups["left_eye"], groups["right_eye"], groups["mouth_outer"]])
    x0, y0 = np.clip(outline.min(axis=0), 0, [width, height])
    x1, y1 = np.clip(outline.max(axis=0), 0, [width, height])
    box = [
        int(np.floor(x0)),
        int(np.floor(y0)),
        int(np.ceil(x1 - np.floor(x0))),
        int(np.ceil(y1 - np.floor(y0))),
    ]
    return Face(index=index, box=box, score=score, landmarks={k: np.asarray(v, np.float64) for k, v in groups.items()})


def face_from_landmarks(data: Mapping[str, Any], image_shape: tuple[int, ...], *, index: int = 0) -> Face:
    """A face from saved manual landmarks: a face dict as ``faces`` prints it, or its "landmarks" alone.

    Raises EngineInputError naming the group that is missing or malformed.
    """
    if not isinstance(data, Mapping):
        raise EngineInputError("manual landmarks must be an object of named point lists")
    groups_in = data.get("landmarks", data)
    if not isinstance(groups_in, Mapping):
        raise EngineInputError("manual landmarks: 'landmarks' must be an object of named point lists")
    height, width = image_shape[:2]
    groups: dict[str, np.ndarray] = {}
    for name, minimum in {**REQUIRED_GROUPS, **OPTIONAL_GROUPS}.items():
        if name not in groups_in:
            if name in REQUIRED_GROUPS:
                raise EngineInputError(f"manual landmarks lack the '{name}' group (needed to animate the face)")
            continue
        try:
            points = np.asarray(groups_in[name], dtype=np.float64).reshape(-1, 2)
        except (TypeError, ValueError):
            raise EngineInputError(f"manual landmarks: '{name}' must be a list of [x, y] pairs") from None
        if len(points) < minimum:
            raise EngineInputError(f"manual landmarks: '{name}' has {len(points)} points, needs at least {minimum}")
        margin = 0.25 * max(width, height)
        if (
            not np.all(np.isfinite(points))
            or np.any(points < -margin)
            or np.any(points > [width + margin, height + margin])
        ):
            raise EngineInputError(f"manual landmarks: '{name}' has points outside the {width}x{height} painting")
        groups[name] = points
    score = float(data.get("score", 1.0)) if "landmarks" in data else 1.0
    return _face_from_points(index, score, groups, image_shape)


def find_faces(painting_path: str | os.PathLike[str]) -> tuple[np.ndarray, list[Face]]:
    """Load a painting and find its faces. Raises EngineInputError when there is none."""
    image = load_painting(painting_path)
    faces = detect_faces(image)
    if not faces:
        raise EngineInputError(
            f"no face found on {Path(painting_path).name}; if the painting has one, place its landmarks "
            "by hand "
            "in the face editor"
        )
    return image, faces


# A Face, or a face as stored (Face.to_dict()): select_face picks either by index.
FaceLike = TypeVar("FaceLike")


def select_face(faces: Sequence[FaceLike], index: int) -> FaceLike:
    if not 0 <= index < len(faces):
        raise EngineInputError(
            f"face {index} does not exist: the painting has {len(faces)} "
            f"face{'s' if len(faces) != 1 else ''} "
            f"(indices 0 to {len(faces) - 1})"
        )
    return faces[index]
