"""Command line of the engine: ``python -m animation.engine {faces, align, animate, motion} ... --json``.

The interface is stable: tests, benchmarks and operators script against it. Each command prints one
JSON object on stdout with --json (a human summary otherwise) and exits non-zero with a one-line
message on stderr when its input is bad.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from animation.engine.errors import EngineInputError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m animation.engine", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    faces = commands.add_parser("faces", help="find faces and landmarks on a painting")
    faces.add_argument("painting", type=Path)
    faces.add_argument("--box", default=None, help="two clicks: fit key points in this box, X,Y,W,H in pixels")
    faces.add_argument("--at", default=None, help="two clicks: fit key points around this face centre, X,Y")
    faces.add_argument("--json", action="store_true")

    align = commands.add_parser("align", help="place every word/character of TEXT on AUDIO")
    align.add_argument("audio", type=Path)
    align.add_argument("--text", required=True)
    align.add_argument("--language", required=True)
    align.add_argument("--model", default=None, help="Whisper model name (tiny.en, base) or CTranslate2 folder")
    align.add_argument("--vtt", type=Path, default=None, help="also write WebVTT karaoke subtitles here")
    align.add_argument("--json", action="store_true")

    animate = commands.add_parser("animate", help="turn a painting and a voice into a talking-portrait film")
    animate.add_argument("painting", type=Path)
    animate.add_argument("audio", type=Path, help="the voice: an audio file, or a video with a sound track")
    animate.add_argument("--text", required=True)
    animate.add_argument("--language", required=True)
    animate.add_argument("--out", type=Path, required=True)
    animate.add_argument("--face", type=int, default=0)
    animate.add_argument("--size", type=int, default=512)
    animate.add_argument("--fps", type=int, default=25)
    animate.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    animate.add_argument("--model", default=None, help="Whisper model name or folder")
    animate.add_argument("--curves", type=Path, default=None, help="also write per-frame controls as JSON")
    animate.add_argument("--seed", type=int, default=0)
    animate.add_argument(
        "--aspect",
        choices=("auto", "16:9", "9:16", "1:1"),
        default="auto",
        help="the film's shape: auto keeps a portrait whole and frames a figure in a scene at 16:9",
    )
    animate.add_argument("--push-in", action="store_true", help="open on the whole scene and move in to the speaker")
    animate.add_argument(
        "--motion-from",
        type=Path,
        default=None,
        help="a video of the reader's face: it moves the figure's head, eyes, brows and mouth",
    )
    animate.add_argument("--json", action="store_true")

    motion = commands.add_parser("motion", help="extract the face's motion curves from a video")
    motion.add_argument("video", type=Path)
    motion.add_argument("--json", action="store_true")
    return parser


def run_command(args: argparse.Namespace) -> dict:
    # Imported lazily: `faces` should not pay for loading Whisper, nor `align` for mediapipe.
    if args.command == "faces":
        from animation.engine.faces import cli_faces

        return cli_faces(args)
    if args.command == "align":
        from animation.engine.align import cli_align

        return cli_align(args)
    if args.command == "animate":
        from animation.engine.pipeline import cli_animate

        return cli_animate(args)
    if args.command == "motion":
        from animation.engine.capture import cli_motion

        return cli_motion(args)
    raise AssertionError(args.command)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        result = run_command(args)
    except EngineInputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0
