"""The demo media every test and benchmark reads, and the ffmpeg that ships with imageio-ffmpeg."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "demo"
CHINESE_POEM = DEMO / "speech" / "chinese_poem1.flac"
CHINESE_POEM_TEXT = "床前明月光，疑是地上霜。举头望明月，低头思故乡。"
ENGLISH_CLIP = DEMO / "speech" / "english_radio.flac"
ENGLISH_CLIP_TEXT = (
    "The holidays are a time of celebrating with loved ones, enjoying the festivities and muddling through "
    "Wisconsin's cold. But for many this year has been"
)
PAINTINGS = sorted((DEMO / "paintings").glob("*.jpg"))


def ffmpeg() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def transcode(source: Path, destination: Path, *arguments: str) -> Path:
    """Make a test file with the shipped ffmpeg (webm/opus, mp3, 16-bit wav...)."""
    subprocess.run([ffmpeg(), "-v", "error", "-y", "-i", str(source), *arguments, str(destination)], check=True)
    return destination


# Two demo portraits whose faces detection finds once they stand side by side: the figures of a dialogue.
PORTRAIT_PAIR = ("art_10.jpg", "art_15.jpg")


def portraits_side_by_side(
    path: Path, names: Sequence[str], *, height: int | None = None, quality: int = 92
) -> Image.Image:
    """Demo portraits NAMES ("art_10.jpg", ...) side by side on white, left to right, saved to PATH as a
    JPEG of QUALITY: one painting with a figure each. Each is scaled to HEIGHT; with None, each keeps its
    own and the painting is as tall as the tallest. Returns the image."""
    from PIL import Image

    parts = []
    for name in names:
        with Image.open(DEMO / "paintings" / name) as image:
            part = image.convert("RGB")
        if height is not None:
            part = part.resize((round(part.width * height / part.height), height))
        parts.append(part)
    painting = Image.new("RGB", (sum(part.width for part in parts), max(part.height for part in parts)), "white")
    left = 0
    for part in parts:
        painting.paste(part, (left, 0))
        left += part.width
    painting.save(path, quality=quality)
    return painting


def grey_frames(video: Path) -> tuple[np.ndarray, float]:
    """Every frame of the film VIDEO decoded (OpenCV), in grey levels as float32 (frames, height, width),
    and its frame rate."""
    import cv2
    import numpy as np

    capture = cv2.VideoCapture(str(video))
    fps = float(capture.get(cv2.CAP_PROP_FPS))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY).astype(np.float32))
    capture.release()
    return np.array(frames), fps


def region_motion(frames: np.ndarray, points: np.ndarray, *, scale: float, part: slice = slice(None)) -> float:
    """How much the box around POINTS (painting pixels; SCALE: film pixels per painting pixel, the film
    showing the whole painting) changes from frame to frame over the frames PART: the mean absolute grey
    difference between consecutive frames. A mouth that speaks scores several times one that rests."""
    import numpy as np

    x0, y0 = (points.min(0) * scale).astype(int) - 2
    x1, y1 = (points.max(0) * scale).astype(int) + 2
    region = frames[part, max(0, y0) : y1, max(0, x0) : x1]
    return float(np.abs(np.diff(region, axis=0)).mean())


def voice_spans(webvtt: str) -> dict[str, tuple[float, float]]:
    """Who speaks when in subtitles with WebVTT voice spans (``<v 宝玉>...</v>``, as dialogue films have):
    each speaker's name -> (start of its first cue, end of its last), in seconds on the film's clock."""
    import re

    def seconds(stamp: str) -> float:
        parts = [float(part) for part in stamp.split(":")]
        return sum(part * 60**power for power, part in enumerate(reversed(parts)))

    spans: dict[str, tuple[float, float]] = {}
    for start, end, voice in re.findall(r"([\d:.]+) --> ([\d:.]+)\s*\n<v ([^>]+)>", webvtt):
        first, last = spans.get(voice, (seconds(start), seconds(end)))
        spans[voice] = (min(first, seconds(start)), max(last, seconds(end)))
    return spans
