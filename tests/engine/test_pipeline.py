"""animate end to end: real paintings, real speech, real Whisper alignment, real ffmpeg."""

from __future__ import annotations

import json
import subprocess
import sys

import cv2
import numpy as np
import pytest

from animation.engine.encode import probe_film
from animation.engine.errors import EngineInputError
from animation.engine.pipeline import animate
from testkit.media import ENGLISH_CLIP, ENGLISH_CLIP_TEXT, PAINTINGS, REPO, ffmpeg


def decode_frames(path, width, height):
    raw = subprocess.run(
        [ffmpeg(), "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "bgr24", "-"],
        capture_output=True,
        check=True,
        timeout=120,
    ).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, height, width, 3)


@pytest.fixture(scope="module")
def film(tmp_path_factory):
    """One real run of the CLI on 8 s of English speech, shared by the checks below."""
    out = tmp_path_factory.mktemp("film") / "film.mp4"
    painting = next(p for p in PAINTINGS if p.stem == "art_10")
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "animation.engine",
            "animate",
            str(painting),
            str(ENGLISH_CLIP),
            "--text",
            ENGLISH_CLIP_TEXT,
            "--language",
            "en",
            "--out",
            str(out),
            "--size",
            "256",
            "--curves",
            str(out.with_suffix(".json")),
            "--json",
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
        check=True,
    )
    result = json.loads(completed.stdout)
    info = probe_film(out)
    frames = decode_frames(out, info["width"], info["height"])
    curves = json.loads(out.with_suffix(".json").read_text())
    return {"out": out, "result": result, "info": info, "frames": frames, "curves": curves}


def test_the_film_has_every_frame_and_the_recordings_length(film):
    result, info = film["result"], film["info"]
    assert result["frames"] == round(8.0 * 25) == len(film["frames"])
    assert info["video_codec"] == "h264" and info["pixel_format"] == "yuv420p" and info["audio_codec"] == "aac"
    assert abs(info["duration"] - 8.0) < 0.05
    assert set(result["seconds"]) == {"align", "faces", "motion", "render", "encode", "total"}
    assert result["device"] == "cpu" and result["face"] == 0


def test_poster_and_karaoke_subtitles_are_written_beside_the_film(film):
    poster = cv2.imread(str(film["out"].with_suffix(".jpg")))
    assert poster.shape == film["frames"][0].shape
    vtt = film["out"].with_suffix(".vtt").read_text()
    assert vtt.startswith("WEBVTT") and "-->" in vtt and "Wisconsin" in vtt


def test_the_mouth_moves_during_speech_and_rests_in_silence(film):
    frames = film["frames"].astype(np.float32)
    curves = film["curves"]
    fps = curves["fps"]
    # The mouth region, found on the film itself: where frames vary most below the middle of the face.
    variation = frames.std(axis=0).sum(2)
    height = variation.shape[0]
    mouth_row, mouth_col = np.unravel_index(
        np.argmax(cv2.GaussianBlur(variation, (0, 0), 3)[height // 3 :]), variation.shape
    )
    mouth_row += height // 3
    half = max(4, height // 24)
    region = frames[:, mouth_row - half : mouth_row + half, mouth_col - 2 * half : mouth_col + 2 * half]
    # Frame-to-frame change: a speaking mouth keeps moving, a resting one only drifts with the head.
    change = np.concatenate([[0.0], np.abs(np.diff(region, axis=0)).mean(axis=(1, 2, 3))])
    opening = np.array(curves["tracks"]["mouth_open"])
    speaking = opening > 0.2
    silent = np.convolve(opening < 0.02, np.ones(3), "same") == 3  # resting, and its neighbours too
    assert speaking.sum() > 25 and silent.sum() > 3
    assert change[speaking].mean() > 3 * change[silent].mean() + 0.5
    assert len(frames) / fps == pytest.approx(8.0)


def test_the_painting_border_stays_still(film):
    frames = film["frames"].astype(np.int16)
    border = np.concatenate(
        [
            frames[:, :3].reshape(len(frames), -1),
            frames[:, -3:].reshape(len(frames), -1),
            frames[:, :, :3].reshape(len(frames), -1),
            frames[:, :, -3:].reshape(len(frames), -1),
        ],
        1,
    )
    # H.264 may shimmer by a level or two; a moving edge would change by tens.
    assert np.abs(border - border[0]).mean() < 0.5


def test_bad_requests_fail_with_a_clear_error(tmp_path):
    alignment = {"language": "en", "units": [{"text": "hello", "start": 0.1, "end": 0.5}], "phrases": []}
    painting = next(p for p in PAINTINGS if p.stem == "art_12")
    with pytest.raises(EngineInputError, match="face 4 does not exist"):
        animate(
            painting_path=painting,
            audio_path=ENGLISH_CLIP,
            alignment=alignment,
            out_path=tmp_path / "a.mp4",
            face_index=4,
        )
    broken = tmp_path / "voice.wav"
    broken.write_bytes(b"RIFF0000WAVEfmt garbage")
    with pytest.raises(EngineInputError):
        animate(painting_path=painting, audio_path=broken, alignment=alignment, out_path=tmp_path / "b.mp4")
    assert not (tmp_path / "a.mp4").exists() and not (tmp_path / "b.mp4").exists()


def test_the_film_writer_keeps_each_frame_as_it_was_when_written(tmp_path):
    from animation.engine.encode import FilmWriter

    out = tmp_path / "levels.mp4"
    frame = np.zeros((64, 96, 3), np.uint8)
    levels = [20 + 9 * index for index in range(24)]
    with FilmWriter(out, width=96, height=64, fps=25, frame_count=len(levels), audio_path=None) as film:
        for level in levels:
            # One array, rewritten at once: a writer that kept a reference instead of the pixels would
            # encode later frames' levels.
            frame[...] = level
            film.write(frame)
    decoded = decode_frames(out, 96, 64)
    assert len(decoded) == len(levels)
    # The colour conversion offsets every level alike by a few; a frame holding another frame's pixels
    # would stand out by 9 levels or more.
    errors = decoded.reshape(len(levels), -1).mean(1) - levels
    assert np.ptp(errors) < 2.5


def test_faces_found_when_the_painting_was_added_make_the_same_film_without_looking_again(tmp_path, monkeypatch):
    """A render given the stored faces never runs detection, and frames exactly what detection would."""
    from animation.engine import faces as faces_module
    from animation.engine import pipeline

    painting = next(p for p in PAINTINGS if p.stem == "art_10")
    stored = [face.to_dict() for face in faces_module.detect_faces(faces_module.load_painting(painting))]
    alignment = {"language": "en", "units": [{"text": "hello", "start": 0.1, "end": 0.5}], "phrases": []}
    arguments = {"painting_path": painting, "audio_path": ENGLISH_CLIP, "alignment": alignment, "size": 128, "fps": 5}
    detected = animate(out_path=tmp_path / "detected.mp4", curves_path=tmp_path / "detected.json", **arguments)

    def no_detection(*_arguments, **_keywords):
        raise AssertionError("the render looked for faces although they were given")

    monkeypatch.setattr(pipeline, "detect_faces", no_detection)
    given = animate(out_path=tmp_path / "given.mp4", curves_path=tmp_path / "given.json", faces=stored, **arguments)
    assert given["frames"] == detected["frames"]
    info = probe_film(tmp_path / "detected.mp4")
    assert (probe_film(tmp_path / "given.mp4")["width"], probe_film(tmp_path / "given.mp4")["height"]) == (
        info["width"],
        info["height"],
    )
    first = decode_frames(tmp_path / "detected.mp4", info["width"], info["height"])
    second = decode_frames(tmp_path / "given.mp4", info["width"], info["height"])
    # The stored points are rounded to 0.1 px: the films agree to within a grey level or so.
    assert np.abs(first.astype(int) - second.astype(int)).mean() < 1.0
    with pytest.raises(EngineInputError, match="face 3 does not exist"):
        animate(out_path=tmp_path / "c.mp4", faces=stored[:1], face_index=3, **{**arguments})
