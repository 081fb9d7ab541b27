"""A dialogue film: two or more figures of one painting speak in turn, each with its own reader's voice.

``animate_dialogue`` writes OUT.mp4 (H.264 + AAC, as ``pipeline.animate``), OUT.jpg (the figures
together, at rest) and OUT.vtt (karaoke cues, each in a voice span naming who speaks). It takes
alignments already made, so no Whisper model loads here.

The timeline: the turns in order, each turn's cut [start, end) of its recording placed after the
previous one and ``gap_seconds`` of silence; its alignment's units and phrases clipped to the cut and
moved to the film's clock (``place_turns``). The soundtrack is the cuts at 48 kHz mono, every recording
brought to about the loudness the voice copies are normalised to (one gain per recording, so a reader's
own rise and fall are kept; readers record at very different levels; peaks the gain would push past the
ceiling are held under it by a look-ahead limiter, ``limit_peaks``), silence in the gaps.

The figures (``dialogue_controls``): each figure's controls come from ``controls_from_alignment`` over
the whole film with its own voice only (silence while the others speak) and the units of its own turns
only, so while another figure speaks its mouth is at rest while it blinks, breathes and drifts as
anyone listening does; it nods as the other's line ends (``motion.listening_controls``), and every
figure smiles faintly once the last line has been said. Each figure draws its own blinks, placed at
the pauses of whoever is speaking.

The picture: one rig per figure, all built on one framed painting, the stage: the part of the
painting the camera ever shows, at the resolution of its closest shot (``render.ensemble`` composes
them; the background outside the figures is the painting itself in every frame). The camera
(``plan_camera``) looks at the stage: "wide" holds every figure in one shot; "cut" cuts to the
speaker's framing (the crop a single-figure film of that face has) at each change of speaker, before
the first word; "pan" moves there with an eased pan that starts once the last speaker's last word is
said and lands before the new speaker's first word, in the silence between them (the gap and the
cuts' own pauses); when that silence is too short for a pan, it cuts.

``aspect`` as in ``animate``: None keeps the painting's own framing (a pair of portraits, whose faces
fill the painting, is filmed whole, so every shot is the wide one), otherwise "16:9", "9:16" or "1:1".
"""

from __future__ import annotations

import dataclasses
import json
import math
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from animation.engine.audio import (
    SPEECH_SAMPLE_RATE,
    VOICE_SAMPLE_RATE,
    VOICE_TARGET_LUFS,
    VOICE_TRUE_PEAK_DBFS,
    decode_audio,
    loudness_envelope,
    measure_audio,
    pitch_semitones,
    write_wav,
)
from animation.engine.controls import Controls
from animation.engine.encode import write_atomically, write_film
from animation.engine.errors import EngineInputError
from animation.engine.faces import Face, face_from_landmarks, load_painting, select_face
from animation.engine.framing import ASPECTS, crop_box, group_box, is_portrait, parse_aspect, shift_alignment
from animation.engine.motion import (
    HeadRange,
    blink_tracks,
    controls_from_alignment,
    listening_controls,
    mouth_tracks,
    smile_track,
)
from animation.engine.pipeline import MAX_FPS, MAX_SIZE, Progress, _backend
from animation.engine.render.ensemble import render_ensemble
from animation.engine.render.rig import build_rig

CAMERAS = ("wide", "cut", "pan")
MAX_GAP_SECONDS = 10.0
# A cut's end may pass the recording's by this much (the recorder's last partial frame): it is clipped.
CUT_TOLERANCE_SECONDS = 0.05
# No recording is raised or lowered by more than this to match the others.
LOUDNESS_GAIN_LIMIT_DB = 30.0
# Pans: leave the speaker who finished this long after the last word, land this long before the next
# speaker's first word, take at most PAN_LONGEST_SECONDS; a silence that leaves less than
# PAN_SHORTEST_SECONDS for the move gets a cut instead. A cut lands CUT_BEFORE_SECONDS before the
# first word where the silence allows.
PAN_AFTER_SECONDS = 0.1
PAN_BEFORE_SECONDS = 0.12
PAN_LONGEST_SECONDS = 0.9
PAN_SHORTEST_SECONDS = 0.2
CUT_BEFORE_SECONDS = 0.12
# The stage is rendered at its closest shot's resolution up to this many pixels (memory per frame in
# flight); beyond it, close shots are upscaled a little.
MAX_STAGE_PIXELS = 8_000_000
# Each figure draws its own blinks, head drift and breath: seeds this far apart.
FACE_SEED_STRIDE = 7919
# A listener's blink at the speaker's pause comes this much after the speaker's own would.
LISTENER_BLINK_DELAY_SECONDS = 0.25


@dataclasses.dataclass(frozen=True)
class Turn:
    """One line of the dialogue: figure ``speaker`` (an index into the faces) says the part [start, end)
    (seconds; ``end`` None: to the end) of ``audio_path`` (anything ``audio.decode_audio`` reads; the
    pipeline's voice copies are 48 kHz WAV). ``alignment`` is ``AlignmentResult.to_dict()`` of that
    recording (units, phrases, language; times in the recording), ``text`` the line as written (its
    subtitle when the alignment has no units inside the cut), ``name`` who says it in the subtitles (a
    role's name; empty: ``speaker_names[speaker]`` of ``animate_dialogue``)."""

    speaker: int
    audio_path: str | Path
    alignment: Mapping[str, Any]
    start: float = 0.0
    end: float | None = None
    text: str = ""
    name: str = ""


@dataclasses.dataclass
class Line:
    """A turn placed on the film's clock: ``start``/``end`` the cut's first and last sample, the first
    and last word (None without spoken units), its alignment moved there and clipped to the cut."""

    turn: int
    speaker: int
    name: str
    start: float
    end: float
    first_word: float | None
    last_word: float | None
    alignment: dict[str, Any]
    text: str
    gain_db: float

    @property
    def speech_start(self) -> float:
        return self.first_word if self.first_word is not None else self.start

    @property
    def speech_end(self) -> float:
        return self.last_word if self.last_word is not None else self.end

    def to_dict(self) -> dict[str, Any]:
        def rounded(value: float | None) -> float | None:
            return None if value is None else round(value, 3)

        return {
            "turn": self.turn,
            "speaker": self.speaker,
            "name": self.name,
            "start": rounded(self.start),
            "end": rounded(self.end),
            "first_word": rounded(self.first_word),
            "last_word": rounded(self.last_word),
            "text": self.text,
            "gain_db": round(self.gain_db, 2),
        }


@dataclasses.dataclass
class Timeline:
    """The dialogue's sound: the lines on the film's clock, the soundtrack (48 kHz mono float32) and, per
    face, its own voice alone on the same clock (16 kHz, silence while others speak)."""

    lines: list[Line]
    soundtrack: np.ndarray
    voices: list[np.ndarray]
    duration: float

    def speaker_at(self, times: np.ndarray) -> np.ndarray:
        """Per time, who holds the floor: the speaker of the line under way, through the gap after it."""
        starts = np.array([line.start for line in self.lines])
        which = np.clip(np.searchsorted(starts, times, side="right") - 1, 0, len(self.lines) - 1)
        return np.array([line.speaker for line in self.lines], dtype=np.int64)[which]


# ---------------------------------------------------------------------------------------------------
# The timeline


def cut_alignment(alignment: Mapping[str, Any], start: float, end: float) -> dict[str, Any]:
    """The part of ``alignment`` (times in its recording) inside the cut [start, end), clipped to it, with
    times counted from ``start``: the cut's own alignment. A unit or phrase overlapping the cut's edge is
    cut with it; phrases are made from the units when there are none inside."""

    def inside(item: Mapping[str, Any]) -> bool:
        begin, finish = float(item["start"]), float(item["end"])
        if finish > begin:
            return begin < end and finish > start
        return start <= begin <= end

    def clipped(item: Mapping[str, Any]) -> dict[str, Any]:
        begin, finish = float(item["start"]), float(item["end"])
        return {
            **item,
            "start": round(min(max(begin, start), end) - start, 4),
            "end": round(min(finish, end) - start, 4),
        }

    units = [clipped(unit) for unit in alignment.get("units", []) if inside(unit)]
    phrases = [clipped(phrase) for phrase in alignment.get("phrases", []) if inside(phrase)]
    if units and not phrases:
        phrases = [{"start": units[0]["start"], "end": max(float(unit["end"]) for unit in units)}]
    return {"language": str(alignment.get("language", "")), "units": units, "phrases": phrases}


def _name(names: Sequence[str], speaker: int) -> str:
    name = names[speaker].strip() if speaker < len(names) and names[speaker] else ""
    return name or f"Figure {speaker + 1}"


def check_turns(turns: Sequence[Turn], face_count: int, gap_seconds: float) -> None:
    """What can be said of the turns without reading their recordings. Raises EngineInputError."""
    if face_count < 1:
        raise EngineInputError("a dialogue needs the faces of its figures: none were given")
    if not turns:
        raise EngineInputError("a dialogue needs at least one turn: the list of turns is empty")
    if not (math.isfinite(gap_seconds) and 0 <= gap_seconds <= MAX_GAP_SECONDS):
        raise EngineInputError(f"gap_seconds {gap_seconds} is out of range: use 0 to {MAX_GAP_SECONDS:g} seconds")
    for number, turn in enumerate(turns, start=1):
        speaker = turn.speaker
        if isinstance(speaker, bool) or not isinstance(speaker, int | np.integer) or not 0 <= speaker < face_count:
            raise EngineInputError(
                f"turn {number} is given to figure {speaker}, but the painting's dialogue has {face_count} "
                f"figure{'s' if face_count != 1 else ''} (0 to {face_count - 1})"
            )
        if (
            not math.isfinite(turn.start)
            or turn.start < 0
            or (turn.end is not None and (not math.isfinite(turn.end) or turn.end <= turn.start))
        ):
            raise EngineInputError(
                f"turn {number}: the cut {turn.start:g} to {turn.end if turn.end is not None else 'end'} s is not "
                "a span of its recording: start at 0 s or later and end after the start"
            )


def limit_peaks(samples: np.ndarray, sample_rate: int, ceiling_dbfs: float = VOICE_TRUE_PEAK_DBFS) -> np.ndarray:
    """``samples`` with every peak above ``ceiling_dbfs`` brought under it by a smooth gain (5 ms look-ahead
    and release), not clipped: a reader whose few loud consonants stand far above the rest of the voice
    (the demo poem: peaks 21 dB over its loudness) can still be raised to the others' loudness."""
    ceiling = 10 ** (ceiling_dbfs / 20)
    magnitude = np.abs(samples).astype(np.float32)
    if magnitude.size == 0 or magnitude.max() <= ceiling:
        return samples
    reach = max(1, round(0.005 * sample_rate))
    needed = np.minimum(1.0, ceiling / np.maximum(magnitude, 1e-9)).reshape(1, -1)
    # The least gain within 2 reaches, averaged over 1 reach either side: smooth, and at every sample no
    # more than that sample needs (each average's terms all cover it).
    held = cv2.erode(needed, np.ones((1, 4 * reach + 1), np.uint8), borderType=cv2.BORDER_REPLICATE)
    gain = cv2.blur(held, (2 * reach + 1, 1), borderType=cv2.BORDER_REPLICATE).reshape(-1)
    return np.clip(samples * gain, -ceiling, ceiling).astype(np.float32)


def place_turns(turns: Sequence[Turn], *, face_count: int, gap_seconds: float, names: Sequence[str] = ()) -> Timeline:
    """Lay the turns end to end on one clock; see the module's docstring. Raises EngineInputError for a
    speaker out of range, an empty list, a cut outside its recording or a recording ffmpeg cannot read."""
    check_turns(turns, face_count, gap_seconds)
    recordings: dict[Path, tuple[np.ndarray, np.ndarray]] = {}
    for turn in turns:
        path = Path(turn.audio_path)
        if path not in recordings:
            recordings[path] = (
                decode_audio(path, sample_rate=VOICE_SAMPLE_RATE),
                decode_audio(path, sample_rate=SPEECH_SAMPLE_RATE),
            )
    spans: list[tuple[float, float]] = []
    for number, turn in enumerate(turns, start=1):
        path = Path(turn.audio_path)
        length = recordings[path][0].size / VOICE_SAMPLE_RATE
        end = length if turn.end is None else float(turn.end)
        if turn.start >= length or end > length + CUT_TOLERANCE_SECONDS:
            raise EngineInputError(
                f"turn {number}: the cut {turn.start:.2f} to {end:.2f} s lies outside {path.name}, "
                f"which is {length:.2f} s long"
            )
        spans.append((float(turn.start), min(end, length)))

    def piece(path: Path, span: tuple[float, float], rate: int) -> np.ndarray:
        samples = recordings[path][0 if rate == VOICE_SAMPLE_RATE else 1]
        return samples[round(span[0] * rate) : round(span[1] * rate)]

    # One gain per recording, from the loudness of the parts of it that are used.
    gains: dict[Path, float] = {}
    for path in recordings:
        used = np.concatenate(
            [
                piece(path, span, VOICE_SAMPLE_RATE)
                for turn, span in zip(turns, spans, strict=True)
                if Path(turn.audio_path) == path
            ]
        )
        loudness = measure_audio(used, VOICE_SAMPLE_RATE).loudness_lufs
        gain_db = (
            0.0
            if loudness <= -69.0
            else float(np.clip(VOICE_TARGET_LUFS - loudness, -LOUDNESS_GAIN_LIMIT_DB, LOUDNESS_GAIN_LIMIT_DB))
        )
        gains[path] = gain_db

    gap = round(gap_seconds * VOICE_SAMPLE_RATE)
    lengths = [piece(Path(t.audio_path), span, VOICE_SAMPLE_RATE).size for t, span in zip(turns, spans, strict=True)]
    offsets = np.concatenate([[0], np.cumsum([length + gap for length in lengths])[:-1]]).astype(int)
    total = int(offsets[-1] + lengths[-1])
    duration = total / VOICE_SAMPLE_RATE
    soundtrack = np.zeros(total, np.float32)
    voices = [np.zeros(math.ceil(duration * SPEECH_SAMPLE_RATE) + 1, np.float32) for _ in range(face_count)]
    lines = []
    for number, (turn, span, offset) in enumerate(zip(turns, spans, offsets, strict=True)):
        path = Path(turn.audio_path)
        gain = np.float32(10 ** (gains[path] / 20))
        voice = limit_peaks(piece(path, span, VOICE_SAMPLE_RATE) * gain, VOICE_SAMPLE_RATE)
        soundtrack[offset : offset + voice.size] = voice
        start = offset / VOICE_SAMPLE_RATE
        speech = piece(path, span, SPEECH_SAMPLE_RATE) * gain
        at = round(start * SPEECH_SAMPLE_RATE)
        track = voices[turn.speaker]
        track[at : at + speech.size] = speech[: max(0, track.size - at)]
        alignment = shift_alignment(cut_alignment(turn.alignment, *span), start)
        spoken = [
            unit for unit in alignment["units"] if float(unit["end"]) > float(unit["start"]) and not unit.get("skipped")
        ]
        lines.append(
            Line(
                turn=number,
                speaker=int(turn.speaker),
                name=" ".join(turn.name.split()) or _name(names, int(turn.speaker)),
                start=start,
                end=start + voice.size / VOICE_SAMPLE_RATE,
                first_word=min(float(unit["start"]) for unit in spoken) if spoken else None,
                last_word=max(float(unit["end"]) for unit in spoken) if spoken else None,
                alignment=alignment,
                text=turn.text,
                gain_db=gains[path],
            )
        )
    np.clip(soundtrack, -1.0, 1.0, out=soundtrack)
    return Timeline(lines=lines, soundtrack=soundtrack, voices=voices, duration=duration)


# ---------------------------------------------------------------------------------------------------
# The figures


def dialogue_controls(
    timeline: Timeline, *, fps: float, frame_count: int, seed: int = 0, head_range: HeadRange | None = None
) -> list[Controls]:
    """Every figure's controls over the whole film (one per face of ``timeline.voices``): speaking in its
    own lines, listening in the others'; see the module's docstring. HEAD_RANGE bounds every head's turns."""
    times = np.arange(frame_count) / fps
    ends = [line.last_word for line in timeline.lines if line.last_word is not None]
    last_word = max(ends) if ends else None
    everyone = []
    for face, voice in enumerate(timeline.voices):
        own = [line for line in timeline.lines if line.speaker == face]
        envelope = loudness_envelope(voice, SPEECH_SAMPLE_RATE, fps=fps) if own else np.zeros(frame_count, np.float32)
        envelope = np.pad(envelope, (0, max(0, frame_count - envelope.size)))[:frame_count]
        pitch = pitch_semitones(voice, SPEECH_SAMPLE_RATE, fps=fps) if own else np.full(frame_count, np.nan)
        pitch = np.pad(pitch, (0, max(0, frame_count - pitch.size)), constant_values=np.nan)[:frame_count]
        units = [unit for line in own for unit in line.alignment["units"]]
        phrases = [phrase for line in own for phrase in line.alignment["phrases"]]
        languages = [str(line.alignment.get("language", "")) for line in own]
        controls = controls_from_alignment(
            units=units,
            phrases=phrases,
            language=languages[0] if languages else "",
            envelope=envelope,
            fps=fps,
            frame_count=frame_count,
            seed=seed + FACE_SEED_STRIDE * face,
            head_range=head_range,
            pitch=pitch,
        )
        if len(set(languages)) > 1:
            # A figure that speaks two languages gets each line's own mouth shapes.
            controls.tracks.update(_mouths_by_language(own, envelope, times, fps, frame_count))
        # Listeners blink at the speaker's pauses as speakers do at their own, a moment after the speaker.
        pauses = [float(phrase["end"]) for line in own for phrase in line.alignment["phrases"]]
        pauses += [
            float(phrase["end"]) + LISTENER_BLINK_DELAY_SECONDS
            for line in timeline.lines
            if line.speaker != face
            for phrase in line.alignment["phrases"]
        ]
        face_seed = seed + FACE_SEED_STRIDE * face
        left, right = blink_tracks(times=times, fps=fps, phrase_ends=pauses, seed=face_seed)
        controls.tracks["blink_left"], controls.tracks["blink_right"] = (
            left.astype(np.float32),
            right.astype(np.float32),
        )
        controls.tracks["smile"] = smile_track(times=times, last_word_end=last_word, fps=fps).astype(np.float32)
        others = [line.last_word for line in timeline.lines if line.speaker != face and line.last_word is not None]
        everyone.append(listening_controls(controls, line_ends=others, head_range=head_range))
    return everyone


def _mouths_by_language(
    lines: Sequence[Line], envelope: np.ndarray, times: np.ndarray, fps: float, frame_count: int
) -> dict[str, np.ndarray]:
    by_language: dict[str, list[Line]] = {}
    for line in lines:
        by_language.setdefault(str(line.alignment.get("language", "")), []).append(line)
    summed: dict[str, np.ndarray] = {}
    for language, group in by_language.items():
        inside = np.zeros(frame_count, bool)
        for line in group:
            inside |= (times >= line.start) & (times < line.end)
        tracks = mouth_tracks(
            units=[unit for line in group for unit in line.alignment["units"]],
            language=language,
            envelope=np.where(inside, envelope, 0.0),
            fps=fps,
            frame_count=frame_count,
        )
        for name, track in tracks.items():
            summed[name] = summed.get(name, 0.0) + track
    summed["mouth_open"] = np.clip(summed["mouth_open"], 0.0, 1.0)
    return {name: np.asarray(track, np.float32) for name, track in summed.items()}


# ---------------------------------------------------------------------------------------------------
# The camera


def _smootherstep(t: np.ndarray) -> np.ndarray:
    t = np.clip(t, 0.0, 1.0)
    return t * t * t * (t * (6 * t - 15) + 10)


@dataclasses.dataclass
class CameraPlan:
    """Where the camera looks in every frame: ``views[i]`` (x0, y0, x1, y1, painting pixels, float),
    shown at ``width`` x ``height``. ``crops[k]`` is face k's own shot, ``wide`` the shot of everyone;
    ``shots`` says per line where the camera goes, when it leaves and lands (frames)."""

    mode: str
    width: int
    height: int
    views: np.ndarray
    crops: list[tuple[int, int, int, int]]
    wide: tuple[int, int, int, int]
    shots: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "width": self.width,
            "height": self.height,
            "wide": list(self.wide),
            "shots": self.shots,
        }


def _film_size(view: tuple[int, int, int, int], size: int) -> tuple[int, int]:
    """The film's size for ``view`` with its longest side ``size`` (even sides), as ``frame_painting``."""
    w, h = view[2] - view[0], view[3] - view[1]
    scale = size / max(w, h)
    return max(2, round(w * scale / 2) * 2), max(2, round(h * scale / 2) * 2)


def _between(first: np.ndarray, second: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Boxes part way from ``first`` to ``second`` (t 0..1): centres in a line, sizes geometrically."""
    first_size, second_size = first[2:] - first[:2], second[2:] - second[:2]
    centres = (first[:2] + first[2:]) / 2 + np.outer(t, (second[:2] + second[2:]) / 2 - (first[:2] + first[2:]) / 2)
    sizes = first_size * (second_size / first_size) ** t[:, None]
    return np.concatenate([centres - sizes / 2, centres + sizes / 2], axis=1)


def _holds(view: Sequence[float], box: Sequence[float]) -> bool:
    """Whether ``view`` (x0, y0, x1, y1) holds the face ``box`` ([x, y, w, h]) whole."""
    return view[0] <= box[0] and view[1] <= box[1] and box[0] + box[2] <= view[2] and box[1] + box[3] <= view[3]


def _clipped(box: Sequence[float], width: int, height: int) -> list[float]:
    """A face box ([x, y, w, h]) cut to the painting's edges."""
    x0, y0 = max(0.0, float(box[0])), max(0.0, float(box[1]))
    x1, y1 = min(float(width), float(box[0] + box[2])), min(float(height), float(box[1] + box[3]))
    return [x0, y0, max(0.0, x1 - x0), max(0.0, y1 - y0)]


def plan_camera(
    image_shape: tuple[int, ...],
    boxes: Sequence[list[int]],
    lines: Sequence[Line],
    *,
    mode: str,
    aspect: str | None,
    size: int,
    fps: float,
    frame_count: int,
) -> CameraPlan:
    """The camera for ``lines`` spoken by the faces with ``boxes`` ([x, y, w, h] each): see the module's
    docstring. Every view has the film's aspect; a move never starts before the previous speaker's last
    word has ended and lands no later than the frame of the next speaker's first word."""
    if mode not in CAMERAS:
        raise EngineInputError(f"camera {mode!r} is not offered: use one of {', '.join(CAMERAS)}")
    height, width = image_shape[:2]
    if aspect is None and any(is_portrait(image_shape, box) for box in boxes):
        # Faces that fill the painting: the painting is the frame, as a single portrait's film has it.
        crops = [(0, 0, width, height)] * len(boxes)
        ratio = width / height
    else:
        shape = aspect or "16:9"
        crops = [crop_box(image_shape, box, shape) for box in boxes]
        ratio = ASPECTS[shape][0] / ASPECTS[shape][1]
    wide = group_box(image_shape, crops, ratio)
    if not all(_holds(wide, box) for box in boxes):
        # The painting cannot hold every figure's own shot at this aspect: hold their faces, with a margin.
        faces = [(x - 0.3 * w, y - 0.3 * h, x + 1.3 * w, y + 1.3 * h) for x, y, w, h in boxes]
        wide = group_box(image_shape, faces, ratio)
    first = lines[0].speaker
    film_w, film_h = _film_size(wide if mode == "wide" else crops[first], size)
    views = np.tile(np.array(wide if mode == "wide" else crops[first], np.float64), (frame_count, 1))
    last_frame = frame_count - 1

    def frame_of(seconds: float) -> int:
        return int(np.clip(math.floor(seconds * fps + 1e-6), 0, last_frame))

    shots: list[dict[str, Any]] = []
    current = first
    for index, line in enumerate(lines):
        shot = {"turn": line.turn, "speaker": line.speaker, "first_word": frame_of(line.speech_start)}
        # No move for the same speaker again, or for one the same shot already holds (a pair of portraits).
        if mode == "wide" or index == 0 or crops[line.speaker] == crops[current]:
            leaves = lands = 0 if index == 0 else shots[-1]["lands"]
            shots.append(
                {
                    **shot,
                    "view": list(wide if mode == "wide" else crops[line.speaker]),
                    "move": "none",
                    "leaves": leaves,
                    "lands": lands,
                }
            )
            current = line.speaker
            continue
        previous = lines[index - 1]
        before = np.array(crops[current], np.float64)
        after = np.array(crops[line.speaker], np.float64)
        done = previous.speech_end
        leave, land = done + PAN_AFTER_SECONDS, line.speech_start - PAN_BEFORE_SECONDS
        if mode == "pan" and land - leave >= PAN_SHORTEST_SECONDS:
            leaves = max(math.ceil((land - min(land - leave, PAN_LONGEST_SECONDS)) * fps - 1e-6), frame_of(leave))
            lands = max(frame_of(land), leaves + 1)
            steps = np.arange(leaves, lands + 1)
            views[leaves : lands + 1] = _between(before, after, _smootherstep((steps - leaves) / (lands - leaves)))
            move = "pan"
        else:
            # Cut as the new voice's recording begins, or sooner if its first word comes at once.
            at = max(done, min(line.start, line.speech_start - CUT_BEFORE_SECONDS))
            leaves = lands = max(min(math.ceil(at * fps - 1e-6), frame_of(line.speech_start)), frame_of(done) + 1)
            move = "cut"
        views[lands:] = after
        shots.append(
            {
                **shot,
                "view": [int(v) for v in crops[line.speaker]],
                "move": move,
                "leaves": int(leaves),
                "lands": int(lands),
            }
        )
        current = line.speaker
    return CameraPlan(mode, film_w, film_h, views, list(crops), wide, shots)


def stage_of(plan: CameraPlan, image_shape: tuple[int, ...]) -> tuple[tuple[int, int, int, int], int]:
    """The stage: the box of the painting every view lies in (painting pixels) and its longest side in
    pixels, at the resolution of the closest view (at most MAX_STAGE_PIXELS)."""
    height, width = image_shape[:2]
    views = plan.views
    x0 = max(0, math.floor(views[:, 0].min()))
    y0 = max(0, math.floor(views[:, 1].min()))
    x1 = min(width, math.ceil(views[:, 2].max()))
    y1 = min(height, math.ceil(views[:, 3].max()))
    scale = float(max(plan.width / (views[:, 2] - views[:, 0]).min(), plan.height / (views[:, 3] - views[:, 1]).min()))
    scale = min(scale, math.sqrt(MAX_STAGE_PIXELS / ((x1 - x0) * (y1 - y0))))
    return (x0, y0, x1, y1), max(2, round(max(x1 - x0, y1 - y0) * scale))


class StageCamera:
    """The film's frames from the stage's: a slice where the view holds still at the film's own size,
    otherwise a resample (linear, or area-averaged when the view is much larger than the film). A frame
    returned stays as it is until the next one is asked for."""

    def __init__(self, plan: CameraPlan, stage: tuple[int, int, int, int], stage_shape: tuple[int, ...]) -> None:
        self.width, self.height = plan.width, plan.height
        stage_h, stage_w = stage_shape[:2]
        sx, sy = stage_w / (stage[2] - stage[0]), stage_h / (stage[3] - stage[1])
        views = (plan.views - [stage[0], stage[1], stage[0], stage[1]]) * [sx, sy, sx, sy]
        # A view held for at least two frames is a shot, not a step of a move: it may be snapped to whole
        # pixels (a move is resampled at its true position, or it would judder by rounding).
        still = np.full(len(views), len(views) == 1)
        same = np.all(np.abs(np.diff(views, axis=0)) < 1e-6, axis=1)
        still[1:] |= same
        still[:-1] |= same
        self.views = views
        self._buffer = np.empty((self.height, self.width, *stage_shape[2:]), np.uint8)
        self.slices: list[tuple[int, int] | None] = []
        for view, holding in zip(views, still, strict=True):
            w, h = view[2] - view[0], view[3] - view[1]
            if holding and abs(w - self.width) < 0.5 and abs(h - self.height) < 0.5:
                x = int(np.clip(round(view[0]), 0, stage_w - self.width))
                y = int(np.clip(round(view[1]), 0, stage_h - self.height))
                self.slices.append((x, y))
            else:
                self.slices.append(None)

    def frame(self, index: int, stage_frame: np.ndarray) -> np.ndarray:
        where = self.slices[index]
        if where is not None:
            x, y = where
            view = stage_frame[y : y + self.height, x : x + self.width]
            if view.flags.c_contiguous:
                return view
            # One row-wise copy: the film writer's tobytes() of a strided view is several times slower.
            np.copyto(self._buffer, view)
            return self._buffer
        x0, y0, x1, y1 = self.views[index]
        rx, ry = (x1 - x0) / self.width, (y1 - y0) / self.height
        if max(rx, ry) > 1.5:
            left, top = max(0, math.floor(x0)), max(0, math.floor(y0))
            right = min(stage_frame.shape[1], math.ceil(x1))
            bottom = min(stage_frame.shape[0], math.ceil(y1))
            return cv2.resize(
                stage_frame[top:bottom, left:right], (self.width, self.height), interpolation=cv2.INTER_AREA
            )
        # Film pixel (u, v) shows stage point (x0 + (u + 0.5) rx - 0.5, ...): an affine map.
        matrix = np.array([[rx, 0.0, x0 + 0.5 * rx - 0.5], [0.0, ry, y0 + 0.5 * ry - 0.5]])
        return cv2.warpAffine(
            stage_frame,
            matrix,
            (self.width, self.height),
            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_REPLICATE,
        )


# ---------------------------------------------------------------------------------------------------
# The film


def animate_dialogue(
    *,
    painting_path: str | Path,
    faces: Sequence[Mapping[str, Any]],
    turns: Sequence[Turn],
    out_path: str | Path,
    size: int = 512,
    fps: float = 25,
    device: str = "cpu",
    camera: str = "cut",
    aspect: str | None = None,
    gap_seconds: float = 0.3,
    speaker_names: Sequence[str] = (),
    head_range: HeadRange | Mapping[str, Any] | Sequence[float] | None = None,
    curves_path: str | Path | None = None,
    seed: int = 0,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Write OUT (mp4), OUT.jpg (poster) and OUT.vtt (subtitles) of ``turns`` spoken by the figures whose
    faces are ``faces`` (``Face.to_dict()`` each, as the painting's faces were stored; a turn's speaker is
    an index into them). ``speaker_names[k]`` names figure k in the subtitles, one name per face ("Figure
    k+1" if missing); a turn's own ``name`` (a role's) comes first.
    ``camera`` is "wide", "cut" or "pan" and ``aspect`` as in ``animate``; ``curves_path`` gets every
    figure's controls as JSON. ``progress(stage, fraction)`` is called as stages advance. Returns frame
    count, size, the lines on the film's clock, the camera's shots and timings. Raises EngineInputError
    for anything the user can fix: an empty list of turns, a speaker out of range, a cut outside its
    recording, an unreadable file, a size, rate, camera or aspect not offered.
    """
    from animation.engine.align.subtitles import dialogue_to_webvtt

    if not 64 <= size <= MAX_SIZE:
        raise EngineInputError(f"size {size} is out of range: use 64 to {MAX_SIZE} pixels")
    if not 1 <= fps <= MAX_FPS:
        raise EngineInputError(f"fps {fps} is out of range: use 1 to {MAX_FPS}")
    if camera not in CAMERAS:
        raise EngineInputError(f"camera {camera!r} is not offered: use one of {', '.join(CAMERAS)}")
    shape = parse_aspect(aspect)
    backend, torch_device = _backend(device)
    check_turns(turns, len(faces), gap_seconds)
    report = progress or (lambda stage, fraction: None)
    out_path = Path(out_path)
    seconds: dict[str, float] = {}
    started = time.perf_counter()

    clock = time.perf_counter()
    report("voices", 0.0)
    timeline = place_turns(turns, face_count=len(faces), gap_seconds=gap_seconds, names=speaker_names)
    frame_count = max(1, round(timeline.duration * fps))
    seconds["voices"] = time.perf_counter() - clock
    report("voices", 1.0)

    clock = time.perf_counter()
    report("faces", 0.0)
    image = load_painting(painting_path)
    figures: list[Face] = [
        face_from_landmarks(select_face(faces, index), image.shape, index=index) for index in range(len(faces))
    ]
    seconds["faces"] = time.perf_counter() - clock
    report("faces", 1.0)

    clock = time.perf_counter()
    try:
        limits = HeadRange.of(head_range)
    except ValueError as error:
        raise EngineInputError(str(error)) from None
    controls = dialogue_controls(timeline, fps=fps, frame_count=frame_count, seed=seed, head_range=limits)
    if curves_path is not None:
        data = {"fps": fps, "frame_count": frame_count, "faces": [c.to_dict() for c in controls]}
        write_atomically(Path(curves_path), json.dumps(data).encode())
    seconds["motion"] = time.perf_counter() - clock

    clock = time.perf_counter()
    plan = plan_camera(
        image.shape,
        [face.box for face in figures],
        timeline.lines,
        mode=camera,
        aspect=shape,
        size=size,
        fps=fps,
        frame_count=frame_count,
    )
    stage, stage_size = stage_of(plan, image.shape)
    # Only the figures wholly on the stage are rigged: one the camera never shows, or shows only in part at
    # the edge of a shot, stays as painted.
    height, width = image.shape[:2]
    speakers = {line.speaker for line in timeline.lines}
    seen = [k for k, face in enumerate(figures) if k in speakers or _holds(stage, _clipped(face.box, width, height))]
    rigs = [build_rig(image, figures[k], size=stage_size, crop=stage) for k in seen]
    # The poster: the figures together at rest (the painting itself), or the first speaker's shot where the
    # film's aspect cannot hold them all.
    together = all(_holds(plan.wide, face.box) for face in figures)
    x0, y0, x1, y1 = plan.wide if together else plan.crops[timeline.lines[0].speaker]
    poster = cv2.resize(image[y0:y1, x0:x1], (plan.width, plan.height), interpolation=cv2.INTER_AREA)
    del image
    lens = StageCamera(plan, stage, rigs[0].still.shape)
    rig_of = {face: k for k, face in enumerate(seen)}
    floor = timeline.speaker_at(np.arange(frame_count) / fps)
    front = np.array([rig_of.get(int(speaker), len(rigs) - 1) for speaker in floor], np.int64)
    seconds["rigs"] = time.perf_counter() - clock

    cues = [
        (
            line.name,
            {
                **line.alignment,
                "text": line.text,
                "start": line.speech_start,
                "end": line.speech_end,
            },
        )
        for line in timeline.lines
    ]
    with tempfile.TemporaryDirectory(prefix="dialogue-") as scratch:
        soundtrack = Path(scratch) / "soundtrack.wav"
        write_wav(soundtrack, timeline.soundtrack, VOICE_SAMPLE_RATE)
        rendered = render_ensemble(rigs, [controls[k] for k in seen], front=front, backend=backend, device=torch_device)
        written = write_film(
            (lens.frame(index, frame) for index, frame in enumerate(rendered)),
            out_path,
            width=plan.width,
            height=plan.height,
            fps=fps,
            frame_count=frame_count,
            audio_path=soundtrack,
            poster=poster,
            subtitles=dialogue_to_webvtt(cues),
            report=report,
        )
    seconds["render"] = written.render_seconds
    seconds["encode"] = written.encode_seconds
    seconds["total"] = time.perf_counter() - started
    return {
        "frames": frame_count,
        "fps": fps,
        "duration": round(timeline.duration, 4),
        "device": torch_device if backend == "torch" else "cpu",
        "width": plan.width,
        "height": plan.height,
        "aspect": aspect or "auto",
        "camera": plan.to_dict(),
        "stage": {"box": list(stage), "width": rigs[0].still.shape[1], "height": rigs[0].still.shape[0]},
        "faces": [
            {"index": k, "box": [int(v) for v in figures[k].box], "rigged": k in rig_of} for k in range(len(figures))
        ],
        "lines": [line.to_dict() for line in timeline.lines],
        "video": str(out_path),
        "poster": str(written.poster),
        "subtitles": str(written.subtitles),
        "curves": str(curves_path) if curves_path is not None else None,
        "seconds": {name: round(value, 3) for name, value in seconds.items()},
    }
