"""Render throughput and agreement of the backends: ``python bench/bench_render.py`` from the repo root.

For each test painting: rig build time, frames/s of warp + compose for a 10 s clip at 512x512 and
25 fps (controls from the motion module on real speech's loudness; median of three runs, as wall-clock
frames/s and as frames per 2 CPU-seconds, with the load average), the torch backend's frames/s and its
mean difference from OpenCV, and how much the background changed (must be 0).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from animation.engine.audio import SPEECH_SAMPLE_RATE, decode_audio, loudness_envelope  # noqa: E402
from animation.engine.faces import find_faces  # noqa: E402
from animation.engine.motion import controls_from_alignment  # noqa: E402
from animation.engine.render import build_rig, render_frames  # noqa: E402

FPS = 25
SECONDS = 10
SIZE = 512
REPEATS = 3


def clip_controls(frame_count: int):
    samples = decode_audio(REPO / "demo/speech/english_radio.flac", sample_rate=SPEECH_SAMPLE_RATE)
    envelope = loudness_envelope(samples, SPEECH_SAMPLE_RATE, fps=FPS)
    envelope = np.resize(envelope, frame_count)  # loop the 8 s recording to fill the clip
    return controls_from_alignment(
        units=[], phrases=[], language="xx", envelope=envelope, fps=FPS, frame_count=frame_count, seed=1
    )


def background_mask(rig) -> np.ndarray:
    """Pixels no field and no painted overlay can ever touch: the head fields' support on the coarse grid
    (grown by a coarse cell, as upsampling spreads it), the local rectangles grown by how far they follow
    the head, the eyes and the mouth's inside."""
    import cv2

    roi = rig.roi
    moving = (np.abs(rig.head_coarse).max(axis=(0, 3)) > 0).astype(np.uint8)
    moving = cv2.dilate(moving, np.ones((3, 3), np.uint8))
    inside = cv2.resize(moving, (roi.shape[1], roi.shape[0]), interpolation=cv2.INTER_NEAREST) > 0
    touched = np.zeros(rig.still.shape[:2], bool)
    touched[roi.y0 : roi.y1, roi.x0 : roi.x1] = inside
    margin = max(roi.shape) // 8
    rects = [rig.mouth.rect, rig.look.rect, *(e.rect for e in rig.eyes)]
    if rig.brows is not None:
        rects.append(rig.brows.rect)
    for rect in rects:
        touched[max(rect.y0 - margin, 0) : rect.y1 + margin, max(rect.x0 - margin, 0) : rect.x1 + margin] = True
    return ~touched


def main() -> None:
    import cv2
    import torch

    frame_count = FPS * SECONDS
    controls = clip_controls(frame_count)
    print(
        f"cpu cores: {os.cpu_count()}, opencv threads: {cv2.getNumThreads()}, torch threads: {torch.get_num_threads()}"
    )
    print(f"clip: {SECONDS} s at {FPS} fps = {frame_count} frames, size {SIZE}")
    print(f"load average at start: {os.getloadavg()[0]:.2f}\n")
    header = (
        f"{'painting':10} {'frame':>9} {'roi %':>6} {'rig ms':>7} {'opencv f/s':>11} {'f/2 cpu-s':>10} "
        f"{'torch-cpu f/s':>14} {'mean diff':>10} {'max diff':>9} {'bg %':>5} {'bg change':>10} {'load':>5}"
    )
    print(header)
    print("-" * len(header))
    rates, two_core_rates, loads = [], [], []
    for painting in sorted((REPO / "demo/paintings").glob("*.jpg")):
        image, faces = find_faces(painting)
        started = time.perf_counter()
        rig = build_rig(image, faces[0], size=SIZE)
        rig_ms = (time.perf_counter() - started) * 1000
        roi_share = rig.roi.shape[0] * rig.roi.shape[1] / (rig.still.shape[0] * rig.still.shape[1]) * 100
        for _ in render_frames(rig, controls):  # warm up caches and threads
            break
        outside_change = 0
        keep = []
        mask = background_mask(rig)
        walls, cpus = [], []
        # Repeated, median taken: other people's work on the same two cores comes and goes.
        for _ in range(REPEATS):
            started = time.perf_counter()
            cpu_started = time.process_time()
            keep = []
            for index, frame in enumerate(render_frames(rig, controls)):
                if index % 25 == 0:
                    keep.append(frame.copy())
            walls.append(time.perf_counter() - started)
            cpus.append(time.process_time() - cpu_started)
        opencv_rate = frame_count / float(np.median(walls))
        # CPU time is what other tenants of a shared machine inflate least: frames per 2 CPU-seconds is
        # what two free cores deliver when the two render threads keep both busy.
        two_core_rate = 2 * frame_count / float(np.median(cpus))
        rates.append(opencv_rate)
        two_core_rates.append(two_core_rate)
        loads.append(os.getloadavg()[0])
        outside_change = max(
            int(np.abs(k[mask].astype(int) - rig.still[mask].astype(int)).max(initial=0)) for k in keep
        )
        subset = type(controls)(fps=FPS, frame_count=50, tracks={k: v[:50] for k, v in controls.tracks.items()})
        started = time.perf_counter()
        torch_frames = [f.copy() for f in render_frames(rig, subset, backend="torch", device="cpu", batch_size=25)]
        torch_rate = 50 / (time.perf_counter() - started)
        cpu_frames = [f.copy() for f in render_frames(rig, subset)]
        diffs = [np.abs(a.astype(int) - b.astype(int)) for a, b in zip(cpu_frames, torch_frames, strict=True)]
        frame = f"{rig.still.shape[1]}x{rig.still.shape[0]}"
        print(
            f"{painting.stem:10} {frame:>9} {roi_share:6.0f} {rig_ms:7.0f} {opencv_rate:11.0f} "
            f"{two_core_rate:10.0f} {torch_rate:14.1f} "
            f"{np.mean([d.mean() for d in diffs]):10.3f} {max(d.max() for d in diffs):9d} "
            f"{100 * mask.mean():5.0f} {outside_change:10d} "
            f"{loads[-1]:5.2f}"
        )
    print(
        f"\nopencv render (warp + compose), median over paintings: {np.median(rates):.0f} frames/s wall clock, "
        f"{np.median(two_core_rates):.0f} frames per 2 CPU-seconds (target >= 500)"
    )
    print(
        f"load average while measuring: {min(loads):.2f} to {max(loads):.2f} "
        "(2 cores; above 2 means other work shared them, and wall figures suffer first)"
    )
    if torch.cuda.is_available():
        image, faces = find_faces(REPO / "demo/paintings/art_10.jpg")
        rig = build_rig(image, faces[0], size=SIZE)
        for _ in render_frames(rig, controls, backend="torch", device="cuda"):
            pass
        started = time.perf_counter()
        for _ in render_frames(rig, controls, backend="torch", device="cuda", batch_size=64):
            pass
        print(f"torch on {torch.cuda.get_device_name()}: {frame_count / (time.perf_counter() - started):.0f} frames/s")


if __name__ == "__main__":
    main()
