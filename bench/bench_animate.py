"""Whole-film figures: ``python bench/bench_animate.py`` from the repo root.

1. Timings of ``animate`` (everything but alignment) for a 10 s clip at 512 and 25 fps, per painting.
2. Peak memory of a 60 s film, in a fresh process.
3. Quality, measured on the encoded films: correlation of the mouth opening (re-detected with the face
   mesh on the output frames) with the voice's loudness; background change between frames; jitter of
   re-detected stable landmarks (eye corners, nose bridge) on the film compared with the same detector on
   a film of the still painting (what the codec and detector alone contribute).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
OUT = REPO / "bench" / "out"

import numpy as np  # noqa: E402

from animation.engine.audio import SPEECH_SAMPLE_RATE, decode_audio, ffmpeg_executable, loudness_envelope  # noqa: E402

SPEECH = REPO / "demo/speech/english_radio.flac"
TEXT = (
    "The holidays are a time of celebrating with loved ones, enjoying the festivities and muddling through "
    "Wisconsin's cold. But for many this year has been"
)
FPS = 25


def ffmpeg(*arguments: str) -> None:
    subprocess.run([ffmpeg_executable(), "-v", "error", "-y", *arguments], check=True)


def alignment() -> dict:
    cached = OUT / "alignment_english.json"
    if not cached.exists():
        from animation.engine.align import align_text

        cached.write_text(json.dumps(align_text(SPEECH, text=TEXT, language="en").to_dict()))
    return json.loads(cached.read_text())


def looped(seconds: float, align: dict) -> tuple[Path, dict]:
    """SPEECH repeated (with its alignment shifted) to fill SECONDS; the tail is silence."""
    path = OUT / f"voice_{int(seconds)}s.wav"
    length = align.get("seconds", 8.0)
    ffmpeg("-stream_loop", "-1", "-i", str(SPEECH), "-t", f"{seconds}", "-ac", "1", str(path))
    units, phrases = [], []
    for copy in range(int(np.ceil(seconds / length))):
        offset = copy * length
        units += [
            {**u, "start": u["start"] + offset, "end": u["end"] + offset}
            for u in align["units"]
            if u["end"] + offset < seconds
        ]
        phrases += [
            {"start": p["start"] + offset, "end": p["end"] + offset}
            for p in align["phrases"]
            if p["end"] + offset < seconds
        ]
    return path, {**align, "units": units, "phrases": phrases}


def decode(path: Path) -> np.ndarray:
    from animation.engine.encode import probe_film

    info = probe_film(path)
    raw = subprocess.run(
        [ffmpeg_executable(), "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "bgr24", "-"],
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, int(info["height"]), int(info["width"]), 3)


def mesh_track(frames: np.ndarray) -> np.ndarray:
    """(frames, 478, 2) landmarks per frame, NaN where the mesh found no face."""
    import mediapipe as mp

    points = np.full((len(frames), 478, 2), np.nan)
    with mp.solutions.face_mesh.FaceMesh(static_image_mode=True, max_num_faces=1, refine_landmarks=True) as mesh:
        for index, frame in enumerate(frames):
            found = mesh.process(np.ascontiguousarray(frame[:, :, ::-1])).multi_face_landmarks
            if found:
                h, w = frame.shape[:2]
                points[index] = [(p.x * w, p.y * h) for p in found[0].landmark]
    return points


STABLE = [33, 133, 362, 263, 168]


def jitter(track: np.ndarray) -> float:
    """Mean |second difference| of stable points (px/frame^2): slow intended motion scores ~0, shake does not."""
    stable = track[:, STABLE]
    second = stable[2:] - 2 * stable[1:-1] + stable[:-2]
    return float(np.nanmean(np.linalg.norm(second, axis=2)))


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    from animation.engine.controls import Controls
    from animation.engine.encode import FilmWriter
    from animation.engine.faces import find_faces
    from animation.engine.pipeline import animate
    from animation.engine.render import build_rig, render_frames

    align = alignment()
    voice10, align10 = looped(10.0, align)
    paintings = sorted((REPO / "demo/paintings").glob("*.jpg"))
    print(f"cores: {os.cpu_count()}, load average at start: {os.getloadavg()[0]:.2f}\n")
    print("1. animate (no alignment), 10 s clip, 512, 25 fps; seconds")
    columns = ("faces", "motion", "render", "encode", "total")
    header = f"{'painting':10} {'run':5} " + " ".join(f"{c:>7}" for c in columns) + f" {'cpu s':>6}"
    print(header)
    print("-" * len(header))
    films = {}
    for painting in paintings:
        for run in ("cold", "warm") if painting == paintings[0] else ("warm",):
            out = OUT / f"film_{painting.stem}.mp4"
            cpu = time.process_time()
            result = animate(
                painting_path=painting,
                audio_path=voice10,
                alignment=align10,
                out_path=out,
                curves_path=out.with_suffix(".json"),
            )
            cpu = time.process_time() - cpu
            s = result["seconds"]
            print(f"{painting.stem:10} {run:5} " + " ".join(f"{s[c]:7.2f}" for c in columns) + f" {cpu:6.2f}")
            films[painting.stem] = out
    print("   ('cold' includes loading mediapipe and the motion module's dictionaries, once per worker process)")

    print("\n2. peak memory, 60 s film, fresh process")
    voice60, align60 = looped(60.0, align)
    (OUT / "alignment_60s.json").write_text(json.dumps(align60))
    code = (
        "import json,sys,resource; sys.path.insert(0, {!r})\n"
        "from animation.engine.pipeline import animate\n"
        "r = animate(painting_path={!r}, audio_path={!r}, alignment=json.load(open({!r})), out_path={!r})\n"
        "peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        "print(json.dumps({{'frames': r['frames'], 'peak_mb': peak}}))"
    ).format(
        str(REPO),
        str(paintings[0]),
        str(voice60),
        str(OUT / "alignment_60s.json"),
        str(OUT / "film_60s.mp4"),
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    peak = json.loads(completed.stdout.strip().splitlines()[-1])
    ffmpeg_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        f"   {peak['frames']} frames; python peak RSS {peak['peak_mb']:.0f} MB; "
        f"largest child (ffmpeg or python) {ffmpeg_peak:.0f} MB"
        "  (target <= 1500 MB)"
    )

    print("\n3. quality on the encoded 10 s films")
    samples = decode_audio(voice10, sample_rate=SPEECH_SAMPLE_RATE)
    envelope = loudness_envelope(samples, SPEECH_SAMPLE_RATE, fps=FPS)
    header = (
        f"{'painting':10} {'mouth~voice r':>14} {'bg change':>10} {'bg change raw':>14} "
        f"{'jitter film':>12} {'jitter still':>13}"
    )
    print(header)
    print("-" * len(header))
    for painting in paintings:
        frames = decode(films[painting.stem])
        track = mesh_track(frames)
        face_height = np.linalg.norm(track[:, 152] - track[:, 10], axis=1)
        opening = np.linalg.norm(track[:, 14] - track[:, 13], axis=1) / face_height
        n = min(len(opening), len(envelope))
        valid = ~np.isnan(opening[:n])
        r = float(np.corrcoef(opening[:n][valid], envelope[:n][valid])[0, 1])
        # Background: pixels no field ever moves, from the rig; change measured on the decoded film.
        image, faces = find_faces(painting)
        rig = build_rig(image, faces[0], size=512)
        still_mask = np.ones(rig.still.shape[:2], bool)
        moving = np.abs(rig.head_coarse).max(axis=(0, 3)) > 1e-4
        import cv2

        moving_full = cv2.resize(
            moving.astype(np.uint8), (rig.roi.shape[1], rig.roi.shape[0]), interpolation=cv2.INTER_NEAREST
        )
        still_mask[rig.roi.y0 : rig.roi.y1, rig.roi.x0 : rig.roi.x1] &= moving_full == 0
        still_mask = cv2.erode(still_mask.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0  # codec blocks bleed 8 px
        film_change = (
            float(np.abs(np.diff(frames.astype(np.int16), axis=0))[:, still_mask].mean())
            if still_mask.any()
            else float("nan")
        )
        curves = json.loads(films[painting.stem].with_suffix(".json").read_text())
        controls = Controls(
            fps=FPS,
            frame_count=curves["frame_count"],
            tracks={k: np.array(v, np.float32) for k, v in curves["tracks"].items()},
        )
        raw_change = 0
        previous = None
        for frame in render_frames(rig, controls):
            if previous is not None:
                raw_change = max(raw_change, int(np.abs(frame[still_mask].astype(int) - previous).max(initial=0)))
            previous = frame[still_mask].astype(int)
        still_film = OUT / f"still_{painting.stem}.mp4"
        with FilmWriter(
            still_film, width=rig.size[0], height=rig.size[1], fps=FPS, frame_count=100, audio_path=None
        ) as film:
            for _ in range(100):
                film.write(rig.still)
        still_jitter = jitter(mesh_track(decode(still_film)))
        print(
            f"{painting.stem:10} {r:14.2f} {film_change:10.3f} {raw_change:14d} "
            f"{jitter(track):12.3f} {still_jitter:13.3f}"
        )
    print(
        "   bg change: mean |frame - previous| in grey levels over pixels no field moves (film: after H.264;"
        " raw: max before encoding)"
    )
    print("   jitter: mean |second difference| of re-detected eye corners + nose bridge, px/frame^2")


if __name__ == "__main__":
    main()
