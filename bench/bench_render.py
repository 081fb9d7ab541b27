"""Render throughput and agreement of the backends: ``python bench/bench_render.py`` from the repo root.

For each test painting: rig build time, frames/s of warp + compose for a 10 s clip at 512x512 and
25 fps (controls from the motion module on real speech's loudness), the torch backend's frames/s and
its mean difference from OpenCV, and how much the background changed (must be 0).
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


def clip_controls(frame_count: int):
    samples = decode_audio(REPO / "demo/speech/english_radio.flac", sample_rate=SPEECH_SAMPLE_RATE)
    envelope = loudness_envelope(samples, SPEECH_SAMPLE_RATE, fps=FPS)
    envelope = np.resize(envelope, frame_count)  # loop the 8 s recording to fill the clip
    return controls_from_alignment(
        units=[], phrases=[], language="xx", envelope=envelope, fps=FPS, frame_count=frame_count, seed=1
    )


def main() -> None:
    import cv2
    import torch

    frame_count = FPS * SECONDS
    controls = clip_controls(frame_count)
    print(
        f"cpu cores: {os.cpu_count()}, opencv threads: {cv2.getNumThreads()}, torch threads: {torch.get_num_threads()}"
    )
    print(f"clip: {SECONDS} s at {FPS} fps = {frame_count} frames, size {SIZE}\n")
    header = (
        f"{'painting':10} {'frame':>9} {'roi %':>6} {'rig ms':>7} {'opencv f/s':>11} {'f/2 cpu-s':>10} "
        f"{'torch-cpu f/s':>14} {'mean diff':>10} {'max diff':>9} {'bg change':>10}"
    )
    print(header)
    print("-" * len(header))
    rates, two_core_rates = [], []
    for painting in sorted((REPO / "demo/paintings").glob("*.jpg")):
        image, faces = find_faces(painting)
        started = time.perf_counter()
        rig = build_rig(image, faces[0], size=SIZE)
        rig_ms = (time.perf_counter() - started) * 1000
        roi_share = rig.roi.shape[0] * rig.roi.shape[1] / (rig.still.shape[0] * rig.still.shape[1]) * 100
        for _ in render_frames(rig, controls):  # warm up caches and threads
            break
        started = time.perf_counter()
        cpu_started = time.process_time()
        outside_change = 0
        keep = []
        mask = np.ones(rig.still.shape[:2], bool)
        mask[rig.roi.y0 : rig.roi.y1, rig.roi.x0 : rig.roi.x1] = False
        for index, frame in enumerate(render_frames(rig, controls)):
            if index % 25 == 0:
                keep.append(frame.copy())
        opencv_rate = frame_count / (time.perf_counter() - started)
        # CPU time is what other tenants of a shared machine cannot inflate: frames per 2 CPU-seconds is
        # what two free cores deliver when the two render threads keep both busy.
        two_core_rate = 2 * frame_count / (time.process_time() - cpu_started)
        rates.append(opencv_rate)
        two_core_rates.append(two_core_rate)
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
            f"{np.mean([d.mean() for d in diffs]):10.3f} {max(d.max() for d in diffs):9d} {outside_change:10d}"
        )
    print(
        f"\nopencv render (warp + compose), median over paintings: {np.median(rates):.0f} frames/s wall clock, "
        f"{np.median(two_core_rates):.0f} frames per 2 CPU-seconds (target >= 500)"
    )
    print(f"load average while measuring: {os.getloadavg()[0]:.2f} (2 cores; above 2 means other work shared them)")
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
