"""Aligned speech -> every per-frame control of the portrait (animation.engine.controls).

The mouth comes from visemes, scaled by the voice's loudness so that emphasis shows. Around it, the
small movements that make a face look alive rather than a mouth pasted on a picture: blinks, brows
that lift on stressed words, a head that turns as each phrase begins, nods at the ends of phrases and
on stressed words and holds still in the pauses, breathing that
inhales before each phrase, and a faint smile once the speaker has finished.

Everything is deterministic for a given seed: each part draws from its own random stream, so
changing how blinks are drawn does not move the head.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from animation.engine.controls import Controls
from animation.engine.smoothing import perlin_noise, soft_limit, spring_smooth
from animation.engine.visemes import (
    VISEME_INDEX,
    language_family,
    mouth_targets,
    unit_stress,
    viseme_track,
)

# Default bounds of the head pose. The rig turns the head in depth (render.head3d) and was measured
# one-to-one (no fold), with the background still, at these on every demo painting; a curator may
# lower them per painting (``HeadRange``, ``animate(..., head_range=...)``).
HEAD_YAW_LIMIT_DEGREES = 15.0
HEAD_PITCH_LIMIT_DEGREES = 10.0
HEAD_ROLL_LIMIT_DEGREES = 8.0
# What a head range may be set to at most: beyond these the depth model's far cheek folds over.
HEAD_RANGE_MAXIMUM = {"yaw": 20.0, "pitch": 14.0, "roll": 12.0}
HEAD_SHIFT_LIMIT = 0.015  # fraction of the face size

# Spring time constants (seconds). The mouth must land M/B/P closures of two frames, so it is fast;
# lip rounding and spreading are slower muscles; the head is heavy.
MOUTH_TIME_CONSTANT = 0.012
LIP_SHAPE_TIME_CONSTANT = 0.03
ENVELOPE_TIME_CONSTANT = 0.02
BROW_TIME_CONSTANT = 0.06
HEAD_TIME_CONSTANT = 0.08
BREATH_TIME_CONSTANT = 0.2
SMILE_TIME_CONSTANT = 0.08

# Blinks: people blink every few seconds for about a tenth of a second, rarely twice in a row.
BLINK_FIRST_LATEST_SECONDS = 2.5
BLINK_INTERVAL_SECONDS = (2.4, 5.2)
BLINK_MIN_GAP_SECONDS = 2.0
BLINK_MAX_GAP_SECONDS = 5.5
BLINK_SNAP_SECONDS = 1.2  # how far a blink may move to land on a pause between phrases
BLINK_DURATION_SECONDS = (0.11, 0.14)
BLINK_ASYMMETRY_PROBABILITY = 0.12

# Phrases are split where the words pause this long, when the aligner gives no phrases.
PHRASE_GAP_SECONDS = 0.35

SMILE_LEVEL = 0.4
SMILE_DELAY_SECONDS = 0.3
SMILE_RISE_SECONDS = 1.0

_STREAMS = {"blink": 1, "blink_shape": 2, "head": 3, "breath": 4}


@dataclasses.dataclass(frozen=True)
class HeadRange:
    """How far a figure's head may turn (degrees either way): yaw, pitch (nod) and roll (tilt).

    The motion (from the voice or the reader's video) is eased into these; a curator lowers them for a
    painting whose figure should stay stiller (or whose headdress tears), 0 keeps that turn still.
    """

    yaw: float = HEAD_YAW_LIMIT_DEGREES
    pitch: float = HEAD_PITCH_LIMIT_DEGREES
    roll: float = HEAD_ROLL_LIMIT_DEGREES

    def __post_init__(self) -> None:
        for name in ("yaw", "pitch", "roll"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise ValueError(f"head range {name} must be a number of degrees, got {value!r}")
            if not 0.0 <= value <= HEAD_RANGE_MAXIMUM[name]:
                raise ValueError(f"head range {name} {value} is outside 0 to {HEAD_RANGE_MAXIMUM[name]} degrees")
            object.__setattr__(self, name, float(value))

    @classmethod
    def of(cls, value: HeadRange | Mapping[str, Any] | Sequence[float] | None) -> HeadRange:
        """A HeadRange from itself, None (the defaults), a mapping with any of "yaw", "pitch", "roll"
        (the others default), or a (yaw, pitch, roll) triple. Raises ValueError on anything else."""
        if value is None:
            return cls()
        if isinstance(value, HeadRange):
            return value
        if isinstance(value, Mapping):
            unknown = set(value) - {"yaw", "pitch", "roll"}
            if unknown:
                raise ValueError(f"head range has unknown parts {sorted(unknown)}: use yaw, pitch, roll")
            return cls(**{name: value[name] for name in ("yaw", "pitch", "roll") if name in value})
        if isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 3:
            return cls(*value)
        raise ValueError(f"head range must be a HeadRange, a mapping or (yaw, pitch, roll), got {value!r}")

    def limit(self, control: str) -> float:
        """The limit for a control name ("head_yaw", ...)."""
        return float(getattr(self, control.removeprefix("head_")))


def _limited(track: np.ndarray, limit: float) -> np.ndarray:
    return soft_limit(track, limit) if limit > 0 else np.zeros_like(track)


def _rng(seed: int, stream: str) -> np.random.Generator:
    return np.random.default_rng([seed, _STREAMS[stream]])


def _validate(
    *, units: Sequence[Mapping[str, object]], envelope: np.ndarray, fps: float, frame_count: int
) -> np.ndarray:
    if isinstance(frame_count, bool) or not isinstance(frame_count, int | np.integer) or frame_count < 1:
        raise ValueError(f"frame_count must be an integer >= 1, got {frame_count!r}")
    if not np.isfinite(fps) or fps <= 0:
        raise ValueError(f"fps must be a positive number, got {fps!r}")
    envelope = np.asarray(envelope, dtype=np.float64)
    if envelope.shape != (frame_count,):
        raise ValueError(f"envelope has shape {envelope.shape}, expected ({frame_count},): one value per frame")
    if not np.all(np.isfinite(envelope)):
        raise ValueError("envelope contains NaN or infinite values")
    if not isinstance(units, Sequence):
        raise ValueError("units must be a list of dicts")
    return np.clip(envelope, 0.0, 1.0)


def _spans(items: Sequence[Mapping[str, object]]) -> list[tuple[float, float]]:
    spans = []
    for item in items:
        try:
            start, end = float(item["start"]), float(item["end"])  # type: ignore[arg-type]
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"{item!r} needs numeric 'start' and 'end'") from error
        if not (np.isfinite(start) and np.isfinite(end)) or end < start:
            raise ValueError(f"{item!r} has an invalid time span")
        spans.append((start, end))
    return spans


def _phrase_spans(
    phrases: Sequence[Mapping[str, object]], spoken: list[tuple[float, float]]
) -> list[tuple[float, float]]:
    """The phrases as (start, end), sorted; derived from pauses between units if none were given."""
    given = sorted(span for span in _spans(phrases) if span[1] > span[0])
    if given:
        return given
    derived: list[list[float]] = []
    for start, end in sorted(spoken):
        if derived and start - derived[-1][1] < PHRASE_GAP_SECONDS:
            derived[-1][1] = max(derived[-1][1], end)
        else:
            derived.append([start, end])
    return [(start, end) for start, end in derived]


def _window(times: np.ndarray, start: float, end: float) -> slice:
    """The frames of sorted TIMES within [START, END): per-event work stays local on long films."""
    first, last = np.searchsorted(times, (start, end))
    return slice(int(first), int(last))


def _span_mask(spans: Sequence[tuple[float, float]], times: np.ndarray) -> np.ndarray:
    mask = np.zeros(times.size, dtype=bool)
    for start, end in spans:
        mask[_window(times, start, end)] = True
    return mask


def _raised_cosine_bump(times: np.ndarray, *, start: float, rise: float, fall: float) -> np.ndarray:
    """0 -> 1 over RISE seconds from START, back to 0 over FALL seconds: smooth at both ends."""
    rising = np.clip((times - start) / rise, 0.0, 1.0)
    falling = np.clip((times - start - rise) / fall, 0.0, 1.0)
    return 0.5 - 0.5 * np.cos(np.pi * rising) - (0.5 - 0.5 * np.cos(np.pi * falling))


def _ease(times: np.ndarray, *, start: float, duration: float) -> np.ndarray:
    """0 before START, 1 after START + DURATION, a smoothstep in between."""
    x = np.clip((times - start) / max(duration, 1e-6), 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


# --- Mouth ---------------------------------------------------------------------------------------


def _speech_reference(envelope: np.ndarray, speaking: np.ndarray) -> float:
    voiced = envelope[speaking] if speaking.any() else envelope[envelope > 0.05]
    return float(np.median(voiced)) if voiced.size else 0.0


def mouth_tracks(
    *,
    units: Sequence[Mapping[str, object]],
    language: str,
    envelope: np.ndarray,
    fps: float,
    frame_count: int,
) -> dict[str, np.ndarray]:
    """Smoothed mouth_open, mouth_width, mouth_round, lips_pressed and teeth.

    With a phonetic model (English, Mandarin) the visemes give the shape and the loudness, relative
    to this voice's typical level, scales the opening between 0.6x and 1.3x: a shouted word opens
    wider than a murmured one. Without one, the opening follows the loudness directly inside the
    spoken spans (or wherever the voice is audible when there are no units at all).
    """
    weights = viseme_track(units, language, fps, frame_count)
    targets = mouth_targets(weights)
    level = spring_smooth(envelope, fps=fps, time_constant=ENVELOPE_TIME_CONSTANT)
    speaking = weights[:, VISEME_INDEX["rest"]] < 0.999
    reference = _speech_reference(level, speaking)
    if language_family(language) is None or not speaking.any():
        if not speaking.any():
            speaking = level > 0.05
        loudness = np.clip(level / reference, 0.0, 1.5) if reference > 0 else np.zeros_like(level)
        targets["mouth_open"] = np.where(speaking, 0.55 * loudness, 0.0)
        # The neutral shape's spread and teeth follow how open the mouth is.
        scale = targets["mouth_open"] / 0.45
        targets["mouth_width"] = 0.3 * np.minimum(scale, 1.0)
        targets["teeth"] = 0.4 * np.minimum(scale, 1.0)
        targets["mouth_round"] = np.zeros(frame_count)
        targets["lips_pressed"] = np.zeros(frame_count)
    elif reference > 0:
        gain = np.clip(level / reference, 0.6, 1.3)
        targets["mouth_open"] = targets["mouth_open"] * np.where(speaking, gain, 1.0)

    tracks = {
        "mouth_open": spring_smooth(targets["mouth_open"], fps=fps, time_constant=MOUTH_TIME_CONSTANT),
        "lips_pressed": spring_smooth(targets["lips_pressed"], fps=fps, time_constant=MOUTH_TIME_CONSTANT),
        "teeth": spring_smooth(targets["teeth"], fps=fps, time_constant=MOUTH_TIME_CONSTANT),
        "mouth_width": spring_smooth(targets["mouth_width"], fps=fps, time_constant=LIP_SHAPE_TIME_CONSTANT),
        "mouth_round": spring_smooth(targets["mouth_round"], fps=fps, time_constant=LIP_SHAPE_TIME_CONSTANT),
    }
    # Pressed lips cannot be apart: without this the springs would leave a closure half open.
    tracks["mouth_open"] = np.clip(tracks["mouth_open"] * (1.0 - tracks["lips_pressed"]), 0.0, 1.0)
    tracks["teeth"] = tracks["teeth"] * (1.0 - 0.8 * tracks["lips_pressed"])
    return tracks


# --- Eyes and brows ------------------------------------------------------------------------------


def blink_times(*, duration: float, phrase_ends: Sequence[float], seed: int) -> list[float]:
    """Start times (seconds) of blinks over a clip of DURATION seconds.

    Intervals are random within BLINK_INTERVAL_SECONDS; a blink that falls near the end of a phrase
    moves onto it, because people blink at pauses. Gaps always stay within BLINK_MIN_GAP_SECONDS ..
    BLINK_MAX_GAP_SECONDS and the first blink comes within BLINK_FIRST_LATEST_SECONDS, so any six
    seconds hold a blink and no two come in a hurry.
    """
    rng = _rng(seed, "blink")
    boundaries = np.sort(np.asarray(phrase_ends, dtype=np.float64) + 0.1)
    times: list[float] = []
    candidate = rng.uniform(0.4, BLINK_FIRST_LATEST_SECONDS)
    earliest, latest = 0.2, BLINK_FIRST_LATEST_SECONDS
    while True:
        near = boundaries[
            (boundaries >= earliest) & (boundaries <= latest) & (np.abs(boundaries - candidate) <= BLINK_SNAP_SECONDS)
        ]
        if near.size:
            candidate = float(near[np.argmin(np.abs(near - candidate))])
        if candidate + BLINK_DURATION_SECONDS[1] > duration:
            return times
        times.append(candidate)
        earliest, latest = candidate + BLINK_MIN_GAP_SECONDS, candidate + BLINK_MAX_GAP_SECONDS
        candidate += rng.uniform(*BLINK_INTERVAL_SECONDS)


def blink_tracks(
    *, times: np.ndarray, fps: float, phrase_ends: Sequence[float], seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """blink_left and blink_right: quick close, a brief hold, a slower opening.

    Each blink is shifted (by under half a frame) so that its closed moment falls on a frame: at
    25 fps a 120 ms blink spans three frames and would otherwise never show the eyes quite shut.
    Mostly both eyes together; now and then one eye lags and closes a little less, as real eyes do.
    The curves are smooth by construction and not passed through a spring: any spring slow enough
    to matter would keep the lids from closing.
    """
    duration = float(times[-1]) + 1.0 / fps
    rng = _rng(seed, "blink_shape")
    left = np.zeros(times.size)
    right = np.zeros(times.size)
    for start in blink_times(duration=duration, phrase_ends=phrase_ends, seed=seed):
        length = rng.uniform(*BLINK_DURATION_SECONDS)
        closing, hold = 0.38 * length, 0.12 * length
        shut_moment = start + closing + hold / 2
        start += round(shut_moment * fps) / fps - shut_moment
        lagging_eye, depth, lag = None, 1.0, 0.0
        if rng.uniform() < BLINK_ASYMMETRY_PROBABILITY:
            lagging_eye = rng.integers(2)
            depth, lag = rng.uniform(0.85, 0.95), rng.uniform(0.008, 0.015)
        around = _window(times, start - 0.05, start + length + 0.05)
        for eye, track in enumerate((left, right)):
            eye_start, eye_depth = (start + lag, depth) if eye == lagging_eye else (start, 1.0)
            shape = blink_shape(times[around] - eye_start, closing=closing, hold=hold, opening=length - closing - hold)
            track[around] = np.maximum(track[around], eye_depth * shape)
    return left, right


def blink_shape(elapsed: np.ndarray, *, closing: float, hold: float, opening: float) -> np.ndarray:
    closing_part = 0.5 - 0.5 * np.cos(np.pi * np.clip(elapsed / closing, 0.0, 1.0))
    opening_part = 0.5 - 0.5 * np.cos(np.pi * np.clip((elapsed - closing - hold) / opening, 0.0, 1.0))
    return np.where((elapsed >= 0) & (elapsed <= closing + hold + opening), closing_part - opening_part, 0.0)


def stressed_units(
    *,
    units: Sequence[Mapping[str, object]],
    language: str,
    envelope: np.ndarray,
    fps: float,
    min_gap_seconds: float = 2.0,
) -> list[tuple[float, float, float]]:
    """(start, end, strength 0..1) of the units a speaker would underline with their brows.

    A unit stands out when it is louder than this voice's typical level and longer than a typical
    unit, weighted by its lexical stress (content word, fourth tone). Only the most prominent unit
    within MIN_GAP_SECONDS keeps its raise: constant eyebrow motion reads as surprise, not emphasis.
    """
    if not units:
        return []
    spans = _spans(units)
    stress = unit_stress(units, language)
    durations = np.array([end - start for start, end in spans])
    spoken = durations > 0
    if not spoken.any():
        return []
    # How loud a unit was said is its peak: a mean would depend on how its edges fall on frames.
    levels = np.zeros(len(units))
    for index, (start, end) in enumerate(spans):
        first = min(int(np.ceil(start * fps)), envelope.size - 1)
        last = max(first + 1, int(np.ceil(end * fps)))
        levels[index] = envelope[first:last].max()
    typical_level = float(np.median(levels[spoken]))
    typical_duration = float(np.median(durations[spoken]))
    if typical_level <= 0:
        return []
    loudness = levels / typical_level
    length = np.clip(durations / typical_duration, 0.5, 2.0) ** 0.3
    score = loudness * length * (0.75 + 0.5 * stress)
    candidates = [index for index in np.argsort(-score) if spoken[index] and score[index] >= 1.35]
    chosen: list[int] = []
    for index in candidates:
        if all(abs(spans[index][0] - spans[other][0]) >= min_gap_seconds for other in chosen):
            chosen.append(index)
    return sorted(
        (spans[index][0], spans[index][1], float(np.clip(0.3 + 0.8 * (score[index] - 1.35), 0.3, 0.7)))
        for index in chosen
    )


def brow_track(*, times: np.ndarray, stresses: Sequence[tuple[float, float, float]], fps: float) -> np.ndarray:
    """brow_raise: up just before a stressed unit, held through it, eased back down after."""
    brow = np.zeros(times.size)
    for start, end, strength in stresses:
        around = _window(times, start - 0.12, end + 0.5)
        local = times[around]
        lift = _ease(local, start=start - 0.12, duration=0.15) * (1.0 - _ease(local, start=end, duration=0.5))
        brow[around] = np.maximum(brow[around], strength * lift)
    return spring_smooth(brow, fps=fps, time_constant=BROW_TIME_CONSTANT)


# Brows also rise with the voice's own register: where the reader's intonation sits well above their
# usual pitch for a while (a raised, excited line), not on each syllable's tone (Mandarin's tones move
# the pitch by several semitones on every character: brows that followed them would flicker).
PITCH_CONTOUR_SECONDS = 0.6  # the moving median that keeps the phrase's intonation, not the tones
PITCH_RISE_SEMITONES = (2.0, 5.0)  # from no lift at the first to the full lift at the second
PITCH_BROW_LEVEL = 0.35
PITCH_BROW_TIME_CONSTANT = 0.15


def pitch_brow_track(*, pitch: np.ndarray, fps: float) -> np.ndarray:
    """brow_raise from PITCH (semitones above the reader's median per frame, NaN unvoiced): the slow
    contour's height above PITCH_RISE_SEMITONES[0], up to PITCH_BROW_LEVEL; 0 where nothing is voiced."""
    pitch = np.asarray(pitch, dtype=np.float64)
    half = max(1, int(PITCH_CONTOUR_SECONDS * fps / 2))
    contour = np.zeros(pitch.size)
    for index in range(pitch.size):
        around = pitch[max(0, index - half) : index + half + 1]
        voiced = around[np.isfinite(around)]
        # Half the window voiced at least: a lone voiced frame says nothing about the intonation.
        if voiced.size * 2 >= around.size:
            contour[index] = float(np.median(voiced))
    low, high = PITCH_RISE_SEMITONES
    lift = PITCH_BROW_LEVEL * np.clip((contour - low) / (high - low), 0.0, 1.0)
    return spring_smooth(lift, fps=fps, time_constant=PITCH_BROW_TIME_CONSTANT)


# --- Head, breath, smile -------------------------------------------------------------------------


# The head follows the reading, never a random drift (issue 23): it turns a little to a new side as each
# phrase begins (readers look up and across between lines), nods at the end of each phrase and on the
# stressed units, and holds still in the pauses (after a stanza's long one it turns the least).
PHRASE_TURN_DEGREES = (1.2, 2.2)  # how far the head turns for a phrase, each side of the middle
PHRASE_TURN_SECONDS = 1.0  # a deliberate turn: over a second, starting just before the phrase
LONG_PAUSE_SECONDS = 2.5  # after a pause this long (a stanza's end) the next phrase turns the least
PHRASE_END_NOD_DEGREES = 1.2
STRESS_NOD_DEGREES = 0.9  # times the unit's stress strength (0.3-0.7)
ROLL_WITH_YAW = 0.3  # a head turning tilts a little towards the turn


def voiced_spans(envelope: np.ndarray, fps: float) -> list[tuple[float, float]]:
    """Spans of voice in a loudness ENVELOPE (per frame, 0..1), for a film without aligned units: the
    frames above a fifth of the voice's loud level, joined across gaps under PHRASE_GAP_SECONDS, each
    at least 0.3 s long."""
    if envelope.size == 0 or float(envelope.max()) <= 0:
        return []
    loud = float(np.percentile(envelope[envelope > 0], 95)) if (envelope > 0).any() else 0.0
    voiced = envelope > 0.2 * loud
    spans: list[list[float]] = []
    for frame in np.flatnonzero(voiced):
        time = frame / fps
        if spans and time - spans[-1][1] < PHRASE_GAP_SECONDS:
            spans[-1][1] = time + 1 / fps
        else:
            spans.append([time, time + 1 / fps])
    return [(start, end) for start, end in spans if end - start >= 0.3]


def head_tracks(
    *,
    times: np.ndarray,
    phrases: Sequence[tuple[float, float]],
    stresses: Sequence[tuple[float, float, float]],
    speaking: np.ndarray,
    fps: float,
    seed: int,
    head_range: HeadRange | None = None,
) -> dict[str, np.ndarray]:
    """head_yaw/pitch/roll (degrees) and head_dx/dy (fraction of the face), within ``head_range``.

    Driven by the reading alone: a turn to a new side as each phrase begins (the side alternates, the
    first side and each turn's size drawn from SEED), a nod at the end of each phrase and a smaller one
    on stressed units, stillness in the pauses (after a long one the next turn is the smallest),
    a tilt that goes with the turn; a soft limit, then a slow spring. SPEAKING is unused by the turns
    (the phrases say when the reader speaks) and kept for the callers' signature.
    """
    del speaking
    rng = _rng(seed, "head")
    limits = head_range or HeadRange()
    # Never more than a third of the range: the voice alone leaves the far turns to a reader's camera.
    turn_limit = min(PHRASE_TURN_DEGREES[1], limits.yaw / 3)
    side = 1.0 if rng.random() < 0.5 else -1.0
    yaw = np.zeros(times.size)
    level = 0.0
    previous_end: float | None = None
    for start, end in phrases:
        size = rng.uniform(*PHRASE_TURN_DEGREES)
        if previous_end is not None and start - previous_end > LONG_PAUSE_SECONDS:
            size = PHRASE_TURN_DEGREES[0]  # after a long pause, a new start: closer to face on again
        target = side * min(turn_limit, size)
        turn_at = max(start - 0.3, previous_end if previous_end is not None else start - 0.3)
        yaw += (target - level) * _ease(times, start=turn_at, duration=PHRASE_TURN_SECONDS)
        level, side, previous_end = target, -side, end

    nods = np.zeros(times.size)
    bumps = [(end - 0.15, 0.35, 0.55, PHRASE_END_NOD_DEGREES) for _, end in phrases]
    bumps += [(start - 0.05, 0.25, 0.4, STRESS_NOD_DEGREES * strength) for start, _, strength in stresses]
    for start, rise, fall, degrees in bumps:
        around = _window(times, start, start + rise + fall)
        nods[around] += degrees * _raised_cosine_bump(times[around], start=start, rise=rise, fall=fall)

    yaw = _limited(yaw, limits.yaw)
    pitch = _limited(nods, limits.pitch)
    roll = _limited(ROLL_WITH_YAW * yaw, limits.roll)
    # Turning and nodding carry the head sideways and down a little.
    dx = soft_limit(0.0015 * yaw, HEAD_SHIFT_LIMIT)
    dy = soft_limit(0.002 * pitch, HEAD_SHIFT_LIMIT)
    smooth = {"fps": fps, "time_constant": HEAD_TIME_CONSTANT}
    return {
        "head_yaw": spring_smooth(yaw, **smooth),
        "head_pitch": spring_smooth(pitch, **smooth),
        "head_roll": spring_smooth(roll, **smooth),
        "head_dx": spring_smooth(dx, **smooth),
        "head_dy": spring_smooth(dy, **smooth),
    }


def breath_track(*, times: np.ndarray, phrases: Sequence[tuple[float, float]], fps: float, seed: int) -> np.ndarray:
    """breath: slow idle breathing (~0.25 Hz); before each phrase an inhale, during it a slow exhale."""
    rng = _rng(seed, "breath")
    frequency = 0.25 * rng.uniform(0.9, 1.1)
    phase = rng.uniform(0.0, 2.0 * np.pi)
    # A little drift in the rhythm, so the chest does not rise like a metronome.
    wander = 0.6 * perlin_noise(times, frequency=0.05, rng=rng)
    idle = 0.5 + 0.4 * np.sin(2.0 * np.pi * frequency * times + phase + wander)
    breath = idle
    for start, end in phrases:
        inhale_start = start - 0.45
        around = _window(times, inhale_start - 0.3, end + 1.0)
        local = times[around]
        inhaling = _ease(local, start=inhale_start, duration=0.45)
        exhaled = 0.75 * _ease(local, start=start, duration=max(end - start, 1.0))
        speaking_curve = np.clip(0.5 + 0.45 * inhaling - exhaled, 0.1, 0.95)
        # Hand over from idle breathing to the speech breath and back, without a step.
        presence = _ease(local, start=inhale_start - 0.3, duration=0.3) * (1.0 - _ease(local, start=end, duration=1.0))
        breath[around] = (1.0 - presence) * breath[around] + presence * speaking_curve
    return np.clip(spring_smooth(breath, fps=fps, time_constant=BREATH_TIME_CONSTANT), 0.0, 1.0)


def smile_track(*, times: np.ndarray, last_word_end: float | None, fps: float) -> np.ndarray:
    """smile: rises to SMILE_LEVEL over about a second once the last word has been said.

    When the clip ends sooner than that, the rise is squeezed into what remains after the last word,
    so the final frame still smiles.
    """
    if last_word_end is None:
        return np.zeros(times.size)
    clip_end = float(times[-1])
    start = min(last_word_end + SMILE_DELAY_SECONDS, max(last_word_end, clip_end - SMILE_RISE_SECONDS))
    rise = min(SMILE_RISE_SECONDS, clip_end - start)
    if rise <= 0:
        return np.zeros(times.size)
    smile = SMILE_LEVEL * _ease(times, start=start, duration=rise)
    return spring_smooth(smile, fps=fps, time_constant=SMILE_TIME_CONSTANT)


# --- Listening ---------------------------------------------------------------------------------

# A listener acknowledges the end of the other's line with a nod smaller than a speaker's phrase-end nod.
LISTENER_NOD_DEGREES = 0.9


def listening_controls(
    controls: Controls, *, line_ends: Sequence[float], head_range: HeadRange | None = None
) -> Controls:
    """CONTROLS (a figure's own, from ``controls_from_alignment`` with its own voice and units only)
    with a small nod as each of the other figures' lines ends (LINE_ENDS, seconds: their last word's
    end), starting just before it: the figure listens. The mouth is left as it is (closed while the
    figure has no units); the nod goes into head_pitch and, as a speaker's nods do, a little head_dy."""
    times = np.arange(controls.frame_count) / controls.fps
    nods = np.zeros(times.size)
    for end in line_ends:
        start = float(end) - 0.1
        around = _window(times, start, start + 0.9)
        nods[around] += LISTENER_NOD_DEGREES * _raised_cosine_bump(times[around], start=start, rise=0.35, fall=0.55)
    tracks = dict(controls.tracks)
    pitch_limit = (head_range or HeadRange()).pitch
    tracks["head_pitch"] = _limited(tracks["head_pitch"] + nods, pitch_limit).astype(np.float32)
    tracks["head_dy"] = soft_limit(tracks["head_dy"] + 0.002 * nods, HEAD_SHIFT_LIMIT).astype(np.float32)
    return Controls(fps=controls.fps, frame_count=controls.frame_count, tracks=tracks)


# --- Everything ----------------------------------------------------------------------------------


def controls_from_alignment(
    *,
    units: list[dict],
    phrases: list[dict],
    language: str,
    envelope: np.ndarray,
    fps: float,
    frame_count: int,
    seed: int = 0,
    head_range: HeadRange | Mapping[str, Any] | Sequence[float] | None = None,
    pitch: np.ndarray | None = None,
) -> Controls:
    """All control tracks for a film of FRAME_COUNT frames at FPS.

    UNITS: the aligner's units ({"text", "start", "end", ...}, seconds; zero-length ones are
    punctuation). PHRASES: spans of speech between pauses ({"start", "end"}); derived from the units
    when empty. ENVELOPE: the voice's loudness per frame, 0..1, length FRAME_COUNT. LANGUAGE: a BCP 47
    tag; English and Mandarin get visemes, others a loudness-driven mouth. Same inputs and SEED, same
    controls. HEAD_RANGE (``HeadRange.of``): how far the head may turn. PITCH (``audio.pitch_semitones``,
    one per frame, optional): the brows also rise where the voice's intonation does. Raises ValueError on
    frame_count < 1, fps <= 0, a mis-sized or non-finite envelope, units/phrases without valid numeric
    spans, or a head range out of bounds.
    """
    limits = HeadRange.of(head_range)
    envelope = _validate(units=units, envelope=envelope, fps=fps, frame_count=frame_count)
    times = np.arange(frame_count) / fps
    spoken = [span for span in _spans(units) if span[1] > span[0]]
    # Without aligned units (a language without visemes, a reading not aligned) the voice's own loudness
    # says where the phrases are: the head still turns and nods with the reading.
    phrase_spans = _phrase_spans(phrases, spoken) or voiced_spans(envelope, fps)
    speaking = _span_mask(phrase_spans, times)
    stresses = stressed_units(units=units, language=language, envelope=envelope, fps=fps)

    tracks = mouth_tracks(units=units, language=language, envelope=envelope, fps=fps, frame_count=frame_count)
    phrase_ends = [end for _, end in phrase_spans]
    tracks["blink_left"], tracks["blink_right"] = blink_tracks(times=times, fps=fps, phrase_ends=phrase_ends, seed=seed)
    tracks["brow_raise"] = brow_track(times=times, stresses=stresses, fps=fps)
    if pitch is not None:
        if np.shape(pitch) != (frame_count,):
            raise ValueError(f"pitch has {np.size(pitch)} values for {frame_count} frames")
        tracks["brow_raise"] = np.maximum(tracks["brow_raise"], pitch_brow_track(pitch=pitch, fps=fps))
    tracks.update(
        head_tracks(
            times=times,
            phrases=phrase_spans,
            stresses=stresses,
            speaking=speaking,
            fps=fps,
            seed=seed,
            head_range=limits,
        )
    )
    tracks["breath"] = breath_track(times=times, phrases=phrase_spans, fps=fps, seed=seed)
    last_word_end = max((end for _, end in spoken), default=None)
    tracks["smile"] = smile_track(times=times, last_word_end=last_word_end, fps=fps)
    return Controls(fps=float(fps), frame_count=int(frame_count), tracks=tracks)
