"""The demo media every test and benchmark reads, and the ffmpeg that ships with imageio-ffmpeg."""

from __future__ import annotations

import subprocess
from pathlib import Path

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
