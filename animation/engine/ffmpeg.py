"""The ffmpeg binary the engine runs (the one imageio-ffmpeg ships), and its one runner for inputs.

Every input the engine did not make itself (an upload, a resident's take) is opened by ``run_ffmpeg``:
in a subprocess with a time limit, so a hostile or broken file can neither hang a worker nor crash the
Python process, and with a list of the containers ffmpeg may open. File extensions are never trusted:
ffmpeg sniffs the content.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence

from animation.engine.errors import EngineInputError


def ffmpeg_executable() -> str:
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


# The only containers ffmpeg may open for an input. Without a list, a file's name or content can select
# any of ffmpeg's readers: an uploaded ".m3u8" playlist made the HLS reader open other files on the disk.
INPUT_FORMATS = "wav,flac,ogg,mp3,matroska,webm,mov,mp4,m4a,aac,aiff,avi"


def run_ffmpeg(arguments: Sequence[str], *, timeout: float, what: str) -> subprocess.CompletedProcess[bytes]:
    """Run ffmpeg on ARGUMENTS (its inputs limited to INPUT_FORMATS), stdout and stderr captured.

    Raises EngineInputError when it takes longer than TIMEOUT seconds; WHAT says what it was doing
    ("decoding take.webm"). A non-zero exit status is the caller's to judge.
    """
    command = [ffmpeg_executable(), "-hide_banner", "-nostdin", "-format_whitelist", INPUT_FORMATS, *arguments]
    try:
        return subprocess.run(command, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as error:
        raise EngineInputError(
            f"{what} took longer than {timeout:g} s; the file may be damaged or far too long"
        ) from error
