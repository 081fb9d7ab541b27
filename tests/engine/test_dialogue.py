"""Dialogue films (issue #22): two figures of one painting speak in turn, each with its own reader's voice.

Real paintings (two demo portraits pasted on one sheet of paper, their faces found by ``find_faces``), real
voices (the Chinese poem and the English radio clip, the English one recorded 20 dB quieter), real alignments
(Whisper base and tiny.en), real rigs, real ffmpeg. Everything is measured on the decoded films.
"""

from __future__ import annotations

import json
import re
import subprocess

import cv2
import numpy as np
import pytest

from animation.engine.align import align_text
from animation.engine.audio import (
    SPEECH_SAMPLE_RATE,
    VOICE_SAMPLE_RATE,
    decode_audio,
    loudness_envelope,
    measure_audio,
    write_wav,
)
from animation.engine.controls import Controls
from animation.engine.dialogue import Line, Turn, animate_dialogue, plan_camera
from animation.engine.errors import EngineInputError
from animation.engine.faces import face_from_landmarks, find_faces
from animation.engine.render import render_frames
from animation.engine.render.ensemble import render_ensemble
from animation.engine.render.rig import build_rig
from testkit.media import CHINESE_POEM, CHINESE_POEM_TEXT, ENGLISH_CLIP, ENGLISH_CLIP_TEXT, PAINTINGS, ffmpeg

FPS = 25
NAMES = ("李白", "Reader")
QUIETER_DB = 20.0


def painting(stem: str):
    return next(p for p in PAINTINGS if p.stem == stem)


def decode(path, width: int, height: int, pixel_format: str = "gray") -> np.ndarray:
    raw = subprocess.run(
        [ffmpeg(), "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", pixel_format, "-"],
        capture_output=True,
        check=True,
        timeout=120,
    ).stdout
    channels = {"gray": 1, "bgr24": 3}[pixel_format]
    return np.frombuffer(raw, np.uint8).reshape(-1, height, width, channels).squeeze(-1 if channels == 1 else ())


def soundtrack_of(path) -> np.ndarray:
    pcm = subprocess.run(
        [
            ffmpeg(),
            "-v",
            "error",
            "-i",
            str(path),
            "-vn",
            "-f",
            "f32le",
            "-ac",
            "1",
            "-ar",
            str(VOICE_SAMPLE_RATE),
            "-",
        ],
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout
    return np.frombuffer(pcm, "<f4")


def smoothed(values: np.ndarray) -> np.ndarray:
    # Over three frames: a syllable's loudness against its mouth shape. Frame by frame, visemes close the
    # lips inside loud syllables (m, b, p) where the loudness envelope does not dip.
    return cv2.GaussianBlur(
        np.asarray(values, np.float64).reshape(1, -1), (0, 0), 1.0, borderType=cv2.BORDER_REPLICATE
    )[0]


@pytest.fixture(scope="module")
def sheet(tmp_path_factory):
    """Two figures on one painting: two demo portraits pasted on grained paper with brush strokes, the
    faces found on the whole sheet, left to right."""
    rng = np.random.default_rng(22)
    height, width = 640, 1280
    paper = np.array([205, 222, 232], np.float32) + rng.normal(0, 5, (height, width, 1))
    image = cv2.GaussianBlur(paper, (0, 0), 0.8).clip(0, 255).astype(np.uint8)
    for x in range(30, width, 160):
        cv2.line(image, (x, 25), (x + 90, 95), (70, 75, 80), 3, cv2.LINE_AA)
    for stem, x, y, scale in (("art_10", 80, 120, 0.9), ("art_15", 780, 130, 0.85)):
        portrait = cv2.imread(str(painting(stem)))
        small = cv2.resize(portrait, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        image[y : y + small.shape[0], x : x + small.shape[1]] = small
    path = tmp_path_factory.mktemp("sheet") / "two_figures.png"
    cv2.imwrite(str(path), image)
    image, found = find_faces(path)
    assert len(found) == 2
    faces = [face.to_dict() for face in sorted(found, key=lambda face: face.box[0])]
    return {"path": path, "image": image, "faces": faces}


@pytest.fixture(scope="module")
def turns(tmp_path_factory):
    """Li Bai's couplets around an English line read by someone whose microphone was 20 dB quieter."""
    poem = align_text(CHINESE_POEM, text=CHINESE_POEM_TEXT, language="zh").to_dict()
    radio = align_text(ENGLISH_CLIP, text=ENGLISH_CLIP_TEXT, language="en", model="tiny.en").to_dict()
    quiet = tmp_path_factory.mktemp("voices") / "quiet_reader.wav"
    samples = decode_audio(ENGLISH_CLIP, sample_rate=VOICE_SAMPLE_RATE)
    write_wav(quiet, samples * 10 ** (-QUIETER_DB / 20), VOICE_SAMPLE_RATE)
    return [
        Turn(0, CHINESE_POEM, poem, 0.0, 2.5, "床前明月光，疑是地上霜。"),
        Turn(1, quiet, radio, 0.0, 2.95, "The holidays are a time of celebrating with loved ones,"),
        Turn(0, CHINESE_POEM, poem, 2.7, 5.2, "举头望明月，低头思故乡。"),
    ]


def film(sheet, turns, folder, **options):
    out = folder / "dialogue.mp4"
    result = animate_dialogue(
        painting_path=sheet["path"],
        faces=sheet["faces"],
        turns=turns,
        out_path=out,
        speaker_names=NAMES,
        curves_path=folder / "curves.json",
        **options,
    )
    curves = json.loads((folder / "curves.json").read_text())
    return {"out": out, "result": result, "curves": curves, "grey": decode(out, result["width"], result["height"])}


@pytest.fixture(scope="module")
def wide(sheet, turns, tmp_path_factory):
    return film(sheet, turns, tmp_path_factory.mktemp("wide"), size=512, camera="wide")


def to_film(points, view, width: int) -> np.ndarray:
    """Painting pixels -> film pixels for a film showing ``view`` (x0, y0, x1, y1) ``width`` pixels wide."""
    return (np.asarray(points, np.float64) - view[:2]) * width / (view[2] - view[0])


def turn_frames(result, face: int, frame_count: int) -> np.ndarray:
    inside = np.zeros(frame_count, bool)
    for line in result["lines"]:
        if line["speaker"] == face:
            inside[round(line["start"] * FPS) : round(line["end"] * FPS)] = True
    return inside


def spoken_frames(result, face: int, frame_count: int) -> np.ndarray:
    """Frames from a line's first word to its last, of the lines ``face`` says."""
    inside = np.zeros(frame_count, bool)
    for line in result["lines"]:
        if line["speaker"] == face:
            inside[int(line["first_word"] * FPS) : int(np.ceil(line["last_word"] * FPS))] = True
    return inside


def voice_envelope(turns, result, face: int, frame_count: int) -> np.ndarray:
    """The loudness of ``face``'s own voice per film frame, measured here from its recordings' cuts."""
    envelope = np.zeros(frame_count)
    for turn, line in zip(turns, result["lines"], strict=True):
        if turn.speaker != face:
            continue
        samples = decode_audio(turn.audio_path, sample_rate=SPEECH_SAMPLE_RATE)
        cut = samples[round(turn.start * SPEECH_SAMPLE_RATE) : round(turn.end * SPEECH_SAMPLE_RATE)]
        loudness = loudness_envelope(cut, SPEECH_SAMPLE_RATE, fps=FPS)
        first = round(line["start"] * FPS)
        envelope[first : first + loudness.size] = loudness[: frame_count - first]
    return envelope


def mouth_change(grey: np.ndarray, face, view, width: int) -> np.ndarray:
    """How far the mouth has moved from the first frame (at rest), per frame: the mean grey change over the
    lips and chin, at the best whole-pixel shift within a few pixels, so the head's drift does not count."""
    mouth = to_film(face["landmarks"]["mouth_outer"], view, width)
    (x0, y0), (x1, y1) = mouth.min(0), mouth.max(0)
    across = x1 - x0
    rows = slice(int(y0 - 0.2 * across), int(y1 + 0.5 * across) + 1)
    cols = slice(int(x0 - 0.15 * across), int(x1 + 0.15 * across) + 1)
    grey = grey.astype(np.float32)
    reference = grey[0, rows, cols]
    best = np.full(len(grey), np.inf)
    reach = 3
    for dy in range(-reach, reach + 1):
        for dx in range(-reach, reach + 1):
            moved = grey[:, rows.start + dy : rows.stop + dy, cols.start + dx : cols.stop + dx]
            best = np.minimum(best, np.abs(moved - reference).mean(axis=(1, 2)))
    return best


# ---------------------------------------------------------------------------------------------------
# 1. Each figure speaks with its own voice and listens with its mouth shut


def test_each_figure_moves_its_mouth_with_its_own_voice_and_keeps_it_shut_while_the_other_speaks(wide, sheet, turns):
    grey, result = wide["grey"], wide["result"]
    view = np.array(result["camera"]["wide"], np.float64)
    frames = len(grey)
    for face, stored in enumerate(sheet["faces"]):
        change = smoothed(mouth_change(grey, stored, view, result["width"]))
        own = turn_frames(result, face, frames)
        envelope = smoothed(voice_envelope(turns, result, face, frames))
        r = np.corrcoef(change[own], envelope[own])[0, 1]
        assert r >= 0.6, (face, r)
        speaking = np.percentile(change[own], 95)
        other = spoken_frames(result, 1 - face, frames)
        assert speaking > 12, (face, speaking)
        assert change[other].max() < 0.3 * speaking, (face, change[other].max(), speaking)
    # The controls say the same: a listener's jaw and lips are at rest.
    for face, curves in enumerate(wide["curves"]["faces"]):
        other = spoken_frames(result, 1 - face, frames)
        for name in ("mouth_open", "teeth", "lips_pressed", "mouth_round"):
            assert np.abs(np.asarray(curves["tracks"][name])[other]).max() < 0.01, (face, name)


# ---------------------------------------------------------------------------------------------------
# 2. The painting around the figures does not move


def test_the_painting_outside_both_figures_is_still_frame_after_frame(wide, sheet):
    result = wide["result"]
    frames = decode(wide["out"], result["width"], result["height"], "bgr24").astype(np.float32)
    view = np.array(result["camera"]["wide"], np.float64)
    height, width = frames.shape[1:3]
    outside = np.ones((height, width), bool)
    for stored in sheet["faces"]:
        x, y = to_film(stored["box"][:2], view, width)
        w, h = np.asarray(stored["box"][2:]) * width / (view[2] - view[0])
        # The head and, below it, the shoulders that breathe: the face's box grown by 0.9 of itself.
        outside[max(0, int(y - 0.9 * h)) :, max(0, int(x - 0.9 * w)) : int(x + 1.9 * w) + 1] = False
    assert outside.mean() > 0.12
    spread = frames.std(axis=0).max(axis=2)[outside]
    # The paper's grain and strokes are there to be moved if anything moved them.
    assert frames[0][outside].std() > 4
    # Encoding noise only: a level or two on a few stroke edges (the render itself leaves these pixels
    # untouched: test_apart_each_figure_renders_exactly_as_it_would_alone...).
    assert spread.max() < 3.0 and np.percentile(spread, 99.9) < 1.0 and spread.mean() < 0.05, (
        spread.max(),
        np.percentile(spread, 99.9),
        spread.mean(),
    )
    # And inside, the figures do move.
    assert frames.std(axis=0).max(axis=2)[~outside].max() > 30


# ---------------------------------------------------------------------------------------------------
# 3. The camera is on the new speaker before the first word


@pytest.fixture(scope="module", params=["pan", "cut"])
def moving(request, sheet, turns, tmp_path_factory):
    made = film(sheet, turns, tmp_path_factory.mktemp(request.param), size=256, camera=request.param, aspect="1:1")
    made["camera"] = request.param
    return made


def test_the_camera_moves_to_the_new_speaker_in_the_silence_and_lands_before_the_first_word(moving, sheet, turns):
    result, grey = moving["result"], moving["grey"].astype(np.float32)
    width, height = result["width"], result["height"]
    assert (width, height) == (256, 256)
    image = cv2.cvtColor(sheet["image"], cv2.COLOR_BGR2GRAY)

    def shot(view):
        x0, y0, x1, y1 = view
        return cv2.resize(image[y0:y1, x0:x1], (width, height), interpolation=cv2.INTER_AREA).astype(np.float32)

    shots = result["camera"]["shots"]
    assert [s["speaker"] for s in shots] == [0, 1, 0]
    for before, after, previous, line in zip(shots, shots[1:], result["lines"], result["lines"][1:], strict=False):
        old, new = shot(before["view"]), shot(after["view"])
        apart = np.abs(old - new).mean()
        assert apart > 20
        distance_old = np.abs(grey - old).mean(axis=(1, 2))
        distance_new = np.abs(grey - new).mean(axis=(1, 2))
        # Measured on the frames: on a shot when the frame is that view of the painting, give or take the
        # figures' own motion and the encoding.
        on_old, on_new = distance_old < 0.2 * apart, distance_new < 0.2 * apart
        first_word = int(line["first_word"] * FPS)  # the frame in which the new speaker's first word starts
        last_word = int(previous["last_word"] * FPS)  # the frame in which the last speaker's last word ends
        # On the speaker until its last word is said: the last frame of the run on the old view from there.
        run = on_old[last_word : first_word + 1]
        assert run[0], "the camera left before the last word was said"
        left = last_word + (int(np.argmin(run)) - 1 if not run.all() else run.size - 1)
        # On the next one before its first word, and there to stay.
        arrived = next((i for i in range(last_word, first_word + 1) if on_new[i : first_word + 1].all()), None)
        assert arrived is not None and arrived < first_word, (arrived, first_word)
        # (The last steps of an eased pan are a pixel or two: the frames may read as arrived a frame early.)
        assert after["lands"] - 2 <= arrived <= after["lands"]
        between = arrived - left - 1
        if moving["camera"] == "pan":
            assert between >= 3, between
            # A pan passes through the painting between the two shots: each step a little further on.
            middle = grey[(left + arrived) // 2]
            assert np.abs(middle - old).mean() > 0.3 * apart and np.abs(middle - new).mean() > 0.3 * apart
        else:
            assert between == 0
        print(f"{moving['camera']}: lands {(first_word - arrived) / FPS:.2f} s before the first word")


# ---------------------------------------------------------------------------------------------------
# 4. Both figures blink, the one listening too


def test_both_figures_blink_and_the_listener_does_so_while_the_other_speaks(wide, sheet):
    grey, result = wide["grey"].astype(np.float32), wide["result"]
    view = np.array(result["camera"]["wide"], np.float64)
    frames = len(grey)
    for face, stored in enumerate(sheet["faces"]):
        tracks = wide["curves"]["faces"][face]["tracks"]
        shut = np.minimum(tracks["blink_left"], tracks["blink_right"]) > 0.9
        opened = np.maximum(tracks["blink_left"], tracks["blink_right"]) < 0.01
        eyes = np.zeros(grey.shape[1:], np.uint8)
        for side in ("left_eye", "right_eye"):
            points = to_film(stored["landmarks"][side], view, result["width"])
            cv2.fillPoly(eyes, [np.round(points).astype(np.int32)], 1)
        eyes = cv2.dilate(eyes, np.ones((3, 3), np.uint8)) > 0
        blinks = []
        for index in np.flatnonzero(shut):
            near = [i for i in range(index - 8, index + 9) if 0 <= i < frames and opened[i]]
            darkest_open = np.median([np.percentile(grey[i][eyes], 10) for i in near])
            # An open eye's darkest part is its iris and pupil; a shut one shows lid.
            if np.percentile(grey[index][eyes], 10) > darkest_open + 10:
                blinks.append(index)
        assert len(blinks) >= 2, (face, blinks)
        # At least one while not speaking: listening, or in the pause after its own line.
        own = spoken_frames(result, face, frames)
        assert any(not own[i] for i in blinks), (face, blinks)
    # The listener's blinks come at the speaker's pauses, not in step with the speaker's own.
    left = [np.flatnonzero(np.asarray(c["tracks"]["blink_left"]) > 0.9) for c in wide["curves"]["faces"]]
    assert not set(left[0]) & set(left[1])


# ---------------------------------------------------------------------------------------------------
# 5. Sound and subtitles


def test_the_soundtrack_is_the_cuts_and_gaps_at_one_loudness_and_each_line_has_its_speakers_cues(wide, turns):
    result = wide["result"]
    expected = sum(turn.end - turn.start for turn in turns) + 0.3 * (len(turns) - 1)
    sound = soundtrack_of(wide["out"])
    assert abs(sound.size / VOICE_SAMPLE_RATE - expected) <= 1 / FPS
    assert abs(result["frames"] / FPS - expected) <= 1 / FPS
    # Each line where it was put, the gaps silent, the quiet reader brought up to the others.
    levels = []
    for line in result["lines"]:
        part = sound[round(line["start"] * VOICE_SAMPLE_RATE) : round(line["end"] * VOICE_SAMPLE_RATE)]
        levels.append(measure_audio(part, VOICE_SAMPLE_RATE).loudness_lufs)
    for line, following in zip(result["lines"], result["lines"][1:], strict=False):
        gap = sound[
            round((line["end"] + 0.03) * VOICE_SAMPLE_RATE) : round((following["start"] - 0.03) * VOICE_SAMPLE_RATE)
        ]
        assert np.sqrt(np.mean(gap**2)) < 1e-3
    recorded = [
        measure_audio(
            decode_audio(turn.audio_path, sample_rate=VOICE_SAMPLE_RATE)[
                round(turn.start * VOICE_SAMPLE_RATE) : round(turn.end * VOICE_SAMPLE_RATE)
            ],
            VOICE_SAMPLE_RATE,
        ).loudness_lufs
        for turn in turns
    ]
    assert max(recorded) - min(recorded) > 8, recorded
    assert max(levels) - min(levels) < 3.0, (levels, recorded)

    vtt = wide["out"].with_suffix(".vtt").read_text(encoding="utf-8")
    assert vtt.startswith("WEBVTT\n")
    cues = re.findall(r"(\d\d):(\d\d):(\d\d\.\d{3}) --> (\d\d):(\d\d):(\d\d\.\d{3})\n<v ([^>]+)>(.*)</v>\n", vtt)
    assert len(cues) == vtt.count("-->") >= 3
    groups: list[list[tuple]] = []
    for cue in cues:
        if not groups or groups[-1][0][6] != cue[6]:
            groups.append([])
        groups[-1].append(cue)
    assert [group[0][6] for group in groups] == [NAMES[line["speaker"]] for line in result["lines"]]
    for group, line in zip(groups, result["lines"], strict=True):
        for cue in group:
            start = int(cue[0]) * 3600 + int(cue[1]) * 60 + float(cue[2])
            end = int(cue[3]) * 3600 + int(cue[4]) * 60 + float(cue[5])
            assert line["start"] - 1e-3 <= start < end <= line["end"] + 1e-3
    text = "".join(re.sub(r"<[^>]+>", "", cue[7]) for cue in groups[0] + groups[2])
    assert text == "床前明月光，疑是地上霜。举头望明月，低头思故乡。"
    assert "celebrating" in groups[1][0][7] and "Wisconsin" not in vtt
    # The poster shows both figures at rest.
    poster = cv2.imread(str(wide["out"].with_suffix(".jpg")))
    assert poster.shape[:2] == (result["height"], result["width"])


# ---------------------------------------------------------------------------------------------------
# Errors a person can fix


def test_it_says_what_is_wrong_with_the_turns(sheet, turns, tmp_path):
    def attempt(**changes):
        options = {
            "painting_path": sheet["path"],
            "faces": sheet["faces"],
            "turns": turns,
            "out_path": tmp_path / "film.mp4",
            "size": 128,
            **changes,
        }
        with pytest.raises(EngineInputError) as raised:
            animate_dialogue(**options)
        return str(raised.value)

    poem = turns[0].alignment
    assert "at least one turn" in attempt(turns=[])
    message = attempt(turns=[turns[0], Turn(2, CHINESE_POEM, poem)])
    assert "turn 2" in message and "figure 2" in message and "0 to 1" in message
    message = attempt(turns=[Turn(0, CHINESE_POEM, poem, 4.0, 9.0)])
    assert "turn 1" in message and "outside" in message and "5.47 s long" in message
    assert "outside" in attempt(turns=[Turn(0, CHINESE_POEM, poem, 6.0)])
    assert "end after the start" in attempt(turns=[Turn(0, CHINESE_POEM, poem, 2.0, 1.0)])
    assert "camera 'zoom'" in attempt(camera="zoom")
    assert "faces" in attempt(faces=[])
    assert not (tmp_path / "film.mp4").exists()


# ---------------------------------------------------------------------------------------------------
# Rendering several rigs into one frame


def _neighbours(distance: float):
    """The same demo portrait twice on one sheet, ``distance`` face widths apart, and both faces."""
    portrait, found = find_faces(painting("art_10"))
    face = found[0]
    scale = 90 / face.box[2]
    small = cv2.resize(portrait, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    offsets = [40, 40 + round(distance * 90)]
    sheet = np.full((small.shape[0] + 80, offsets[1] + small.shape[1] + 40, 3), (205, 222, 232), np.uint8)
    faces = []
    for index, x in enumerate(offsets):
        sheet[40 : 40 + small.shape[0], x : x + small.shape[1]] = small
        landmarks = {name: (points * scale + [x, 40]).tolist() for name, points in face.landmarks.items()}
        faces.append(face_from_landmarks(landmarks, sheet.shape, index=index))
    return sheet, faces


def _controls(frames: int, **values: float) -> Controls:
    controls = Controls.neutral(fps=FPS, frame_count=frames)
    for name, value in values.items():
        controls.tracks[name][:] = value
    controls.tracks["head_yaw"][:] = np.linspace(-1.5, 1.5, frames)
    return controls


def test_apart_each_figure_renders_exactly_as_it_would_alone_and_the_rest_is_the_painting():
    sheet, faces = _neighbours(4.0)
    crop = (0, 0, sheet.shape[1], sheet.shape[0])
    rigs = [build_rig(sheet, face, size=480, crop=crop) for face in faces]
    assert not rigs[0].roi.clip(rigs[1].roi).shape[1] > 0
    controls = [_controls(6, mouth_open=0.7), _controls(6, blink_left=1.0, blink_right=1.0)]
    together = [frame.copy() for frame in render_ensemble(rigs, controls, front=[0, 0, 0, 1, 1, 1])]
    alone = [[frame.copy() for frame in render_frames(rig, c)] for rig, c in zip(rigs, controls, strict=True)]
    outside = np.ones(rigs[0].still.shape[:2], bool)
    for rig, frames in zip(rigs, alone, strict=True):
        roi = rig.roi
        outside[roi.y0 : roi.y1, roi.x0 : roi.x1] = False
        for mine, single in zip(together, frames, strict=True):
            assert np.array_equal(mine[roi.y0 : roi.y1, roi.x0 : roi.x1], single[roi.y0 : roi.y1, roi.x0 : roi.x1])
    for frame in together:
        assert np.array_equal(frame[outside], rigs[0].still[outside])
    # Rigs framed apart cannot share a frame.
    with pytest.raises(ValueError, match="one framing"):
        render_ensemble([rigs[0], build_rig(sheet, faces[1], size=400, crop=crop)], controls)


def test_close_figures_keep_each_others_motion_where_their_regions_overlap():
    sheet, faces = _neighbours(1.35)
    crop = (0, 0, sheet.shape[1], sheet.shape[0])
    rigs = [build_rig(sheet, face, size=400, crop=crop) for face in faces]
    speaker, listener = rigs
    # The listener's nearer eye lies inside the speaker's region: copying the speaker's region whole would
    # wipe the listener's blink there.
    eyes = [listener.face.landmarks[side] for side in ("left_eye", "right_eye")]
    nearer = min(eyes, key=lambda points: points[:, 0].mean())
    region = speaker.roi
    assert region.x0 <= nearer[:, 0].min() and nearer[:, 0].max() < region.x1
    assert region.y0 <= nearer[:, 1].min() and nearer[:, 1].max() < region.y1
    # The speaker's head held still (its fields reach over the listener's eye only when it turns).
    controls = [_controls(3, mouth_open=0.8), _controls(3, blink_left=1.0, blink_right=1.0)]
    controls[0].tracks["head_yaw"][:] = 0.0
    frames = [frame.copy() for frame in render_ensemble(rigs, controls, front=[0, 0, 0])]
    blinking = next(iter(render_frames(listener, controls[1]))).copy()
    talking = next(iter(render_frames(speaker, controls[0]))).copy()
    for points in eyes:
        mask = np.zeros(listener.still.shape[:2], np.uint8)
        cv2.fillPoly(mask, [np.round(points).astype(np.int32)], 1)
        shut = mask > 0
        assert np.abs(frames[0][shut].astype(int) - listener.still[shut].astype(int)).mean() > 15
        assert np.abs(frames[0][shut].astype(int) - blinking[shut].astype(int)).mean() < 3
    mouth = np.zeros(speaker.still.shape[:2], np.uint8)
    cv2.fillPoly(mouth, [np.round(speaker.face.landmarks["mouth_outer"]).astype(np.int32)], 1)
    opened = mouth > 0
    # The speaker, drawn last, is whole.
    assert np.array_equal(frames[0][opened], talking[opened])


def test_the_torch_back_end_composes_the_same_frames():
    pytest.importorskip("torch")
    sheet, faces = _neighbours(1.35)
    crop = (0, 0, sheet.shape[1], sheet.shape[0])
    rigs = [build_rig(sheet, face, size=320, crop=crop) for face in faces]
    controls = [_controls(4, mouth_open=0.6), _controls(4, blink_left=0.8, blink_right=0.8)]
    cpu = [frame.copy() for frame in render_ensemble(rigs, controls, front=[0, 1, 0, 1])]
    torch = [frame.copy() for frame in render_ensemble(rigs, controls, front=[0, 1, 0, 1], backend="torch")]
    for first, second in zip(cpu, torch, strict=True):
        assert np.abs(first.astype(int) - second.astype(int)).mean() < 0.5


# ---------------------------------------------------------------------------------------------------
# The camera's plan on a scene: small figures, no aspect asked


def test_small_figures_in_a_scene_get_head_and_shoulders_shots_and_a_wide_shot_of_both():
    shape = (1200, 4000, 3)
    boxes = [[900, 500, 80, 90], [2000, 520, 70, 80]]

    def line(turn, speaker, start, end):
        return Line(turn, speaker, NAMES[speaker], start, end, start + 0.3, end - 0.4, {}, "", 0.0)

    lines = [line(0, 0, 0.0, 3.0), line(1, 1, 3.3, 6.0), line(2, 1, 6.3, 8.0), line(3, 0, 8.3, 10.0)]
    frames = 250
    plans = {
        mode: plan_camera(shape, boxes, lines, mode=mode, aspect=None, size=512, fps=FPS, frame_count=frames)
        for mode in ("wide", "cut", "pan")
    }
    cut = plans["cut"]
    assert (cut.width, cut.height) == (512, 288)
    for crop, (x, y, w, h) in zip(cut.crops, boxes, strict=True):
        assert abs((crop[2] - crop[0]) / (crop[3] - crop[1]) - 16 / 9) < 0.01
        assert crop[0] < x and x + w < crop[2] and crop[1] < y and y + h < crop[3]
    wide = plans["wide"].wide
    assert all(wide[0] <= c[0] and c[2] <= wide[2] for c in cut.crops)
    assert np.all(plans["wide"].views == wide)
    for mode in ("cut", "pan"):
        shots = plans[mode].shots
        # No move between two lines of the same speaker; a move to each new one, landed before its first word.
        assert [shot["move"] for shot in shots] == ["none", mode, "none", mode]
        for shot in shots[1:]:
            assert shot["lands"] <= shot["first_word"]
            assert np.array_equal(plans[mode].views[shot["lands"]], cut.crops[shot["speaker"]])
        views = plans[mode].views
        moving = np.flatnonzero(np.any(np.diff(views, axis=0) != 0, axis=1)) + 1
        # Nothing moves while anyone is speaking.
        for line_ in lines:
            during = (moving >= line_.first_word * FPS) & (moving <= line_.last_word * FPS)
            assert not during.any(), (mode, line_.turn)


# ---------------------------------------------------------------------------------------------------
# Subtitles and names


def test_each_line_is_named_by_its_turn_or_its_figure_and_an_unaligned_line_still_gets_its_text():
    from animation.engine.align.subtitles import dialogue_to_webvtt
    from animation.engine.dialogue import place_turns

    poem = {
        "language": "zh",
        "units": [{"text": "床", "start": 0.2, "end": 0.4}, {"text": "前", "start": 0.4, "end": 0.6}],
        "phrases": [{"start": 0.2, "end": 0.6}],
    }
    turns = [
        Turn(0, CHINESE_POEM, poem, 0.0, 1.0),
        Turn(1, CHINESE_POEM, {"language": "zh", "units": [], "phrases": []}, 1.0, 2.0, "明月光", name="黛玉"),
        Turn(0, CHINESE_POEM, poem, 0.0, 1.0, name=" 宝玉 <正> "),
    ]
    timeline = place_turns(turns, face_count=2, gap_seconds=0.5, names=["Figure A"])
    assert [line.name for line in timeline.lines] == ["Figure A", "黛玉", "宝玉 <正>"]
    assert [round(line.start, 3) for line in timeline.lines] == [0.0, 1.5, 3.0]
    # The unaligned line has no words: the camera and subtitles use its whole cut.
    assert timeline.lines[1].first_word is None and timeline.lines[2].first_word == pytest.approx(3.2)
    vtt = dialogue_to_webvtt(
        [
            (line.name, {**line.alignment, "text": line.text, "start": line.speech_start, "end": line.speech_end})
            for line in timeline.lines
        ]
    )
    blocks = [block.splitlines() for block in vtt.strip().split("\n\n")[1:]]
    assert [block[0] for block in blocks] == ["1", "2", "3"]
    assert blocks[0][1:] == ["00:00:00.200 --> 00:00:00.600", "<v Figure A>床<00:00:00.400>前</v>"]
    assert blocks[1][1:] == ["00:00:01.500 --> 00:00:02.500", "<v 黛玉>明月光</v>"]
    assert blocks[2][2] == "<v 宝玉 &lt;正&gt;>床<00:00:03.400>前</v>"


def test_a_quiet_peaky_voice_is_raised_under_the_ceiling_without_losing_its_loudness():
    from animation.engine.dialogue import limit_peaks

    samples = decode_audio(CHINESE_POEM, sample_rate=VOICE_SAMPLE_RATE)
    raised = samples * 10 ** (10 / 20)  # peaks now 5 dB over full scale
    limited = limit_peaks(raised, VOICE_SAMPLE_RATE)
    assert np.abs(limited).max() <= 10 ** (-1.5 / 20) + 1e-6
    before = measure_audio(np.clip(raised, -1, 1), VOICE_SAMPLE_RATE).loudness_lufs
    assert abs(measure_audio(limited, VOICE_SAMPLE_RATE).loudness_lufs - before) < 1.5
    # Below the ceiling nothing changes.
    assert np.array_equal(limit_peaks(samples * 0.5, VOICE_SAMPLE_RATE), samples * 0.5)
