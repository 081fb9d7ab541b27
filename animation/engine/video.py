"""A reading recorded with the camera: find its picture, and split the voice from it.

The upload keeps two files apart: an audio-only original (what every existing step reads: transcript,
voice copy, the moderator's player) and, with the resident's video consent, the private video the
motion curves are taken from. Both are made by ffmpeg stream copy, so nothing is re-encoded. Django-free:
the upload service (contributions) calls it.
"""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path

from animation.engine.audio import WITHOUT_METADATA
from animation.engine.errors import EngineInputError
from animation.engine.ffmpeg import run_ffmpeg

# What MediaRecorder writes (webm: VP8/VP9, Chrome may pick AV1 or H.264 in Matroska; Safari: H.264 in
# mp4, HEVC from an iPhone's own camera app) and the motion extractor (PyAV) decodes.
VIDEO_CODECS = frozenset({"vp8", "vp9", "h264", "hevc", "av1"})

_VIDEO_STREAM = re.compile(r"Stream #0:\d+(?:\[\w+\])?(?:\(\w+\))?: Video: ([^\n]+)")


@dataclasses.dataclass(frozen=True)
class VideoStream:
    codec: str
    width: int
    height: int


def _ffmpeg(arguments: list[str], *, timeout: float) -> tuple[int, str]:
    """ffmpeg's exit status and stderr; a run past TIMEOUT is a failure like any other here."""
    try:
        completed = run_ffmpeg(arguments, timeout=timeout, what="ffmpeg")
    except EngineInputError:  # run_ffmpeg's time limit
        return 1, "timed out"
    return completed.returncode, completed.stderr.decode("utf-8", "replace")


def video_stream(path: str | os.PathLike[str], *, timeout: float = 20) -> VideoStream | None:
    """The first moving-picture stream of PATH, or None (a sound file; an album's cover is no video)."""
    _returncode, stderr = _ffmpeg(["-i", str(path)], timeout=timeout)
    for match in _VIDEO_STREAM.finditer(stderr):
        description = match.group(1)
        if "attached pic" in description:
            continue
        size = re.search(r"\b(\d{2,5})x(\d{2,5})\b", description)
        return VideoStream(
            codec=description.split(",")[0].split(" ")[0].strip(),
            width=int(size.group(1)) if size else 0,
            height=int(size.group(2)) if size else 0,
        )
    return None


def audio_only_copy(source: str | os.PathLike[str], destination: Path, *, timeout: float = 60) -> Path:
    """Copy the first sound stream of SOURCE without its picture; DESTINATION's suffix is replaced.

    Stream copy into the container the sound came in (Opus in WebM, AAC in MP4); a pairing that does not
    copy (AAC in Matroska) is decoded to a WAV instead. Raises ValueError when neither works.
    """
    attempts = (
        (".webm", ["-c:a", "copy", "-f", "webm"]),
        (".m4a", ["-c:a", "copy", "-f", "mp4"]),
        (".wav", ["-c:a", "pcm_s16le", "-f", "wav"]),
    )
    for suffix, codec in attempts:
        target = destination.with_suffix(suffix)
        returncode, _stderr = _ffmpeg(
            # No metadata is kept: a phone's file may carry its model, the time and the place.
            ["-y", "-i", str(source), "-map", "0:a:0", "-vn", "-sn", "-dn", *WITHOUT_METADATA, *codec, str(target)],
            timeout=timeout,
        )
        if returncode == 0 and target.is_file() and target.stat().st_size > 0:
            return target
        target.unlink(missing_ok=True)
    raise ValueError(f"no sound could be separated from {Path(source).name}")


def video_copy(source: str | os.PathLike[str], destination: Path, *, max_seconds: float, timeout: float = 60) -> Path:
    """Copy SOURCE's picture and sound (no re-encoding) into DESTINATION, at most MAX_SECONDS of it and
    without its metadata: a camera video never costs more than its passage allows (the motion
    extraction reads every frame), whatever its header claims. Raises ValueError when it cannot be copied."""
    returncode, _stderr = _ffmpeg(
        [
            "-y", "-i", str(source), "-map", "0:v:0", "-map", "0:a:0?", "-c", "copy",
            "-t", f"{max_seconds:.3f}", *WITHOUT_METADATA, str(destination),
        ],
        timeout=timeout,
    )  # fmt: skip
    if returncode != 0 or not destination.is_file() or destination.stat().st_size == 0:
        destination.unlink(missing_ok=True)
        raise ValueError(f"the video of {Path(source).name} could not be copied")
    return destination
