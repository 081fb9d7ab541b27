"""A resident's video -> motion curves of their face (head pose, blinks, brows, mouth), per video frame.

The mediapipe face mesh (the same 0.10.21 wheel as ``faces``; its models ship inside it) runs in its
video mode: after the first frame it tracks the face from the previous frame's landmarks instead of
detecting it again, which is several times cheaper and steadier. Frames are decoded with PyAV (FFmpeg's
libraries) already downscaled, so a phone's 1080p take costs what a 384 px one does.

From the 478 landmarks of each frame:

- head yaw, pitch and roll (degrees): ``cv2.solvePnP`` of rigid points (eye corners, nose tip, mouth
  corners, upper lip) against mediapipe's canonical face model, the previous frame's pose as the start.
  Signs follow ``controls``: yaw > 0 turns the nose towards the image's right, pitch > 0 nods down,
  roll > 0 tilts clockwise on screen.
- head_x, head_y: where the head sits in the frame (nose bridge and eye corners), in inter-ocular
  distances (IOD) from its median place; bridged over blinks (the lids pull the corners) and through a
  light zero-phase spring.
- eye openings (lid gap over eye width) and blinks normalised to this person's own open-eye level,
  taken over the surrounding two seconds (gaze and pitch change how open an eye looks).
- brow raise: brow-to-eye distance in IOD; mouth opening (inner lip gap) and width (corner to corner)
  in IOD; rounding from how narrow the lips are for how open they are.

A frame where the face is lost is bridged by interpolating its neighbours. A video where too few frames
hold a face gives ``usable = False`` and a ``note`` saying why: the caller falls back to motion from the
voice. Nothing here imports Django.
"""

from __future__ import annotations

import dataclasses
import os
import queue
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from animation.engine.errors import EngineInputError
from animation.engine.model_cache import cached_model
from animation.engine.smoothing import spring_smooth

# Frames are meshed at most this big (longest side): the mesh crops the face to 192 px anyway, so a
# face that is larger than that in the frame gains nothing from more pixels.
ANALYSIS_SIDE = 320
# A video whose face is found in fewer frames than this is not used to drive a film.
MIN_FOUND_FRACTION = 0.6
# Longest run of lost frames that is bridged; a longer one is reported in the note.
MAX_BRIDGE_SECONDS = 1.0
MAX_VIDEO_SECONDS = 600.0

# Rigid points of mediapipe's canonical face model (canonical_face_model.obj, Apache-2.0), in its
# centimetre-like units, y up, z towards the viewer. The jaw (chin) is left out: it moves when speaking.
_CANONICAL = {
    33: (-4.445859, 2.663991, 3.173422),
    133: (-1.856432, 2.585245, 3.757904),
    362: (1.856432, 2.585245, 3.757904),
    263: (4.445859, 2.663991, 3.173422),
    1: (0.0, -1.126865, 7.475604),
    0: (0.0, -3.406404, 5.979507),
    61: (-2.456206, -4.342621, 4.283884),
    291: (2.456206, -4.342621, 4.283884),
}
_PNP_IDS = list(_CANONICAL)
# Camera axes (x right, y down, z away from the camera): flip y and z of the model.
_PNP_MODEL = np.array([(x, -y, -z) for x, y, z in _CANONICAL.values()], dtype=np.float64)
_PNP_MODEL -= _PNP_MODEL.mean(axis=0)

# Eyes (the person's own left/right, as in faces.MESH_GROUPS and the blink_left/right controls):
# corners, then upper/lower lid pairs across the middle of the eye.
_LEFT_EYE = {"corners": (362, 263), "upper": (385, 386, 387), "lower": (380, 374, 373)}
_RIGHT_EYE = {"corners": (33, 133), "upper": (160, 159, 158), "lower": (144, 145, 153)}
_LEFT_EYE_RING = (362, 398, 384, 385, 386, 387, 388, 466, 263, 249, 390, 373, 374, 380, 381, 382)
_RIGHT_EYE_RING = (33, 246, 161, 160, 159, 158, 157, 173, 133, 155, 154, 153, 145, 144, 163, 7)
_LEFT_BROW = (336, 296, 334, 293, 300)
_RIGHT_BROW = (70, 63, 105, 66, 107)
_INNER_LIPS = ((82, 87), (13, 14), (312, 317))
_MOUTH_CORNERS = (61, 291)
# Nose bridge and eye corners: where the head is in the frame.
_RIGID_POINTS = (168, 6, 33, 133, 362, 263)

# Blink normalisation: the open level is a high percentile of the eye opening over this window; the
# mesh rarely brings the lids fully together, so an eye counts as shut at this fraction of it.
OPEN_LEVEL_WINDOW_SECONDS = 2.0
OPEN_LEVEL_PERCENTILE = 80
SHUT_FRACTION = 0.35
# Head position: frames this far into a blink are bridged over; then a zero-phase spring (seconds).
POSITION_BLINK_LIMIT = 0.2
POSITION_TIME_CONSTANT = 0.04

CURVE_NAMES: tuple[str, ...] = (
    "head_yaw",
    "head_pitch",
    "head_roll",
    "head_x",
    "head_y",
    "eye_left",
    "eye_right",
    "blink_left",
    "blink_right",
    "brow_raise",
    "mouth_open",
    "mouth_width",
    "mouth_round",
)


@dataclasses.dataclass
class MotionCurves:
    """Per video frame measurements of one face; ``times`` in seconds from the video's start."""

    fps: float
    times: np.ndarray
    found: np.ndarray
    curves: dict[str, np.ndarray]
    width: int
    height: int
    duration: float
    usable: bool
    note: str
    seconds: float = 0.0

    @property
    def frame_count(self) -> int:
        return int(self.times.size)

    @property
    def found_fraction(self) -> float:
        return float(self.found.mean()) if self.found.size else 0.0

    def __getitem__(self, name: str) -> np.ndarray:
        return self.curves[name]

    def to_dict(self) -> dict[str, Any]:
        return {
            "fps": round(self.fps, 3),
            "frames": self.frame_count,
            "duration": round(self.duration, 3),
            "width": self.width,
            "height": self.height,
            "usable": self.usable,
            "found_fraction": round(self.found_fraction, 3),
            "note": self.note,
            "seconds": round(self.seconds, 3),
            "times": [round(float(t), 4) for t in self.times],
            "found": [bool(f) for f in self.found],
            "curves": {name: [round(float(v), 4) for v in track] for name, track in self.curves.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MotionCurves:
        """The inverse of ``to_dict`` (a worker may store the curves and retarget them later)."""
        return cls(
            fps=float(data["fps"]),
            times=np.asarray(data["times"], dtype=np.float64),
            found=np.asarray(data["found"], dtype=bool),
            curves={name: np.asarray(values, dtype=np.float64) for name, values in data["curves"].items()},
            width=int(data["width"]),
            height=int(data["height"]),
            duration=float(data["duration"]),
            usable=bool(data["usable"]),
            note=str(data.get("note", "")),
            seconds=float(data.get("seconds", 0.0)),
        )


# ---------------------------------------------------------------------------------------------------
# Decoding


def _open_video(path: Path) -> Any:
    import av

    if not path.is_file():
        raise EngineInputError(f"video not found: {path}")
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError) as error:
        raise EngineInputError(f"{path.name} cannot be read as a video ({error})") from None
    if not container.streams.video:
        container.close()
        raise EngineInputError(f"{path.name} has no video track; record with the camera on")
    return container


def iter_video(path: str | os.PathLike[str], *, max_side: int = ANALYSIS_SIDE) -> Iterator[tuple[float, np.ndarray]]:
    """(time in seconds, RGB frame downscaled to at most MAX_SIDE) in decoding order.

    Rotation metadata (phones) is applied. Raises EngineInputError for a file without a readable video.
    """
    import av

    path = Path(path)
    with _open_video(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        width, height = stream.codec_context.width, stream.codec_context.height
        if not width or not height:
            raise EngineInputError(f"{path.name}: the video track has no picture size")
        scale = min(1.0, max_side / max(width, height))
        # Even sizes: some pixel formats cannot be scaled to odd ones.
        out_w, out_h = max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)
        count = 0
        try:
            for frame in container.decode(stream):
                time_seconds = float(frame.time) if frame.time is not None else count / 25.0
                if time_seconds > MAX_VIDEO_SECONDS:
                    raise EngineInputError(f"{path.name} is longer than {MAX_VIDEO_SECONDS:.0f} s")
                # Scaling and the colour conversion are one swscale pass; the fast filter is plenty for
                # a mesh that works on a 192 px crop.
                rgb = frame.reformat(width=out_w, height=out_h, format="rgb24", interpolation="FAST_BILINEAR")
                pixels = rgb.to_ndarray()
                rotation = int(getattr(frame, "rotation", 0) or 0) % 360
                if rotation:
                    # The display matrix's angle is counter-clockwise.
                    pixels = np.ascontiguousarray(np.rot90(pixels, k=rotation // 90))
                count += 1
                yield time_seconds, pixels
        except av.FFmpegError as error:
            if not count:
                raise EngineInputError(f"{path.name}: the video cannot be decoded ({error})") from None
    if not count:
        raise EngineInputError(f"{path.name} holds no video frames")


def _film_clock(times: list[float]) -> np.ndarray:
    """Frame times on the sound's clock: the container's own timestamps (a recorder may start the picture
    a little after the sound), only moved so that none is negative (edit lists, B-frames)."""
    clock = np.asarray(times, dtype=np.float64)
    return clock - min(float(clock.min()), 0.0)


def decode_video(path: str | os.PathLike[str], *, max_side: int = ANALYSIS_SIDE) -> tuple[list[np.ndarray], np.ndarray]:
    """Every RGB frame (see ``iter_video``) and its time in seconds on the container's clock."""
    times, frames = [], []
    for time_seconds, pixels in iter_video(path, max_side=max_side):
        times.append(time_seconds)
        frames.append(pixels)
    return frames, _film_clock(times)


def _prefetched(items: Iterator[Any], depth: int = 8) -> Iterator[Any]:
    """ITEMS produced on a second thread: decoding one frame overlaps meshing the previous one."""
    done = object()
    buffer: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        buffer.put((None, item), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            buffer.put((None, done))
        except BaseException as error:
            buffer.put((error, None))

    worker = threading.Thread(target=produce, name="video-decode", daemon=True)
    worker.start()
    try:
        while True:
            error, item = buffer.get()
            if error is not None:
                raise error
            if item is done:
                return
            yield item
    finally:
        stop.set()
        worker.join(timeout=5)


# ---------------------------------------------------------------------------------------------------
# Landmarks


class _Tracker:
    """mediapipe's face mesh in video (tracking) mode, one face, with irises; built once per process."""

    def __init__(self) -> None:
        os.environ.setdefault("GLOG_minloglevel", "2")
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        import mediapipe as mp

        self.mp = mp
        self.lock = threading.Lock()

    def landmarks(self, frames: Iterable[np.ndarray]) -> list[np.ndarray | None]:
        """(478, 3) landmarks in pixels (z in the same scale as x) per frame, None where no face."""
        results: list[np.ndarray | None] = []
        # A fresh graph per video: tracking state must not carry from one resident's take to the next.
        with (
            self.lock,
            self.mp.solutions.face_mesh.FaceMesh(
                static_image_mode=False,
                max_num_faces=1,
                refine_landmarks=True,
                min_detection_confidence=0.5,
                min_tracking_confidence=0.5,
            ) as mesh,
        ):
            for rgb in frames:
                result = mesh.process(rgb)
                if not result.multi_face_landmarks:
                    results.append(None)
                    continue
                height, width = rgb.shape[:2]
                points = np.array(
                    [(p.x * width, p.y * height, p.z * width) for p in result.multi_face_landmarks[0].landmark]
                )
                results.append(points)
        return results


def _tracker() -> _Tracker:
    return cached_model("capture.tracker", _Tracker)


def track_landmarks(frames: Iterable[np.ndarray]) -> list[np.ndarray | None]:
    """The face mesh's landmarks for each RGB frame of one video (tracking between frames)."""
    return _tracker().landmarks(frames)


# ---------------------------------------------------------------------------------------------------
# Measurements of one frame


def head_pose(
    points: np.ndarray, *, width: int, height: int, guess: tuple[np.ndarray, np.ndarray] | None = None
) -> tuple[float, float, float, tuple[np.ndarray, np.ndarray]]:
    """(yaw, pitch, roll) in degrees with the controls' signs, and the (rvec, tvec) found."""
    import cv2

    focal = float(max(width, height))
    camera = np.array([[focal, 0, width / 2], [0, focal, height / 2], [0, 0, 1]], dtype=np.float64)
    image_points = points[_PNP_IDS, :2].astype(np.float64)
    if guess is None:
        _ok, rvec, tvec = cv2.solvePnP(_PNP_MODEL, image_points, camera, None, flags=cv2.SOLVEPNP_EPNP)
        _ok, rvec, tvec = cv2.solvePnP(
            _PNP_MODEL, image_points, camera, None, rvec, tvec, useExtrinsicGuess=True, flags=cv2.SOLVEPNP_ITERATIVE
        )
    else:
        rvec, tvec = guess[0].copy(), guess[1].copy()
        _ok, rvec, tvec = cv2.solvePnP(
            _PNP_MODEL, image_points, camera, None, rvec, tvec, useExtrinsicGuess=True, flags=cv2.SOLVEPNP_ITERATIVE
        )
    rotation, _ = cv2.Rodrigues(rvec)
    forward = rotation @ np.array([0.0, 0.0, -1.0])  # where the nose points (towards the camera at rest)
    across = rotation @ np.array([1.0, 0.0, 0.0])  # from the image-left eye to the image-right eye
    # Relative to the line from the face to the camera, so a face off the frame's centre is not "turned".
    towards_camera = np.array([0.0, 0.0, -1.0])
    if tvec[2, 0] > 0:
        towards_camera = -tvec[:, 0] / np.linalg.norm(tvec[:, 0])
    yaw = np.degrees(np.arctan2(forward[0], -forward[2]) - np.arctan2(towards_camera[0], -towards_camera[2]))
    pitch = np.degrees(np.arcsin(np.clip(forward[1], -1, 1)) - np.arcsin(np.clip(towards_camera[1], -1, 1)))
    roll = np.degrees(np.arctan2(across[1], across[0]))
    return float(yaw), float(pitch), float(roll), (rvec, tvec)


def _eye_opening(points: np.ndarray, eye: dict[str, tuple[int, ...]]) -> float:
    a, b = points[eye["corners"][0], :2], points[eye["corners"][1], :2]
    width = float(np.linalg.norm(b - a))
    gaps = [np.linalg.norm(points[u, :2] - points[d, :2]) for u, d in zip(eye["upper"], eye["lower"], strict=True)]
    return float(np.mean(gaps)) / max(width, 1e-6)


def frame_measures(points: np.ndarray) -> dict[str, float]:
    """Scale-free measures of one frame's landmarks (all lengths in inter-ocular distances)."""
    left_centre = points[list(_LEFT_EYE_RING), :2].mean(axis=0)
    right_centre = points[list(_RIGHT_EYE_RING), :2].mean(axis=0)
    axis = left_centre - right_centre
    iod = max(float(np.linalg.norm(axis)), 1e-6)
    across = axis / iod
    down = np.array([-across[1], across[0]])  # perpendicular, towards the chin
    brows = 0.5 * (
        (left_centre - points[list(_LEFT_BROW), :2].mean(axis=0)) @ down
        + (right_centre - points[list(_RIGHT_BROW), :2].mean(axis=0)) @ down
    )
    gaps = [(points[lower, :2] - points[upper, :2]) @ down for upper, lower in _INNER_LIPS]
    opening = max(0.0, float(np.mean(gaps)))
    corners = points[list(_MOUTH_CORNERS), :2]
    mouth_width = float(np.linalg.norm(corners[1] - corners[0]))
    # Where the head is: points rigid with the skull that neither lids nor lips move.
    centre = points[list(_RIGID_POINTS), :2].mean(axis=0)
    return {
        "iod": iod,
        "centre_x": float(centre[0]),
        "centre_y": float(centre[1]),
        "eye_left": _eye_opening(points, _LEFT_EYE),
        "eye_right": _eye_opening(points, _RIGHT_EYE),
        "brow": float(brows) / iod,
        "mouth_open": opening / iod,
        "mouth_width": mouth_width / iod,
    }


# ---------------------------------------------------------------------------------------------------
# Curves


def bridge_gaps(values: np.ndarray, found: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Fill lost frames: a smooth (cosine) blend between the last and next found values; ends hold."""
    values = np.asarray(values, dtype=np.float64).copy()
    if found.all() or not found.any():
        return values
    known = np.flatnonzero(found)
    lost = np.flatnonzero(~found)
    after = np.searchsorted(known, lost)
    before = np.clip(after - 1, 0, known.size - 1)
    after_clipped = np.clip(after, 0, known.size - 1)
    t0, t1 = times[known[before]], times[known[after_clipped]]
    span = np.where(t1 > t0, t1 - t0, 1.0)
    fraction = np.clip((times[lost] - t0) / span, 0.0, 1.0)
    fraction = np.where(after >= known.size, 0.0, np.where(after == 0, 1.0, fraction))
    ease = 0.5 - 0.5 * np.cos(np.pi * fraction)
    values[lost] = (1.0 - ease) * values[known[before]] + ease * values[known[after_clipped]]
    return values


def rolling_percentile(values: np.ndarray, times: np.ndarray, *, window: float, percentile: float) -> np.ndarray:
    """PERCENTILE of VALUES within +-WINDOW/2 seconds of each frame."""
    low = np.searchsorted(times, times - window / 2)
    high = np.searchsorted(times, times + window / 2, side="right")
    return np.array([np.percentile(values[a:b], percentile) for a, b in zip(low, high, strict=True)])


def blink_curve(eye: np.ndarray, times: np.ndarray) -> np.ndarray:
    """0 open .. 1 shut, from an eye-opening curve, relative to the person's open level nearby."""
    local = rolling_percentile(eye, times, window=OPEN_LEVEL_WINDOW_SECONDS, percentile=OPEN_LEVEL_PERCENTILE)
    overall = float(np.percentile(eye, OPEN_LEVEL_PERCENTILE))
    # A long blink or a squint would pull a short window's level down with it: never below 80 % of
    # the clip's own level.
    level = np.maximum(local, 0.8 * overall)
    return np.clip((level - eye) / np.maximum(level * (1.0 - SHUT_FRACTION), 1e-6), 0.0, 1.0)


def curves_from_landmarks(
    landmarks: list[np.ndarray | None], times: np.ndarray, *, width: int, height: int
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The named curves (CURVE_NAMES) and which frames held a face, lost frames bridged."""
    count = len(landmarks)
    found = np.array([points is not None for points in landmarks], dtype=bool)
    raw = {name: np.zeros(count) for name in ("yaw", "pitch", "roll", "iod", "x", "y", "eye_left", "eye_right")}
    raw.update({name: np.zeros(count) for name in ("brow", "mouth_open", "mouth_width")})
    guess = None
    for index, points in enumerate(landmarks):
        if points is None:
            continue
        yaw, pitch, roll, guess = head_pose(points, width=width, height=height, guess=guess)
        measures = frame_measures(points)
        raw["yaw"][index], raw["pitch"][index], raw["roll"][index] = yaw, pitch, roll
        raw["iod"][index] = measures["iod"]
        raw["x"][index], raw["y"][index] = measures["centre_x"], measures["centre_y"]
        for name in ("eye_left", "eye_right", "brow", "mouth_open", "mouth_width"):
            raw[name][index] = measures[name]
    if not found.any():
        return {name: np.zeros(count) for name in CURVE_NAMES}, found
    raw = {name: bridge_gaps(values, found, times) for name, values in raw.items()}
    iod = float(np.median(raw["iod"][found]))
    blink_left, blink_right = blink_curve(raw["eye_left"], times), blink_curve(raw["eye_right"], times)
    # Closing lids drag the mesh's eye corners down with them: where the head is, is read from the
    # frames around a blink instead. A head does not shake at 25 Hz: what does is the mesh's noise.
    steady = found & (np.maximum(blink_left, blink_right) < POSITION_BLINK_LIMIT)
    fps = (count - 1) / max(float(times[-1] - times[0]), 1e-6) if count > 1 else 25.0
    position = {
        name: spring_smooth(bridge_gaps(raw[name], steady, times), fps=fps, time_constant=POSITION_TIME_CONSTANT)
        for name in ("x", "y")
    }
    curves = {
        "head_yaw": raw["yaw"],
        "head_pitch": raw["pitch"],
        "head_roll": raw["roll"],
        "head_x": (position["x"] - np.median(position["x"][found])) / iod,
        "head_y": (position["y"] - np.median(position["y"][found])) / iod,
        "eye_left": raw["eye_left"],
        "eye_right": raw["eye_right"],
        "blink_left": blink_left,
        "blink_right": blink_right,
        "brow_raise": raw["brow"] - np.median(raw["brow"][found]),
        "mouth_open": raw["mouth_open"],
        "mouth_width": raw["mouth_width"],
    }
    # Rounded lips: narrower than this person's usual width while the mouth is open.
    usual_width = float(np.median(raw["mouth_width"][found]))
    narrowing = np.clip((usual_width - raw["mouth_width"]) / (0.2 * usual_width), 0.0, 1.0)
    curves["mouth_round"] = narrowing * np.clip(raw["mouth_open"] / 0.15, 0.0, 1.0)
    return curves, found


def _longest_run(mask: np.ndarray) -> int:
    longest = current = 0
    for value in mask:
        current = current + 1 if value else 0
        longest = max(longest, current)
    return longest


def extract_motion(video_path: str | os.PathLike[str], *, max_side: int = ANALYSIS_SIDE) -> MotionCurves:
    """Motion curves of the face in VIDEO_PATH. Raises EngineInputError for an unreadable video.

    A video without a usable face is not an error: the result says ``usable = False`` with a note, so
    the caller can fall back to motion from the voice and tell the resident why.
    """
    started = time.perf_counter()
    # A file that is not a video fails here, before mediapipe's graph is built.
    with _open_video(Path(video_path)):
        pass
    times_list: list[float] = []
    size: list[tuple[int, int]] = []

    def frames() -> Iterator[np.ndarray]:
        for time_seconds, pixels in _prefetched(iter_video(video_path, max_side=max_side)):
            times_list.append(time_seconds)
            if not size:
                size.append(pixels.shape[:2])
            yield pixels

    landmarks = track_landmarks(frames())
    times = _film_clock(times_list)
    height, width = size[0]
    curves, found = curves_from_landmarks(landmarks, times, width=width, height=height)
    interval = float(np.median(np.diff(times))) if times.size > 1 else 1 / 25
    interval = interval if interval > 0 else 1 / 25
    duration = float(times[-1]) + interval
    fps = 1.0 / interval
    fraction = float(found.mean())
    usable, note = True, ""
    longest_gap = _longest_run(~found) / fps
    if not found.any():
        usable, note = False, "no face was found in the video; the figure moves with the voice instead"
    elif fraction < MIN_FOUND_FRACTION:
        usable = False
        note = (
            f"the face was visible in only {fraction:.0%} of the video; the figure moves with the voice "
            "instead (keep the face in the frame and lit)"
        )
    elif longest_gap > MAX_BRIDGE_SECONDS:
        note = f"the face was lost for {longest_gap:.1f} s; the figure holds still there"
    return MotionCurves(
        fps=fps,
        times=times,
        found=found,
        curves=curves,
        width=width,
        height=height,
        duration=duration,
        usable=usable,
        note=note,
        seconds=time.perf_counter() - started,
    )
