"""Painting + voice + alignment -> film, poster, subtitles (and optionally the control curves).

``animate`` is what the render worker calls: it gets an alignment the speech worker already made, so
no Whisper model loads here. ``python -m animation.engine animate`` (``cli.cli_animate``) aligns first, for
people and benchmarks.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from animation.engine.audio import (
    SPEECH_SAMPLE_RATE,
    decode_audio,
    loudness_envelope,
    pitch_semitones,
    probe_audio,
)
from animation.engine.capture import MotionCurves
from animation.engine.controls import Controls
from animation.engine.encode import write_film
from animation.engine.errors import EngineInputError
from animation.engine.faces import detect_faces, face_from_landmarks, load_painting, select_face
from animation.engine.framing import parse_aspect, plan_opening, shift_alignment
from animation.engine.render import render_frames
from animation.engine.render.rig import build_rig

if TYPE_CHECKING:
    from animation.engine.motion import HeadRange

Progress = Callable[[str, float], None]
MAX_SIZE = 2048
MAX_FPS = 60


def _backend(device: str) -> tuple[str, str]:
    if device == "cpu":
        return "opencv", "cpu"
    if device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise EngineInputError("--device cuda was asked for but this machine has no CUDA GPU; use --device cpu")
        return "torch", "cuda"
    raise EngineInputError(f"unknown device {device!r}: use cpu or cuda")


def poster_index(controls: Controls) -> int:
    """A frame at rest for the poster: mouth closed, eyes open, head near its resting pose.

    A card in the gallery is a still picture: a mouth caught mid-word reads as a gape and a half-shut
    eye as a squint. The frame chosen is the one whose neighbourhood (a fifth of a second either side)
    is most at rest, so it sits in a pause (before the first word, between phrases), not on a passing
    closure between two syllables; among equals the earliest wins.
    """
    mouth = (
        controls["mouth_open"]
        + 0.5 * controls["mouth_round"]
        + 0.5 * controls["teeth"]
        + 0.3 * np.abs(controls["mouth_width"])
    )
    eyes = np.maximum(controls["blink_left"], controls["blink_right"])
    head = (np.abs(controls["head_yaw"]) + np.abs(controls["head_pitch"]) + np.abs(controls["head_roll"])) / 10.0
    cost = mouth + 4.0 * eyes + 0.1 * head
    reach = max(1, round(0.2 * controls.fps))
    # The worst moment of the neighbourhood counts: a pause is at rest throughout.
    padded = np.pad(cost, reach, mode="edge")
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * reach + 1)
    rest = windows.max(axis=1) + 0.5 * cost
    return int(np.argmin(np.round(rest, 3)))


def animate(
    *,
    painting_path: str | Path,
    audio_path: str | Path,
    alignment: Mapping[str, Any],
    out_path: str | Path,
    face_index: int = 0,
    size: int = 512,
    fps: float = 25,
    device: str = "cpu",
    aspect: str | None = None,
    push_in: bool = False,
    landmarks_override: Mapping[str, Any] | None = None,
    faces: Sequence[Mapping[str, Any]] | None = None,
    curves_path: str | Path | None = None,
    seed: int = 0,
    progress: Progress | None = None,
    motion: MotionCurves | None = None,
    head_range: HeadRange | Mapping[str, Any] | Sequence[float] | None = None,
) -> dict[str, Any]:
    """Write OUT (mp4), OUT.jpg (poster) and OUT.vtt (subtitles); return frame count and timings.

    ``alignment`` is ``AlignmentResult.to_dict()`` (units, phrases, language). ``landmarks_override``
    (a face dict as ``faces`` prints it, or its landmarks) replaces detection; so do ``faces``, the faces
    found once when the painting was added (``Face.to_dict()`` each, in detection order), of which
    ``face_index`` speaks. Only with neither are the faces looked for here. ``progress(stage,
    fraction)`` is called as stages advance. ``motion`` (``capture.extract_motion`` of the reader's video)
    drives the head, eyes, brows and mouth when it is usable; otherwise the voice does, and the result's
    "motion" says which and why. ``aspect`` ("16:9", "9:16", "1:1"; None for the painting's own
    framing) and ``push_in`` (open on the scene, move in to the speaker) set the camera. ``head_range``
    (``motion.HeadRange``, a mapping of "yaw"/"pitch"/"roll" degrees, or a triple; None: the defaults,
    15/10/8) bounds how far the head turns, from the voice or the video. Raises EngineInputError for
    anything the user can fix.
    """
    from animation.engine.align import alignment_to_webvtt
    from animation.engine.motion import HeadRange, controls_from_alignment

    if not 64 <= size <= MAX_SIZE:
        raise EngineInputError(f"--size {size} is out of range: use 64 to {MAX_SIZE} pixels")
    if not 1 <= fps <= MAX_FPS:
        raise EngineInputError(f"--fps {fps} is out of range: use 1 to {MAX_FPS}")
    try:
        limits = HeadRange.of(head_range)
    except (TypeError, ValueError) as error:
        raise EngineInputError(f"head range: {error}") from None
    backend, torch_device = _backend(device)
    report = progress or (lambda stage, fraction: None)
    out_path = Path(out_path)
    seconds: dict[str, float] = {}
    started = time.perf_counter()

    clock = time.perf_counter()
    report("faces", 0.0)
    image = load_painting(painting_path)
    if landmarks_override is not None:
        face = face_from_landmarks(landmarks_override, image.shape, index=face_index)
    elif faces:
        face = face_from_landmarks(select_face(faces, face_index), image.shape, index=face_index)
    else:
        found = detect_faces(image)
        if not found:
            raise EngineInputError(
                f"no face found on {Path(painting_path).name}; place the face's landmarks by hand in the face editor"
            )
        face = select_face(found, face_index)
    seconds["faces"] = time.perf_counter() - clock
    report("faces", 1.0)

    clock = time.perf_counter()
    duration = probe_audio(audio_path).duration_seconds
    samples = decode_audio(audio_path, sample_rate=SPEECH_SAMPLE_RATE)
    if duration <= 0:
        duration = samples.size / SPEECH_SAMPLE_RATE
    frame_count = max(1, round(duration * fps))
    envelope = loudness_envelope(samples, SPEECH_SAMPLE_RATE, fps=fps)
    envelope = np.pad(envelope, (0, max(0, frame_count - envelope.size)))[:frame_count]
    pitch = pitch_semitones(samples, SPEECH_SAMPLE_RATE, fps=fps)
    pitch = np.pad(pitch, (0, max(0, frame_count - pitch.size)), constant_values=np.nan)[:frame_count]
    controls = controls_from_alignment(
        units=list(alignment.get("units", [])),
        phrases=list(alignment.get("phrases", [])),
        language=str(alignment.get("language", "")),
        envelope=envelope,
        fps=fps,
        frame_count=frame_count,
        seed=seed,
        head_range=limits,
        pitch=pitch,
    )
    motion_report: dict[str, Any] = {"source": "voice"}
    if motion is not None:
        if motion.usable:
            from animation.engine.retarget import retarget

            controls, figures = retarget(motion, voice=controls, envelope=envelope, head_range=limits)
            motion_report = {"source": "video", **{name: round(value, 3) for name, value in figures.items()}}
        if motion.note:
            motion_report["note"] = motion.note
    if curves_path is not None:
        controls.write_json(Path(curves_path))
    seconds["motion"] = time.perf_counter() - clock

    clock = time.perf_counter()
    rig = build_rig(image, face, size=size, aspect=parse_aspect(aspect))
    # ``push_in``: open on the whole scene and move in to the speaker before the first word.
    opening = plan_opening(image, rig.framing.crop, rig.still, controls, alignment, push_in=push_in)
    controls, frame_count = opening.controls, opening.controls.frame_count
    del image  # the full-size painting is no longer needed; long films should not carry it
    render_seconds = time.perf_counter() - clock
    width, height = rig.size
    rendered = render_frames(rig, controls, backend=backend, device=torch_device)
    written = write_film(
        (opening.frame(index, frame) for index, frame in enumerate(rendered)),
        out_path,
        width=width,
        height=height,
        fps=fps,
        frame_count=frame_count,
        audio_path=audio_path,
        audio_delay=opening.lead_in / fps,
        poster=rig.still,
        poster_index=opening.camera_frames + poster_index(opening.after_camera()),
        subtitles=alignment_to_webvtt(shift_alignment(alignment, opening.lead_in / fps)),
        report=report,
    )
    seconds["render"] = render_seconds + written.render_seconds
    seconds["encode"] = written.encode_seconds
    seconds["total"] = time.perf_counter() - started
    return {
        "frames": frame_count,
        "fps": fps,
        "face": face.index,
        "device": torch_device if backend == "torch" else "cpu",
        "width": width,
        "height": height,
        "aspect": aspect or "auto",
        "push_in": {"frames": opening.camera_frames, "voice_delay": round(opening.lead_in / fps, 3)}
        if push_in
        else None,
        "video": str(out_path),
        "poster": str(written.poster),
        "subtitles": str(written.subtitles),
        "curves": str(curves_path) if curves_path is not None else None,
        "motion": motion_report,
        "seconds": {name: round(value, 3) for name, value in seconds.items()},
    }
