"""Frames + voice -> film.mp4 (H.264 yuv420p + AAC, faststart), poster.jpg, subtitles.vtt.

Frames stream into ffmpeg's stdin as raw BGR, so memory stays flat however long the film is. A
thread of the writer feeds the pipe from a short queue, so rendering goes on while ffmpeg is busy (a
pipe holds 64 KB, a frame is most of a megabyte: writing from the render loop would stall it). The
voice is padded with silence or cut to exactly frame_count / fps (``-af apad -t``): ``-shortest``
would stop at the first stream to end and, with a pipe, may cut frames the encoder still holds.
Every file is written under a temporary name and renamed into place, so a reader never sees half a
film (DESIGN: a row points only at files that exist).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import queue
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType

import cv2
import numpy as np

from animation.engine.errors import EngineInputError
from animation.engine.ffmpeg import run_ffmpeg, start_ffmpeg


class EncodeError(RuntimeError):
    """ffmpeg failed on input the engine produced: a bug or a broken machine, not the user's fault."""


def _temporary_beside(path: Path, suffix: str) -> Path:
    handle, name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=suffix, dir=path.parent)
    os.close(handle)
    # mkstemp makes files private (0600); films, posters and subtitles are served to the public.
    os.chmod(name, 0o644)
    return Path(name)


class FilmWriter:
    """Write a film frame by frame: ``with FilmWriter(...) as film: film.write(frame)``.

    ``audio_path`` may be None for a silent film; ``audio_delay`` seconds of silence go before the
    voice (an opening camera move before the first word). Frames must be (height, width, 3) BGR uint8
    with even sides. ``crf`` 20 at veryfast keeps brush strokes without making files large.
    """

    def __init__(
        self,
        out_path: str | os.PathLike[str],
        *,
        width: int,
        height: int,
        fps: float,
        frame_count: int,
        audio_path: str | os.PathLike[str] | None,
        crf: int = 20,
        preset: str = "veryfast",
        timeout: float = 600,
        audio_delay: float = 0.0,
    ) -> None:
        if width % 2 or height % 2:
            raise ValueError(f"H.264 yuv420p needs even sides, got {width}x{height}")
        self.out_path = Path(out_path)
        self.out_path.parent.mkdir(parents=True, exist_ok=True)
        self.width, self.height, self.fps, self.frame_count = width, height, fps, frame_count
        self.duration = frame_count / fps
        self.timeout = timeout
        self.written = 0
        self._temporary = _temporary_beside(self.out_path, ".mp4")
        # A file, not a pipe: a chatty ffmpeg filling a pipe nobody reads would stall the encode.
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()/abort()
        arguments = [
            "-y",
            "-loglevel",
            "error",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "bgr24",
            "-s",
            f"{width}x{height}",
            "-r",
            f"{fps}",
            "-i",
            "pipe:0",
        ]
        if audio_path is not None:
            delay = f"adelay={round(audio_delay * 1000)}:all=1," if audio_delay > 0 else ""
            arguments += ["-i", str(audio_path), "-map", "0:v:0", "-map", "1:a:0", "-af", f"{delay}apad"]
            arguments += ["-c:a", "aac", "-b:a", "128k", "-ar", "48000"]
        else:
            arguments += ["-map", "0:v:0"]
        arguments += [
            "-t",
            f"{self.duration:.6f}",
            "-c:v",
            "libx264",
            "-preset",
            preset,
            "-crf",
            str(crf),
            "-pix_fmt",
            "yuv420p",
            "-movflags",
            "+faststart",
            "-f",
            "mp4",
            str(self._temporary),
        ]
        self._process = start_ffmpeg(arguments, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self._log)
        # About 32 MB of frames may wait for ffmpeg: enough to ride out its bursts, flat for long films.
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=max(2, (32 << 20) // (width * height * 3)))
        self._pipe_error: OSError | None = None
        self._pump = threading.Thread(target=self._feed, name="film-writer", daemon=True)
        self._pump.start()

    def _feed(self) -> None:
        """Move queued frames into ffmpeg's stdin until the end marker (None)."""
        stdin = self._process.stdin
        assert stdin is not None
        while (data := self._queue.get()) is not None:
            if self._pipe_error is None:
                try:
                    stdin.write(data)
                except OSError as error:  # BrokenPipeError mostly; keep draining so write() never blocks
                    self._pipe_error = error

    def _stop_feeding(self) -> None:
        if self._pump.is_alive():
            self._queue.put(None)
            self._pump.join()

    def write(self, frame: np.ndarray) -> None:
        """Queue a copy of ``frame`` (the caller may reuse its array at once)."""
        if frame.shape != (self.height, self.width, 3) or frame.dtype != np.uint8:
            raise ValueError(f"frame is {frame.shape} {frame.dtype}, expected ({self.height}, {self.width}, 3) uint8")
        if self._pipe_error is not None:
            # ffmpeg closed its end on the way out: let it finish, so its log says why.
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._process.wait(timeout=5)
            self._fail("ffmpeg stopped reading frames")
        self._queue.put(frame.tobytes())
        self.written += 1

    def close(self) -> Path:
        """Finish the film and move it into place; returns its path."""
        assert self._process.stdin is not None
        self._stop_feeding()
        if self._pipe_error is not None:
            self._process.wait(timeout=self.timeout)
            self._fail("ffmpeg stopped reading frames")
        with contextlib.suppress(BrokenPipeError):
            self._process.stdin.close()
        try:
            code = self._process.wait(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._fail(f"ffmpeg took longer than {self.timeout:.0f} s")
        if code != 0:
            self._fail(f"ffmpeg exited with {code}")
        if self.written != self.frame_count:
            self._fail(f"{self.written} frames written, {self.frame_count} announced")
        self._log.close()
        os.replace(self._temporary, self.out_path)
        return self.out_path

    def abort(self) -> None:
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        # After the kill the feeder's writes fail at once, so it drains the queue and stops.
        self._stop_feeding()
        with contextlib.suppress(OSError):
            assert self._process.stdin is not None
            self._process.stdin.close()
        self._log.close()
        self._temporary.unlink(missing_ok=True)

    def _fail(self, what: str) -> None:
        self._log.seek(0)
        detail = self._log.read().decode("utf-8", "replace").strip().splitlines()
        self.abort()
        message = f"{what}: {detail[-1]}" if detail else what
        if detail and any(
            word in detail[-1] for word in ("Invalid data", "does not contain any stream", "matches no streams")
        ):
            raise EngineInputError(f"the voice recording cannot be used: {detail[-1]}")
        raise EncodeError(message)

    def __enter__(self) -> FilmWriter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if kind is None:
            self.close()
        else:
            self.abort()


@dataclasses.dataclass(frozen=True)
class WrittenFilm:
    poster: Path
    subtitles: Path
    render_seconds: float  # drawing the frames
    encode_seconds: float  # handing them to ffmpeg and waiting for it to finish


def write_film(
    frames: Iterator[np.ndarray],
    out_path: Path,
    *,
    width: int,
    height: int,
    fps: float,
    frame_count: int,
    audio_path: str | os.PathLike[str] | None,
    audio_delay: float = 0.0,
    poster: np.ndarray,
    poster_index: int | None = None,
    subtitles: str,
    report: Callable[[str, float], None],
) -> WrittenFilm:
    """Encode FRAME_COUNT frames drawn from FRAMES into OUT_PATH (a FilmWriter), then put the poster
    (the frame at POSTER_INDEX, or POSTER where there is none) and the WebVTT SUBTITLES beside it.

    REPORT hears ("rendering", fraction) about fifty times while the frames are written, then
    ("encoding", 0.0) and ("encoding", 1.0) around ffmpeg's finish.
    """
    render_seconds = encode_seconds = 0.0
    poster_frame: np.ndarray | None = None
    step = max(1, frame_count // 50)
    report("rendering", 0.0)
    with FilmWriter(
        out_path,
        width=width,
        height=height,
        fps=fps,
        frame_count=frame_count,
        audio_path=audio_path,
        audio_delay=audio_delay,
    ) as film:
        for index in range(frame_count):
            clock = time.perf_counter()
            frame = next(frames)
            if index == poster_index:
                poster_frame = frame.copy()
            middle = time.perf_counter()
            film.write(frame)
            encode_seconds += time.perf_counter() - middle
            render_seconds += middle - clock
            if index % step == 0:
                report("rendering", index / frame_count)
        report("encoding", 0.0)
        clock = time.perf_counter()
    encode_seconds += time.perf_counter() - clock
    report("encoding", 1.0)
    poster_path = write_poster(poster_frame if poster_frame is not None else poster, out_path.with_suffix(".jpg"))
    subtitles_path = write_atomically(out_path.with_suffix(".vtt"), subtitles.encode("utf-8"))
    return WrittenFilm(
        poster=poster_path, subtitles=subtitles_path, render_seconds=render_seconds, encode_seconds=encode_seconds
    )


def write_poster(frame: np.ndarray, path: str | os.PathLike[str], *, quality: int = 90) -> Path:
    path = Path(path)
    ok, data = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, quality, cv2.IMWRITE_JPEG_PROGRESSIVE, 1])
    if not ok:
        raise EncodeError("JPEG encoding of the poster failed")
    return write_atomically(path, data.tobytes())


def write_atomically(path: str | os.PathLike[str], data: bytes) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = _temporary_beside(path, path.suffix)
    try:
        temporary.write_bytes(data)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return path


def probe_film(path: str | os.PathLike[str]) -> dict[str, float | int | str]:
    """Frame count, frame rate, size and stream durations of a film, read back with ffmpeg itself.

    imageio-ffmpeg ships ffmpeg without ffprobe, so this decodes the video (null muxer) and parses the
    stream summary; for tests and benchmarks, not the request path.
    """
    completed = run_ffmpeg(
        ["-i", str(path), "-map", "0", "-c", "copy", "-f", "null", "-"], timeout=120, what=f"probing {Path(path).name}"
    )
    text = completed.stderr.decode("utf-8", "replace")
    import re

    info: dict[str, float | int | str] = {}
    video = re.search(r"Stream #0:\d.*Video: (\w+).*?, (\w+)\(?.*?, (\d+)x(\d+).*?, ([\d.]+) fps", text)
    if video:
        info.update(
            video_codec=video.group(1),
            pixel_format=video.group(2),
            width=int(video.group(3)),
            height=int(video.group(4)),
            fps=float(video.group(5)),
        )
    audio = re.search(r"Stream #0:\d.*Audio: (\w+)", text)
    if audio:
        info["audio_codec"] = audio.group(1)
    duration = re.search(r"Duration: (\d+):(\d+):([\d.]+)", text)
    if duration:
        h, m, s = duration.groups()
        info["duration"] = int(h) * 3600 + int(m) * 60 + float(s)
    frames = re.findall(r"video:\d+\w*B .*|frame=\s*(\d+)", text)
    counts = [int(f) for f in frames if f]
    if counts:
        info["frames"] = counts[-1]
    return info
