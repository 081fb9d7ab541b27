"""Motion from a resident's video: extraction (real mediapipe, real ffmpeg), retargeting, the pipeline."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from animation.engine.capture import MotionCurves, bridge_gaps, extract_motion
from animation.engine.controls import Controls
from animation.engine.errors import EngineInputError
from animation.engine.motion import (
    HEAD_PITCH_LIMIT_DEGREES,
    HEAD_ROLL_LIMIT_DEGREES,
    HEAD_YAW_LIMIT_DEGREES,
    blink_tracks,
)
from animation.engine.retarget import blink_events, retarget
from animation.engine.smoothing import perlin_noise, spring_smooth
from testkit.media import PAINTINGS, REPO

PERSON = REPO / "demo" / "video" / "talking_head_1.mp4"
PERSON_TEXT = (
    "congressional district, and I'm currently in DC for my second week of new member orientation. "
    "In addition to learning where things are and how to use the tunnels,"
)
FPS = 25


def correlation(a, b):
    return float(np.corrcoef(np.asarray(a, float), np.asarray(b, float))[0, 1])


def known_controls(seconds=6.0, seed=3):
    rng = np.random.default_rng(seed)
    count = round(seconds * FPS)
    times = np.arange(count) / FPS
    controls = Controls.neutral(fps=FPS, frame_count=count)

    def wave(amplitude, frequency):
        return amplitude * np.tanh(1.6 * perlin_noise(times, frequency=frequency, rng=rng))

    controls.tracks["head_yaw"][:] = wave(2.8, 0.35)
    controls.tracks["head_pitch"][:] = wave(1.9, 0.4)
    syllables = np.clip(0.5 + 0.5 * np.sin(2 * np.pi * 3.5 * times), 0, 1) ** 2
    controls.tracks["mouth_open"][:] = spring_smooth(0.8 * syllables, fps=FPS, time_constant=0.02)
    left, right = blink_tracks(times=times, fps=FPS, phrase_ends=[], seed=seed)
    controls.tracks["blink_left"][:] = left
    controls.tracks["blink_right"][:] = right
    shut = [times[i] for i in range(1, count - 1) if left[i] >= 0.99 and left[i] >= left[i - 1]]
    return controls, shut


def render_film(painting, controls, out, size=320):
    from animation.engine.encode import FilmWriter
    from animation.engine.faces import find_faces
    from animation.engine.render import render_frames
    from animation.engine.render.rig import build_rig

    image, faces = find_faces(painting)
    rig = build_rig(image, faces[0], size=size)
    width, height = rig.size
    with FilmWriter(out, width=width, height=height, fps=FPS, frame_count=controls.frame_count, audio_path=None) as f:
        for frame in render_frames(rig, controls):
            f.write(frame)


@pytest.fixture(scope="module")
def closed_loop(tmp_path_factory):
    """A film the engine renders from known controls, and what the extractor reads back from it."""
    controls, shut = known_controls()
    film = tmp_path_factory.mktemp("loop") / "known.mp4"
    render_film(next(p for p in PAINTINGS if p.stem == "art_2"), controls, film)
    return controls, shut, extract_motion(film)


def test_it_recovers_known_head_motion_and_mouth_from_a_rendered_film(closed_loop):
    controls, _, motion = closed_loop
    assert motion.usable and motion.found_fraction == 1.0
    count = min(motion.frame_count, controls.frame_count)
    # The rig renders a turn as a head turning about the neck looks on screen: mostly travel.
    assert correlation(controls["head_yaw"][:count], motion["head_x"][:count]) >= 0.9
    assert correlation(controls["head_pitch"][:count], motion["head_y"][:count]) >= 0.8
    assert correlation(controls["mouth_open"][:count], motion["mouth_open"][:count]) >= 0.9


def test_it_finds_every_rendered_blink_within_two_frames_and_no_other(closed_loop):
    _, shut, motion = closed_loop
    found = [moment for moment, *_ in blink_events(motion)]
    assert len(shut) >= 2
    assert len(found) == len(shut)
    for moment in shut:
        assert min(abs(f - moment) for f in found) <= 2 / FPS


def test_lost_frames_are_bridged_smoothly():
    times = np.arange(10) / FPS
    values = np.array([0, 0, 0, 9, 9, 1, 1, 1, 7, 7], float)
    found = np.array([1, 1, 1, 0, 0, 1, 1, 1, 0, 0], bool)
    bridged = bridge_gaps(values, found, times)
    assert bridged[found].tolist() == values[found].tolist()
    assert 0 < bridged[3] < bridged[4] < 1  # eased from the last value to the next one
    assert bridged[8] == bridged[9] == 1  # the end holds the last value seen


def test_a_video_without_a_face_is_reported_and_the_film_falls_back_to_the_voice(tmp_path):
    from animation.engine.encode import FilmWriter
    from animation.engine.pipeline import animate

    video = tmp_path / "wall.mp4"
    rng = np.random.default_rng(0)
    with FilmWriter(video, width=128, height=128, fps=FPS, frame_count=25, audio_path=None) as film:
        for _ in range(25):
            film.write(rng.integers(90, 110, (128, 128, 3), dtype=np.uint8))
    motion = extract_motion(video)
    assert not motion.usable
    assert "no face" in motion.note
    assert motion.frame_count == 25

    out = tmp_path / "film.mp4"
    alignment = {"language": "en", "units": [{"text": "hello", "start": 0.1, "end": 0.6}], "phrases": []}
    result = animate(
        painting_path=PAINTINGS[0],
        audio_path=REPO / "demo/speech/english_radio.flac",
        alignment=alignment,
        out_path=out,
        size=128,
        motion=motion,
    )
    assert result["motion"]["source"] == "voice"
    assert "no face" in result["motion"]["note"]
    assert out.exists()


def test_an_unreadable_video_is_an_input_error(tmp_path):
    bad = tmp_path / "take.webm"
    bad.write_bytes(b"not a video at all")
    with pytest.raises(EngineInputError):
        extract_motion(bad)
    with pytest.raises(EngineInputError, match="no video track"):
        extract_motion(REPO / "demo/speech/english_radio.flac")


def synthetic_motion(seconds=4.0, fps=30.0):
    """Curves as capture makes them, for a person turning their head 20 degrees and blinking twice."""
    times = np.arange(round(seconds * fps)) / fps
    count = times.size
    blink = np.zeros(count)
    for moment in (1.0, 2.9):
        blink = np.maximum(blink, np.clip(1 - np.abs(times - moment) / 0.08, 0, 1))
    curves = {
        "head_yaw": 20 * np.sin(2 * np.pi * 0.3 * times) + 5,
        "head_pitch": 8 * np.sin(2 * np.pi * 0.5 * times),
        "head_roll": 30 * np.sin(2 * np.pi * 0.2 * times),
        "head_x": 0.1 * np.sin(2 * np.pi * 0.3 * times),
        "head_y": np.zeros(count),
        "eye_left": 0.3 * (1 - blink),
        "eye_right": 0.3 * (1 - blink),
        "blink_left": blink,
        "blink_right": blink,
        "brow_raise": np.where((times > 2) & (times < 2.5), 0.08, 0.0),
        "mouth_open": 0.3 * np.clip(np.sin(2 * np.pi * 2 * times), 0, 1),
        "mouth_width": np.full(count, 0.9),
        "mouth_round": np.zeros(count),
    }
    return MotionCurves(
        fps=fps,
        times=times,
        found=np.ones(count, bool),
        curves=curves,
        width=320,
        height=240,
        duration=seconds,
        usable=True,
        note="",
    )


def test_retargeting_stays_in_the_rigs_range_without_lag_and_keeps_blinks_crisp():
    motion = synthetic_motion()
    voice = Controls.neutral(fps=FPS, frame_count=100)
    voice.tracks["lips_pressed"][40:43] = 1.0  # an M the alignment placed
    controls, info = retarget(motion, voice=voice)
    times = np.arange(100) / FPS
    assert np.abs(controls["head_yaw"]).max() < HEAD_YAW_LIMIT_DEGREES
    assert np.abs(controls["head_pitch"]).max() < HEAD_PITCH_LIMIT_DEGREES
    assert np.abs(controls["head_roll"]).max() < HEAD_ROLL_LIMIT_DEGREES
    # The person's rest (their median pose) is the painting's rest; the turn follows without lag.
    person_yaw = np.interp(times, motion.times, motion["head_yaw"])
    lags = range(-5, 6)
    scores = [correlation(np.roll(person_yaw, lag)[10:-10], controls["head_yaw"][10:-10]) for lag in lags]
    assert lags[int(np.argmax(scores))] == 0
    assert max(scores) > 0.99
    # Two blinks, each closing fully on a frame near the person's moment.
    assert info["blinks"] == 2
    for moment in (1.0, 2.9):
        near = np.abs(times - moment) <= 2 / FPS
        assert controls["blink_left"][near].max() == pytest.approx(1.0)
        assert controls["blink_right"][near].max() == pytest.approx(1.0)
    assert controls["blink_left"][(times > 1.5) & (times < 2.5)].max() == 0.0
    assert controls["brow_raise"][(times > 2.1) & (times < 2.4)].min() > 0.5
    assert controls["brow_raise"][times < 1.5].max() < 0.05
    # The camera opens the mouth, the alignment's M closes it.
    assert controls["mouth_open"].max() > 0.4
    assert controls["mouth_open"][40:43].max() < 0.05


def test_the_cli_prints_a_real_persons_motion_and_animates_with_it(tmp_path):
    completed = subprocess.run(
        [sys.executable, "-m", "animation.engine", "motion", str(PERSON), "--json"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        check=True,
    )
    person = MotionCurves.from_dict(json.loads(completed.stdout))
    assert person.usable and person.found_fraction > 0.95
    assert person.frame_count == 200 and person.duration == pytest.approx(8.0, abs=0.05)
    person_blinks = [moment for moment, *_ in blink_events(person)]
    # The clip's blinks, labelled by eye on its frames (eyes closed at frames 28-36, 112-114, 170-172 of
    # 25 per second): each one found, near its moment, and nothing else taken for a blink.
    labelled = [1.28, 4.52, 6.86]
    assert len(person_blinks) == len(labelled), person_blinks
    assert all(abs(found - moment) <= 0.2 for found, moment in zip(person_blinks, labelled, strict=True))
    # The speaker turns their head by many degrees while talking.
    assert np.ptp(person["head_yaw"]) > 10

    out = tmp_path / "film.mp4"
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "animation.engine",
            "animate",
            str(PAINTINGS[0]),
            str(PERSON),  # the voice comes from the video itself
            "--motion-from",
            str(PERSON),
            "--text",
            PERSON_TEXT,
            "--language",
            "en",
            "--out",
            str(out),
            "--size",
            "256",
            "--curves",
            str(tmp_path / "curves.json"),
            "--json",
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
        check=True,
    )
    result = json.loads(completed.stdout)
    assert result["motion"]["source"] == "video"
    assert result["frames"] == 200
    controls = Controls(**json.loads((tmp_path / "curves.json").read_text()))
    times = np.arange(controls.frame_count) / controls.fps
    shut = times[controls["blink_left"] > 0.99]
    for moment in person_blinks:
        assert np.min(np.abs(shut - moment)) <= 2 / FPS
    person_yaw = np.interp(times, person.times, person["head_yaw"])
    assert correlation(person_yaw, controls["head_yaw"]) > 0.9


def test_a_phones_rotated_video_is_read_upright(tmp_path):
    from animation.engine.capture import decode_video
    from testkit.media import ffmpeg

    sideways = tmp_path / "sideways.mp4"
    tagged = tmp_path / "tagged.mp4"
    # Pixels stored turned a quarter to the left, as a phone held upright may store them, plus the
    # display matrix that tells players to turn them back.
    subprocess.run(
        [ffmpeg(), "-v", "error", "-y", "-i", str(PERSON), "-t", "0.5", "-vf", "transpose=2", "-an", str(sideways)],
        check=True,
    )
    subprocess.run(
        [ffmpeg(), "-v", "error", "-y", "-display_rotation:v:0", "-90", "-i", str(sideways), "-c", "copy", str(tagged)],
        check=True,
    )
    upright, _ = decode_video(PERSON)
    read, _ = decode_video(tagged)
    untagged, _ = decode_video(sideways)
    assert read[0].shape == upright[0].shape
    assert np.abs(read[0].astype(int) - upright[0].astype(int)).mean() < 5
    assert np.abs(untagged[0].astype(int) - upright[0].astype(int)).mean() > 30
