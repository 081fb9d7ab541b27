"""Command line of the engine: ``python -m animation.engine {faces, align, animate, motion} ... --json``.

The interface is stable: tests, benchmarks and operators script against it. Each command prints one
JSON object on stdout with --json (a human summary otherwise) and exits non-zero with a one-line
message on stderr when its input is bad.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

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
    if args.command == "faces":
        return cli_faces(args)
    if args.command == "align":
        return cli_align(args)
    if args.command == "animate":
        return cli_animate(args)
    if args.command == "motion":
        return cli_motion(args)
    raise AssertionError(args.command)


# Each command imports what it runs when it runs: `faces` should not pay for loading Whisper, nor
# `align` for mediapipe.


def cli_faces(args: argparse.Namespace) -> dict[str, Any]:
    """``python -m animation.engine faces PAINTING [--box X,Y,W,H | --at X,Y] --json``: faces and landmarks."""
    from animation.engine.faces import face_from_mesh, find_faces, load_painting

    box, at = getattr(args, "box", None), getattr(args, "at", None)
    if box or at:
        from animation.engine.face_paintings import fit_in_box

        image = load_painting(args.painting)
        try:
            numbers = [float(v) for v in (box or at).split(",")]
        except ValueError:
            numbers = []
        if len(numbers) != (4 if box else 2):
            raise EngineInputError("--box takes X,Y,W,H and --at takes X,Y (pixels of the painting)")
        fit = fit_in_box(image, numbers if box else None, centre=None if box else numbers)
        return {"faces": [face_from_mesh(fit.points, image.shape, score=fit.presence).to_dict()]}
    _, faces = find_faces(args.painting)
    return {"faces": [face.to_dict() for face in faces]}


def cli_align(args: argparse.Namespace) -> dict[str, Any]:
    """``python -m animation.engine align AUDIO --text TEXT --language LANG [--model M] [--vtt OUT]``."""
    from animation.engine.align.aligner import align_text
    from animation.engine.align.subtitles import alignment_to_webvtt

    result = align_text(Path(args.audio), text=args.text, language=args.language, model=args.model)
    data = result.to_dict()
    if getattr(args, "vtt", None):
        vtt_path = Path(args.vtt)
        vtt_path.parent.mkdir(parents=True, exist_ok=True)
        temporary = vtt_path.with_name(f".{vtt_path.name}.tmp")
        temporary.write_text(alignment_to_webvtt(data), encoding="utf-8")
        os.replace(temporary, vtt_path)
    return data


def cli_animate(args: argparse.Namespace) -> dict[str, Any]:
    """``python -m animation.engine animate PAINTING AUDIO_OR_VIDEO --text T --language L --out OUT.mp4 ...``.

    Aligns first (the render worker gets its alignment from the speech worker instead). With
    ``--motion-from VIDEO`` the reader's face in VIDEO moves the figure (AUDIO may be that video).
    """
    from animation.engine.align.aligner import align_text
    from animation.engine.faces import load_painting
    from animation.engine.pipeline import animate

    # Check the painting before spending seconds on Whisper.
    load_painting(args.painting)
    motion = None
    capture_seconds = 0.0
    if getattr(args, "motion_from", None) is not None:
        from animation.engine.capture import extract_motion

        clock = time.perf_counter()
        motion = extract_motion(args.motion_from)
        capture_seconds = time.perf_counter() - clock
    clock = time.perf_counter()
    alignment = align_text(Path(args.audio), text=args.text, language=args.language, model=args.model)
    align_seconds = time.perf_counter() - clock
    result = animate(
        painting_path=args.painting,
        audio_path=args.audio,
        alignment=alignment.to_dict(),
        out_path=args.out,
        face_index=args.face,
        size=args.size,
        fps=args.fps,
        device=args.device,
        curves_path=args.curves,
        seed=args.seed,
        motion=motion,
        aspect=getattr(args, "aspect", None),
        push_in=getattr(args, "push_in", False),
    )
    capture = {"capture": round(capture_seconds, 3)} if motion is not None else {}
    result["seconds"] = {**capture, "align": round(align_seconds, 3), **result["seconds"]}
    result["seconds"]["total"] = round(result["seconds"]["total"] + align_seconds + capture_seconds, 3)
    return result


def cli_motion(args: argparse.Namespace) -> dict[str, Any]:
    """``python -m animation.engine motion VIDEO --json``: the extracted curves."""
    from animation.engine.capture import extract_motion

    return extract_motion(args.video).to_dict()


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
