"""Whole-film figures: ``python bench/bench_animate.py`` from the repo root.

1. Timings of ``animate`` (everything but alignment) for a 10 s clip at 512 and 25 fps, per painting.
2. Peak memory of a 60 s film in a fresh process: Python and its ffmpeg together (the sum of the
   resident memory of the whole process tree, sampled every 20 ms from /proc), and each apart.
3. Quality, in two tables that say where each figure comes from:
   a. measured on the encoded films, decoded back: correlation of the mouth opening (re-detected with
      the face mesh on the output frames) with the voice's loudness; background change between frames;
      jitter of re-detected stable landmarks (eye corners, nose bridge) compared with the same detector
      on a film of the still painting; and shake: the same on points rigid with the head once the motion
      the rig intended for them is subtracted.
   b. measured on frames rendered again from the same rig and curves, before any encoding: the largest
      raw background change, and the nose bridge's sub-pixel shake by phase correlation.
"""

from __future__ import annotations

import itertools
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

from animation.engine.audio import SPEECH_SAMPLE_RATE, decode_audio, loudness_envelope  # noqa: E402
from animation.engine.ffmpeg import ffmpeg_executable  # noqa: E402
from testkit.figures import report  # noqa: E402

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
# Mesh points that ride with the skull and that neither lids nor lips move: nose bridge, forehead, temples.
RIGID = [168, 6, 197, 195, 10, 151, 234, 454, 127, 356]


def jitter(track: np.ndarray) -> float:
    """Mean |second difference| of stable points (px/frame^2). Intended motion (blinks, head turns) counts
    too, so on an animated film this is an upper bound on shake, kept for comparison with older runs."""
    stable = track[:, STABLE]
    second = stable[2:] - 2 * stable[1:-1] + stable[:-2]
    return float(np.nanmean(np.linalg.norm(second, axis=2)))


def intended_offsets(rig, controls, points: np.ndarray) -> np.ndarray:
    """(frames, P, 2): where the rig means to move each painted point, frame by frame (forward fields:
    the head family bilinear on its coarse grid, plus the mouth and brow fields where they reach)."""
    from animation.engine.render.frame_plan import Planner, values_at

    planner = Planner(rig)
    offsets = np.zeros((controls.frame_count, len(points), 2))
    for index in range(controls.frame_count):
        plan = planner.plan(values_at(controls, index))
        for number, point in enumerate(points):
            offset = planner.head_shift_at(plan.head.astype(np.float64), point)
            for rect, coefficients, field in plan.locals:
                x, y = round(float(point[0])) - rect.x0, round(float(point[1])) - rect.y0
                if 0 <= y < rect.shape[0] and 0 <= x < rect.shape[1]:
                    offset = offset + np.tensordot(coefficients, field.fields[:, y, x], axes=1)
            offsets[index, number] = offset
    return offsets


def shake(track: np.ndarray, reference: np.ndarray, intended: np.ndarray | None) -> float:
    """Mean |second difference| (px/frame^2) of rigid points after taking away the motion the rig meant.

    ``reference`` (P, 2) is where the detector puts the points on the still painting; the residual is what
    the detector sees beyond reference + intended offset, i.e. shake from rendering (plus the detector's
    own noise, which the still painting's film measures)."""
    residual = track[:, RIGID] - reference
    if intended is not None:
        residual = residual - intended[: len(residual)]
    second = residual[2:] - 2 * residual[1:-1] + residual[:-2]
    return float(np.nanmean(np.linalg.norm(second, axis=2)))


def patch(frame: np.ndarray, centre: np.ndarray, half: int) -> np.ndarray:
    import cv2

    x, y = np.round(centre).astype(int)
    return cv2.cvtColor(frame[y - half : y + half, x - half : x + half], cv2.COLOR_BGR2GRAY).astype(np.float32)


def patch_shake(patches: list[np.ndarray], intended: np.ndarray) -> float:
    """Shake measured on the pixels, no detector: the sub-pixel shift of a patch rigid with the head
    (phase correlation, consecutive frames) minus the shift the rig meant for its centre; mean |change of
    that residual velocity| = |second difference| of the position residual, px/frame^2."""
    import cv2

    window = cv2.createHanningWindow(patches[0].shape[::-1], cv2.CV_32F)
    velocity = np.array([cv2.phaseCorrelate(a, b, window)[0] for a, b in itertools.pairwise(patches)])
    velocity = velocity - np.diff(intended[: len(patches)], axis=0)
    return float(np.mean(np.linalg.norm(np.diff(velocity, axis=0), axis=1)))


def _tree_rss(root: int) -> dict[int, tuple[str, int]]:
    """{pid: (name, resident bytes)} for ``root`` and every process below it, read from /proc."""
    parents: dict[int, int] = {}
    names: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (name) state ppid ...": the name may hold spaces, so split after its closing parenthesis.
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        parents[int(entry.name)] = int(stat[stat.rindex(")") + 2 :].split()[1])
        names[int(entry.name)] = name
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in tree]
        tree.update(children)
        frontier.extend(children)
    sizes = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for pid in tree:
        try:
            resident = int((Path("/proc") / str(pid) / "statm").read_text().split()[1]) * page
        except (OSError, IndexError, ValueError):
            continue
        sizes[pid] = (names.get(pid, "?"), resident)
    return sizes


def peak_tree_memory(arguments: list[str]) -> tuple[str, dict[str, float]]:
    """Run ``arguments``; return its stdout and peaks in MB: the whole tree's sum, and per process name."""
    import threading

    process = subprocess.Popen(arguments, stdout=subprocess.PIPE, text=True, cwd=REPO)
    peaks = {"tree": 0.0}
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            sizes = _tree_rss(process.pid)
            peaks["tree"] = max(peaks["tree"], sum(size for _, size in sizes.values()) / 2**20)
            for name, size in sizes.values():
                peaks[name] = max(peaks.get(name, 0.0), size / 2**20)
            done.wait(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, _ = process.communicate()
    done.set()
    sampler.join()
    if process.returncode:
        raise RuntimeError(f"{arguments[:3]} exited with {process.returncode}")
    return stdout, peaks


def cpu_seconds() -> tuple[float, float]:
    """(this process, its finished children: ffmpeg) CPU seconds so far."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time(), children.ru_utime + children.ru_stime


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    from animation.engine.controls import Controls
    from animation.engine.encode import FilmWriter
    from animation.engine.faces import find_faces
    from animation.engine.pipeline import animate
    from animation.engine.render import render_frames
    from animation.engine.render.rig import build_rig

    align = alignment()
    voice10, align10 = looped(10.0, align)
    paintings = sorted((REPO / "demo/paintings").glob("*.jpg"))
    print(f"cores: {os.cpu_count()}, load average at start: {os.getloadavg()[0]:.2f}\n")
    print("1. animate (no alignment), 10 s clip, 512, 25 fps; seconds (median of warm runs)")
    # Cold costs, once per worker process: mediapipe's graphs and the motion module's dictionaries.
    from animation.engine.faces import _mediapipe

    clock = time.perf_counter()
    _mediapipe()
    mediapipe_seconds = time.perf_counter() - clock
    columns = ("faces", "motion", "render", "encode", "total")
    header = (
        f"{'painting':10} {'run':5} "
        + " ".join(f"{c:>7}" for c in columns)
        + f" {'py cpu':>7} {'ffmpeg':>7} {'load':>5}"
    )
    print(header)
    print("-" * len(header))
    films = {}
    warm_totals = []
    for painting in paintings:
        rows = []
        for run in ("cold", "warm", "warm", "warm") if painting == paintings[0] else ("warm", "warm", "warm"):
            out = OUT / f"film_{painting.stem}.mp4"
            python_cpu, child_cpu = cpu_seconds()
            result = animate(
                painting_path=painting,
                audio_path=voice10,
                alignment=align10,
                out_path=out,
                curves_path=out.with_suffix(".json"),
            )
            python_after, child_after = cpu_seconds()
            s = result["seconds"]
            row = [s[c] for c in columns] + [python_after - python_cpu, child_after - child_cpu, os.getloadavg()[0]]
            if run == "cold":
                print(f"{painting.stem:10} {run:5} " + " ".join(f"{v:7.2f}" for v in row[:-1]) + f" {row[-1]:5.2f}")
            else:
                rows.append(row)
            films[painting.stem] = out
        median = np.median(np.array(rows), axis=0)
        warm_totals.append(median[len(columns) - 1])
        print(f"{painting.stem:10} {'warm':5} " + " ".join(f"{v:7.2f}" for v in median[:-1]) + f" {median[-1]:5.2f}")
    print(
        f"   warm total, median over paintings: {np.median(warm_totals):.2f} s wall (target <= 2);"
        " py cpu: this process (render threads included), ffmpeg: the encoder's own CPU seconds"
    )
    print(
        f"   cold costs, once per worker process: mediapipe graphs {mediapipe_seconds:.2f} s here; the 'cold' row"
        " adds the motion module's dictionaries and first-call costs"
    )
    report("animate.warm_seconds_per_10s_film", float(np.median(warm_totals)), "s", better="lower", floor=2.0)

    print("\n2. peak memory, 60 s film, fresh process")
    voice60, align60 = looped(60.0, align)
    (OUT / "alignment_60s.json").write_text(json.dumps(align60))
    code = (
        "import json,sys,resource; sys.path.insert(0, {!r})\n"
        "from animation.engine.pipeline import animate\n"
        "r = animate(painting_path={!r}, audio_path={!r}, alignment=json.load(open({!r})), out_path={!r})\n"
        "peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        "child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024\n"
        "print(json.dumps({{'frames': r['frames'], 'peak_mb': peak, 'ffmpeg_peak_mb': child}}))"
    ).format(
        str(REPO),
        str(paintings[0]),
        str(voice60),
        str(OUT / "alignment_60s.json"),
        str(OUT / "film_60s.mp4"),
    )
    stdout, peaks = peak_tree_memory([sys.executable, "-c", code])
    peak = json.loads(stdout.strip().splitlines()[-1])
    apart = ", ".join(f"{name} {mb:.0f} MB" for name, mb in sorted(peaks.items()) if name != "tree")
    bound = peak["peak_mb"] + peak["ffmpeg_peak_mb"]
    print(
        f"   {peak['frames']} frames; Python + ffmpeg together, peak of the sum sampled every 20 ms: "
        f"{peaks['tree']:.0f} MB (sampled peaks apart: {apart})"
    )
    print(
        f"   upper bound, each process's own peak (ru_maxrss) added: {bound:.0f} MB = Python "
        f"{peak['peak_mb']:.0f} + ffmpeg {peak['ffmpeg_peak_mb']:.0f} (target <= 1500 MB; a short spike between"
        " samples, e.g. loading the face models, shows only here)"
    )
    report("animate.peak_memory_60s_film", float(peaks["tree"]), "MB", better="lower", floor=1500)

    print("\n3. quality of the 10 s films")
    samples = decode_audio(voice10, sample_rate=SPEECH_SAMPLE_RATE)
    envelope = loudness_envelope(samples, SPEECH_SAMPLE_RATE, fps=FPS)
    encoded_rows, rendered_rows = [], []
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
        # The nose bridge, a quarter of the eye distance around it: rigid with the head, away from lids and lips.
        bridge = np.nanmedian(track[:, 168], axis=0)
        half = max(8, int(0.25 * np.nanmedian(np.linalg.norm(track[:, 263] - track[:, 33], axis=1))))
        bridge_path = intended_offsets(rig, controls, bridge[None])[:, 0]
        raw_change = 0
        previous = None
        film_patches = []
        for frame in render_frames(rig, controls):
            film_patches.append(patch(frame, bridge, half))
            if previous is not None:
                raw_change = max(raw_change, int(np.abs(frame[still_mask].astype(int) - previous).max(initial=0)))
            previous = frame[still_mask].astype(int)
        # The same painting moved rigidly along the bridge's intended path (bilinear, like the render): no
        # shake at all, so its figure is the phase correlation's own noise on moving pixels.
        smooth_patches = [
            patch(
                cv2.warpAffine(rig.still, np.float32([[1, 0, dx], [0, 1, dy]]), rig.size, flags=cv2.INTER_LINEAR),
                bridge,
                half,
            )
            for dx, dy in bridge_path
        ]
        still_film = OUT / f"still_{painting.stem}.mp4"
        with FilmWriter(
            still_film, width=rig.size[0], height=rig.size[1], fps=FPS, frame_count=100, audio_path=None
        ) as film:
            for _ in range(100):
                film.write(rig.still)
        still_track = mesh_track(decode(still_film))
        still_jitter = jitter(still_track)
        reference = np.nanmedian(still_track[:, RIGID], axis=0)
        intended = intended_offsets(rig, controls, reference)
        patch_film = patch_shake(film_patches, bridge_path)
        patch_smooth = patch_shake(smooth_patches, bridge_path)
        encoded_rows.append(
            f"{painting.stem:10} {r:14.2f} {film_change:10.3f} "
            f"{jitter(track):12.3f} {still_jitter:13.3f} "
            f"{shake(track, reference, intended):11.3f} {shake(still_track, reference, None):12.3f}"
        )
        rendered_rows.append(f"{painting.stem:10} {raw_change:14d} {patch_film:11.3f} {patch_smooth:12.3f}")
    header = (
        f"{'painting':10} {'mouth~voice r':>14} {'bg change':>10} "
        f"{'jitter film':>12} {'jitter still':>13} {'shake film':>11} {'shake still':>12}"
    )
    print("a. measured on the encoded films (H.264 decoded back; the still film encoded the same way)")
    print(header)
    print("-" * len(header))
    print("\n".join(encoded_rows))
    header = f"{'painting':10} {'bg change raw':>14} {'patch film':>11} {'patch smooth':>12}"
    print("b. measured on frames rendered again from the same rig and curves, before encoding")
    print(header)
    print("-" * len(header))
    print("\n".join(rendered_rows))
    print(
        "   bg change: mean |frame - previous| in grey levels over pixels no field moves (film: after H.264;"
        " raw: max over the re-rendered frames, before encoding)"
    )
    print("   jitter: mean |second difference| of re-detected eye corners + nose bridge, px/frame^2 (intended")
    print("   motion included); shake: the same on nose bridge, forehead and temples after subtracting where")
    print("   the rig meant to move them that frame (mostly the detector's own noise on changing frames: it")
    print("   re-fits the whole mesh as the mouth moves); 'still' columns: detector and codec alone on a still")
    print("   film; patch: the nose bridge's sub-pixel motion (phase correlation, rendered frames) minus the")
    print("   intended, no detector; 'patch smooth': the same on the painting moved rigidly along that path,")
    print("   i.e. the measure's own floor. patch film near patch smooth = no shake the measure can see")


if __name__ == "__main__":
    main()
