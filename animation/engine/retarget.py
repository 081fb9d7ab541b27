"""A resident's motion curves (``capture``) -> the painting's Controls.

The person's motion is measured in their own units (degrees, inter-ocular distances, their own open-eye
level); the painting has a rig whose 2-D warp only holds up within small limits (``motion``'s head
limits). Retargeting therefore:

- head: takes the person's rest pose (their median) as the painting's rest, and scales their motion
  so that their usual large movements (90th percentile) land at 80 % of the rig's limit, never
  amplifying more than MAX_HEAD_GAIN (a still reader must not become a nodding one); a soft limit eases
  the rarer, larger ones into the limit. The rig's limits are small, so a gain set by the extremes
  would leave most of the reading's motion a pixel or two; a zero-phase spring (``smoothing``) removes
  tracking noise without any lag;
- blinks: found as events (hysteresis on the normalised curve) and redrawn as clean blinks whose
  closed moment is the middle of the person's closure: a tracked eye never quite
  closes and wobbles, a redrawn one closes fully for a frame, as the eye did;
- brows: the person's raise over their rest, with the part that comes from nodding removed (a head
  pitched down shortens the brow-to-eye distance on screen);
- mouth: the camera sets how far and how wide the mouth opens; the alignment's visemes add what
  a 25 fps camera at phone resolution misses (lip closures of M/B/P, teeth, rounding). The voice sets
  the timing: when the camera's mouth opening lines up clearly better with the voice's loudness at
  another lag (a phone's recorder may start the picture a few frames off the sound), every camera
  curve is shifted by that lag; a weak or ambiguous peak shifts nothing.

The smile stays as the voice made it, and the breath too, at half its depth (the person's own breathing
is in the head travel the camera saw). Past the end of the video the controls
ease back to the voice's motion. No Django here.
"""

from __future__ import annotations

import numpy as np

from animation.engine.capture import MotionCurves
from animation.engine.controls import Controls
from animation.engine.motion import (
    HEAD_SHIFT_LIMIT,
    HeadRange,
    blink_shape,
)
from animation.engine.smoothing import soft_limit, spring_smooth

# Head: the person's large movements land here, as a share of the rig's limit.
HEAD_RANGE_SHARE = 0.8
HEAD_PERCENTILE = 90
# The rig turns in depth as far as a reader usually does (``motion.HeadRange``), so the reader's turns
# come through one to one; never amplified.
MAX_HEAD_GAIN = 1.0
HEAD_TIME_CONSTANT = 0.04
# Sideways and vertical travel of the whole head: a smaller share of its limit than turns get, so the
# turn stays what a viewer reads.
SHIFT_SHARE = 0.25
# The person's own breathing is already in the head's travel the camera saw; the voice's synthetic
# breath (which lifts head and shoulders together) is kept, quieter, for the shoulders' sake.
CAMERA_BREATH_SCALE = 0.5
# A face is about two inter-ocular distances wide: head_x/head_y (IOD) -> fractions of the face.
FACE_WIDTHS_PER_IOD = 0.5

# Blinks: hysteresis on the 0..1 blink curve; one eye alone blinks only when the other stays open.
BLINK_ENTER = 0.5
BLINK_EXIT = 0.25
WINK_OTHER_BELOW = 0.3
BLINK_MIN_SECONDS = 0.1
BLINK_MAX_HOLD_SECONDS = 2.0

# Brows: a full raise is about a tenth of the inter-ocular distance above the rest.
BROW_FULL_RAISE_IOD = 0.08
BROW_LIMIT = 0.8
BROW_TIME_CONSTANT = 0.05
BROW_PITCH_MIN_CORRELATION = 0.5

# Mouth: the rig's mouth_open = 1 parts the lips by about this many inter-ocular distances (median over
# the rendered demo paintings, 0.20 to 0.44: bench/bench_capture.py "IOD/open"); the person's opening
# is mapped through it, so a resident's wide "ah" is the painting's wide "ah".
MOUTH_OPEN_FULL_IOD = 0.38
MOUTH_WIDTH_FULL_CHANGE = 0.2  # +-20 % of the usual width is the control's full spread/pursing
MOUTH_TIME_CONSTANT = 0.02
CAMERA_MOUTH_SHARE = 0.9  # of the opening; the rest comes from the visemes
MAX_AV_LAG_SECONDS = 0.2
# A lag is applied only when its match is this good and this much better than no shift at all.
AV_LAG_MIN_CORRELATION = 0.3
AV_LAG_MIN_GAIN = 0.1
EASE_OUT_SECONDS = 0.5


def _gain(deviation: np.ndarray, limit: float) -> float:
    spread = float(np.percentile(np.abs(deviation), HEAD_PERCENTILE)) if deviation.size else 0.0
    if spread <= 1e-9:
        return 0.0
    return min(MAX_HEAD_GAIN, HEAD_RANGE_SHARE * limit / spread)


def resample(motion: MotionCurves, name: str, times: np.ndarray) -> np.ndarray:
    """Curve NAME at TIMES (seconds, film clock), holding its first/last value outside the video."""
    return np.interp(times, motion.times, motion.curves[name])


def blink_events(
    motion: MotionCurves,
) -> list[tuple[float, float, float, float]]:
    """(middle of the closure, length in seconds, left depth, right depth) of each blink in the video."""
    left, right = motion.curves["blink_left"], motion.curves["blink_right"]
    both = np.maximum(left, right)
    times = motion.times
    frame = 1.0 / motion.fps if motion.fps > 0 else 0.04
    events = []
    index, count = 0, both.size
    while index < count:
        if both[index] < BLINK_ENTER:
            index += 1
            continue
        start = index
        while start > 0 and both[start - 1] > BLINK_EXIT:
            start -= 1
        end = index
        while end + 1 < count and both[end + 1] > BLINK_EXIT:
            end += 1
        span = slice(start, end + 1)
        # The blink's middle: the centre of its closure (a long one is a plateau, not a peak).
        weights = both[span] - BLINK_EXIT
        moment = float(np.sum(times[span] * weights) / np.sum(weights))
        # Eyes closed longer than a blink (a pause with eyes shut) stay shut for that long.
        length = float(np.clip(times[end] - times[start] + 2 * frame, BLINK_MIN_SECONDS, BLINK_MAX_HOLD_SECONDS))
        left_peak, right_peak = float(left[span].max()), float(right[span].max())
        left_depth = 1.0 if left_peak >= BLINK_ENTER or right_peak < WINK_OTHER_BELOW else 0.0
        right_depth = 1.0 if right_peak >= BLINK_ENTER or left_peak < WINK_OTHER_BELOW else 0.0
        # A shared blink closes both eyes: one eye's lids tracked less well is noise, not a wink.
        if min(left_peak, right_peak) >= WINK_OTHER_BELOW:
            left_depth = right_depth = 1.0
        events.append((moment, length, left_depth, right_depth))
        index = end + 1
    return events


def _blink_tracks(events: list[tuple[float, float, float, float]], times: np.ndarray, fps: float) -> np.ndarray:
    tracks = np.zeros((2, times.size))
    for shut, length, *depths in events:
        # Shares of a blink as motion draws them: a quick close, a short hold, a slower opening; long
        # closures hold the middle.
        closing = min(0.38 * 0.12, 0.38 * length)
        opening = min(0.5 * 0.12 + 0.04, 0.5 * length)
        hold = max(length - closing - opening, 0.12 * 0.12)
        start = shut - closing - hold / 2
        # The closed moment on a film frame, so the lids meet in at least one frame.
        start += round((start + closing + hold / 2) * fps) / fps - (start + closing + hold / 2)
        shape = blink_shape(times - start, closing=closing, hold=hold, opening=opening)
        for eye, depth in enumerate(depths):
            if depth > 0:
                tracks[eye] = np.maximum(tracks[eye], depth * shape)
    return tracks


def av_lag(camera_opening: np.ndarray, voice_level: np.ndarray, fps: float) -> float:
    """Seconds to shift the camera's curves later so its mouth best follows the voice (0 when unclear)."""

    def score(lag: int) -> float:
        if lag >= 0:
            x, y = camera_opening[: camera_opening.size - lag], voice_level[lag:]
        else:
            x, y = camera_opening[-lag:], voice_level[: voice_level.size + lag]
        if x.size < 10 or x.std() < 1e-9 or y.std() < 1e-9:
            return -1.0
        return float(np.corrcoef(x, y)[0, 1])

    reach = round(MAX_AV_LAG_SECONDS * fps)
    scores = {lag: score(lag) for lag in range(-reach, reach + 1)}
    best = max(scores, key=lambda lag: scores[lag])
    if scores[best] < AV_LAG_MIN_CORRELATION or scores[best] - scores[0] < AV_LAG_MIN_GAIN:
        return 0.0
    return best / fps


def retarget(
    motion: MotionCurves,
    *,
    voice: Controls,
    envelope: np.ndarray | None = None,
    head_range: HeadRange | None = None,
) -> tuple[Controls, dict[str, float]]:
    """Controls for the film of VOICE (same fps and frame count) driven by MOTION.

    VOICE: the controls ``motion.controls_from_alignment`` made from the voice; its mouth shapes,
    breath and smile are kept or blended, its head and blinks replaced where the video covers the film.
    ENVELOPE: the voice's loudness per film frame; given, it sets the camera's timing (``av_lag``).
    Returns the controls and a few figures (gains, lag) for the job's log.
    """
    fps, count = voice.fps, voice.frame_count
    film_times = np.arange(count) / fps
    tracks = {name: track.astype(np.float64).copy() for name, track in voice.tracks.items()}
    info: dict[str, float] = {}

    # The mouth first: its lag against the voice is the video's offset, used by every other curve too.
    lag = 0.0
    camera_open_raw = resample(motion, "mouth_open", film_times)
    if envelope is not None:
        lag = av_lag(camera_open_raw, np.asarray(envelope, dtype=np.float64)[:count], fps)
    info["lag_seconds"] = lag
    times = film_times - lag

    def at(name: str) -> np.ndarray:
        return resample(motion, name, times)

    found = motion.found
    # How far the video covers the film: 1 inside it, easing to 0 after it ends.
    after_end = np.clip((times - motion.duration) / EASE_OUT_SECONDS, 0.0, 1.0)
    before_start = np.clip(-times / EASE_OUT_SECONDS, 0.0, 1.0)
    cover = 1.0 - np.maximum(after_end, before_start)
    cover = cover * cover * (3.0 - 2.0 * cover)

    def blend(camera: np.ndarray, name: str) -> np.ndarray:
        return cover * camera + (1.0 - cover) * tracks[name]

    # Head.
    limits = head_range or HeadRange()
    for name in ("head_yaw", "head_pitch", "head_roll"):
        limit = limits.limit(name)
        if limit <= 0:
            tracks[name] = blend(np.zeros(count), name)
            info[f"{name}_gain"] = 0.0
            continue
        rest = float(np.median(motion.curves[name][found])) if found.any() else 0.0
        deviation = motion.curves[name] - rest
        gain = _gain(deviation[found], limit)
        info[f"{name}_gain"] = gain
        curve = soft_limit(gain * (at(name) - rest), limit)
        tracks[name] = blend(spring_smooth(curve, fps=fps, time_constant=HEAD_TIME_CONSTANT), name)
    # Shifts: what is left of the head's travel once turning and nodding are accounted for. A head
    # turns about the neck, so a turn also carries the face sideways, and the rig's turn already does.
    for name, source, turn in (("head_dx", "head_x", "head_yaw"), ("head_dy", "head_y", "head_pitch")):
        shift, angle = motion.curves[source], motion.curves[turn]
        slope = 0.0
        if found.sum() > 3 and np.std(angle[found]) > 1e-6:
            slope = float(np.polyfit(angle[found], shift[found], 1)[0])
        own = FACE_WIDTHS_PER_IOD * (shift - slope * angle)
        rest = float(np.median(own[found])) if found.any() else 0.0
        gain = _gain(own[found] - rest, SHIFT_SHARE * HEAD_SHIFT_LIMIT)
        curve = FACE_WIDTHS_PER_IOD * (at(source) - slope * at(turn)) - rest
        curve = soft_limit(gain * curve, HEAD_SHIFT_LIMIT)
        tracks[name] = blend(spring_smooth(curve, fps=fps, time_constant=HEAD_TIME_CONSTANT), name)

    # Blinks, redrawn crisp at the person's moments (on the film's clock).
    events = [(shut + lag, length, left, right) for shut, length, left, right in blink_events(motion)]
    info["blinks"] = float(len(events))
    blinks = _blink_tracks(events, film_times, fps)
    covered = cover > 0.5
    for eye, name in enumerate(("blink_left", "blink_right")):
        tracks[name] = np.where(covered, blinks[eye], tracks[name])

    # Brows: the raise over rest, less what nodding explains (least squares over the clip).
    brow = motion.curves["brow_raise"]
    pitch = motion.curves["head_pitch"]
    slope = 0.0
    # Only a clear dependence is perspective; a weak one is the person's own brows, left alone.
    if (
        found.sum() > 3
        and np.std(pitch[found]) > 1e-6
        and np.std(brow[found]) > 1e-9
        and abs(np.corrcoef(pitch[found], brow[found])[0, 1]) >= BROW_PITCH_MIN_CORRELATION
    ):
        slope = float(np.polyfit(pitch[found], brow[found], 1)[0])
    brow_curve = np.clip((at("brow_raise") - slope * (at("head_pitch") - np.median(pitch))) / BROW_FULL_RAISE_IOD, 0, 1)
    brow_curve = np.minimum(brow_curve, BROW_LIMIT)
    tracks["brow_raise"] = blend(spring_smooth(brow_curve, fps=fps, time_constant=BROW_TIME_CONSTANT), "brow_raise")

    # Mouth: the camera's opening over the person's closed-lips level, through the rig's scale.
    opening = motion.curves["mouth_open"]
    closed_level = float(np.percentile(opening[found], 5)) if found.any() else 0.0
    camera_open = np.clip((at("mouth_open") - closed_level) / MOUTH_OPEN_FULL_IOD, 0.0, 1.0)
    camera_open = spring_smooth(camera_open, fps=fps, time_constant=MOUTH_TIME_CONSTANT)
    pressed = tracks["lips_pressed"]
    mouth_open = CAMERA_MOUTH_SHARE * camera_open + (1.0 - CAMERA_MOUTH_SHARE) * tracks["mouth_open"]
    # The alignment knows where the lips meet (M/B/P) even when the camera's frames straddle it.
    mouth_open *= 1.0 - pressed
    tracks["mouth_open"] = np.clip(blend(mouth_open, "mouth_open"), 0.0, 1.0)
    usual_width = float(np.median(motion.curves["mouth_width"][found])) if found.any() else 1.0
    camera_width = np.clip((at("mouth_width") / max(usual_width, 1e-6) - 1.0) / MOUTH_WIDTH_FULL_CHANGE, -1.0, 1.0)
    camera_width = spring_smooth(camera_width, fps=fps, time_constant=MOUTH_TIME_CONSTANT)
    tracks["mouth_width"] = blend(0.5 * camera_width + 0.5 * tracks["mouth_width"], "mouth_width")
    camera_round = spring_smooth(at("mouth_round"), fps=fps, time_constant=MOUTH_TIME_CONSTANT)
    tracks["mouth_round"] = blend(np.maximum(0.6 * camera_round, tracks["mouth_round"]), "mouth_round")
    tracks["breath"] = blend(0.5 + CAMERA_BREATH_SCALE * (tracks["breath"] - 0.5), "breath")
    # Teeth show only as far as the mouth is open.
    tracks["teeth"] = tracks["teeth"] * np.clip(tracks["mouth_open"] / 0.2, 0.0, 1.0)
    return Controls(fps=fps, frame_count=count, tracks=tracks), info
