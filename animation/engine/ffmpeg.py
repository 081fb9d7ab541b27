"""The ffmpeg binary the engine runs (the one imageio-ffmpeg ships), and how it is started.

Every input the engine did not make itself (an upload, a resident's take) is opened by ``run_ffmpeg``:
in a subprocess with a time limit, so a hostile or broken file can neither hang a worker nor crash the
Python process, and with a list of the containers ffmpeg may open. File extensions are never trusted:
ffmpeg sniffs the content. ``start_ffmpeg`` starts the same command for a stream (the film writer
feeds it frames as they are rendered) and leaves the waiting to its caller.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from typing import IO, Any

from animation.engine.errors import EngineInputError


def ffmpeg_executable() -> str:
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


# The only containers ffmpeg may open for an input. Without a list, a file's name or content can select
# any of ffmpeg's readers: an uploaded ".m3u8" playlist made the HLS reader open other files on the disk.
INPUT_FORMATS = "wav,flac,ogg,mp3,matroska,webm,mov,mp4,m4a,aac,aiff,avi"

# What the engine itself writes into ffmpeg's stdin: raw frames, and nothing else may be read from it.
PIPE_FORMATS = "rawvideo"
PIPE_INPUTS = frozenset({"pipe:0", "pipe:", "-"})


def _command(arguments: Sequence[str]) -> list[str]:
    """ffmpeg with ARGUMENTS, each of their inputs (every ``-i``) limited to INPUT_FORMATS, the pipe's
    to PIPE_FORMATS."""
    command = [ffmpeg_executable(), "-hide_banner", "-nostdin"]
    for index, argument in enumerate(arguments):
        if argument == "-i" and index + 1 < len(arguments):
            # ffmpeg gives a format option to the next input only, so each input gets its own list.
            allowed = PIPE_FORMATS if arguments[index + 1] in PIPE_INPUTS else INPUT_FORMATS
            command += ["-format_whitelist", allowed]
        command.append(argument)
    return command


def run_ffmpeg(arguments: Sequence[str], *, timeout: float, what: str) -> subprocess.CompletedProcess[bytes]:
    """Run ffmpeg on ARGUMENTS (its inputs limited to INPUT_FORMATS), stdout and stderr captured.

    Raises EngineInputError when it takes longer than TIMEOUT seconds; WHAT says what it was doing
    ("decoding take.webm"). A non-zero exit status is the caller's to judge.
    """
    try:
        return subprocess.run(_command(arguments), capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as error:
        raise EngineInputError(
            f"{what} took longer than {timeout:g} s; the file may be damaged or far too long"
        ) from error


def start_ffmpeg(
    arguments: Sequence[str],
    *,
    stdin: int | IO[Any] | None = None,
    stdout: int | IO[Any] | None = None,
    stderr: int | IO[Any] | None = None,
) -> subprocess.Popen[bytes]:
    """Start ffmpeg on ARGUMENTS and return at once, its inputs limited as in ``run_ffmpeg`` and raw
    frames the one thing read from the pipe (``-i pipe:0``).

    The caller writes to its stdin, waits for it with a time limit of its own and judges its exit status.
    """
    return subprocess.Popen(_command(arguments), stdin=stdin, stdout=stdout, stderr=stderr)
