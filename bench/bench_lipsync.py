"""Lip sync against a real speaker: ``python bench/bench_lipsync.py`` from the repo root.

The truth is the person in ../shared/media/video/talking_head_1.mp4 (or the demo's 256 px copy): their
mouth opening, measured per frame with the face mesh (inner-lip gap in inter-ocular distances). The film
is made from the clip's own audio, aligned with Whisper against its text (transcribed once by tiny.en
and kept below), on each demo painting, then measured on the OUTPUT film the same way. Printed per
painting: the Pearson correlation of the two openings at zero lag, the lag (cross-correlation peak
within +-0.4 s; positive: the painting's mouth is late), and the same with the camera driving the figure
(``--motion-from`` the clip). Targets (issue #15): >= 0.6 from the voice alone, >= 0.8 with the camera.

Also printed: how well the voice's own loudness follows this speaker's lips (the best any voice-driven
mouth could hope for, roughly), so a low figure can be read for what it is.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
OUT = REPO / "bench" / "out"

import numpy as np  # noqa: E402

from animation.engine.audio import SPEECH_SAMPLE_RATE, decode_audio, loudness_envelope  # noqa: E402
from animation.engine.capture import extract_motion  # noqa: E402

SHARED = REPO.parent / "shared/media/video/talking_head_1.mp4"
PERSON = SHARED if SHARED.exists() else REPO / "demo/video/talking_head_1.mp4"
TEXT = (
    # What Whisper tiny.en hears in the clip, transcribed once.
    "congressional district, and I'm currently in DC for my second week of new member orientation. "
    "In addition to learning where things are and how to use the tunnels,"
)
PAINTINGS = sorted((REPO / "demo/paintings").glob("*.jpg"))
FPS = 25
MAX_LAG_SECONDS = 0.4


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.std() < 1e-9 or b.std() < 1e-9:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


def lagged(truth: np.ndarray, film: np.ndarray, fps: float = FPS) -> tuple[float, float]:
    """(best correlation, its lag in seconds; > 0: FILM is late) within +-MAX_LAG_SECONDS."""
    best, best_lag = -2.0, 0
    reach = round(MAX_LAG_SECONDS * fps)
    for lag in range(-reach, reach + 1):
        x, y = (truth[: truth.size - lag], film[lag:]) if lag >= 0 else (truth[-lag:], film[: film.size + lag])
        score = correlation(x, y)
        if score > best:
            best, best_lag = score, lag
    return best, best_lag / fps


def alignment() -> dict:
    cached = OUT / "alignment_talking_head_1.json"
    if not cached.exists():
        from animation.engine.align import align_text

        cached.write_text(json.dumps(align_text(PERSON, text=TEXT, language="en").to_dict()))
    return json.loads(cached.read_text())


def main() -> None:
    from animation.engine.pipeline import animate

    OUT.mkdir(parents=True, exist_ok=True)
    print(f"cores: {os.cpu_count()}, load average at start: {os.getloadavg()[0]:.2f}; clip: {PERSON}")
    person = extract_motion(PERSON)
    truth = person["mouth_open"]
    samples = decode_audio(PERSON, sample_rate=SPEECH_SAMPLE_RATE)
    envelope = loudness_envelope(samples, SPEECH_SAMPLE_RATE, fps=FPS)[: truth.size]
    r0, (rbest, lag) = correlation(truth[: envelope.size], envelope), lagged(truth[: envelope.size], envelope)
    print(f"the voice's loudness against the speaker's lips: r {r0:.3f} at zero lag, best {rbest:.3f} at {lag:+.2f} s")
    align = alignment()
    header = (
        f"{'painting':10} {'voice r':>8} {'best r':>7} {'lag s':>6} {'camera r':>9} {'best r':>7} {'lag s':>6}"
        f" {'controls r':>11}"
    )
    print(header)
    print("-" * len(header))
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for painting in PAINTINGS:
            row = []
            for motion in (None, person):
                out = Path(folder) / f"{painting.stem}_{'camera' if motion else 'voice'}.mp4"
                curves = out.with_suffix(".json")
                animate(
                    painting_path=painting,
                    audio_path=PERSON,
                    alignment=align,
                    out_path=out,
                    curves_path=curves,
                    motion=motion,
                )
                film = extract_motion(out)["mouth_open"]
                count = min(film.size, truth.size)
                row += [correlation(truth[:count], film[:count]), *lagged(truth[:count], film[:count])]
                if motion is None:
                    controls = np.asarray(json.loads(curves.read_text())["tracks"]["mouth_open"])
                    controls_r = correlation(truth[: controls.size], controls[: truth.size])
            rows.append(row)
            print(
                f"{painting.stem:10} {row[0]:8.3f} {row[1]:7.3f} {row[2]:+6.2f} {row[3]:9.3f} {row[4]:7.3f}"
                f" {row[5]:+6.2f} {controls_r:11.3f}"
            )
    median = np.median(np.array(rows), axis=0)
    print(
        f"{'median':10} {median[0]:8.3f} {median[1]:7.3f} {median[2]:+6.2f} {median[3]:9.3f} {median[4]:7.3f}"
        f" {median[5]:+6.2f}"
    )
    print(
        "   voice r: the painting's mouth opening (face mesh on the film, IOD) against the speaker's, zero lag;"
        " camera r: the same with --motion-from the clip; controls r: the voice-made mouth_open control itself."
        " Targets: voice >= 0.6, camera >= 0.8."
    )


if __name__ == "__main__":
    main()
