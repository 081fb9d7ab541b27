"""Fitting the DTW grid to the audio: unit boundaries moved onto pauses and acoustic edges, phrases.

Whisper's alignment heads smear a pause into the unit after it and are now and then 300 ms off
around it, so the unit after a silence would start at the silence's start. The whole reading is
fitted at once from frame-level evidence instead:

1. Pauses (voice activity) are given to the gaps between units by one dynamic programme over the
   reading, weighing Whisper's gaps, the syllables heard between two pauses (energy peaks) against
   the syllables written, the reading's own pace, and punctuation (``_assign_pauses``).
2. The units beside a pause end and start at the voice's own edges there (a weak h or s onset is
   speech already; a breath or a noise gate 40 dB under the voice is not).
3. Inside continuous speech each boundary starts as a weighted mean of Whisper's and the text's
   estimate; the units then share the stretch's syllable nuclei as their syllables say, each
   boundary moving to where the next syllable rises between two nuclei (``_boundaries_between_nuclei``),
   and is finally snapped to a short silence or energy dip next to it.

All of it costs a few milliseconds per 10 s of audio (bench_align prints it).
"""

from __future__ import annotations

import itertools
import re
from typing import Any

import numpy as np

from animation.engine import audio as audio_io
from animation.engine import compare
from animation.engine.align.results import Phrase
from animation.engine.align.text import TextUnit

SAMPLE_RATE = audio_io.SPEECH_SAMPLE_RATE
# A pause must be this long to split a phrase or to anchor the units beside it.
MIN_PAUSE_SECONDS = 0.1
PHRASE_PAUSE_SECONDS = 0.15
MIN_UNIT_SECONDS = 0.05
# Inside continuous speech the alignment heads alone place boundaries about 150 ms from the truth,
# with a bias that depends on the model (tiny.en late, base early). The text gives a second,
# independent estimate (units share a stretch of speech in proportion to their spoken length); the
# boundary is this weighted mean of the two, then moves to the nearest acoustic edge within the
# window, an edge further away having to be this much deeper (dB per second of distance) to win.
# These three constants were chosen on the TRAINING split of bench/align_dataset.py (other sentences,
# another seed) from a coarse grid (weight 0.3-0.6, window 0.10-0.20 s, 20 or 60 dB/s); the
# benchmark reports the held-out test split, which played no part in choosing them.
DTW_BOUNDARY_WEIGHT = 0.4
FINE_HOP_SECONDS = 0.005
# The constants below (issue 24) were chosen on the TRAINING splits only (bench/align_dataset.py:
# load_varied_set("train"), load_set("train"), load_noisy_set("train")) from small grids; the
# benchmark's test and holdout splits played no part.
# Pauses are given to the gaps between units by _assign_pauses, with costs in standard deviations:
# Whisper's gap this far (seconds) from a pause costs one; a unit's spoken length varies this much
# (natural log) around the reading's rate times its letters; a pause at a sentence end or a comma
# earns this much; one left inside a unit costs this much plus one per this many seconds of it;
# speech between two pauses given the same gap costs one per this many seconds. Gaps further than
# PAUSE_CANDIDATE_SECONDS from a pause are not considered for it.
PAUSE_DTW_SECONDS_PER_COST = 0.2
DURATION_LOG_SPREAD = 0.25
PUNCTUATION_PAUSE_BONUS_SENTENCE = 2.0
PUNCTUATION_PAUSE_BONUS_CLAUSE = 1.5
INSIDE_UNIT_PAUSE_COST = 3.0
INSIDE_UNIT_PAUSE_SECONDS_PER_COST = 0.1
BLIP_SECONDS_PER_COST = 0.05
PAUSE_CANDIDATE_SECONDS = 1.5
# Syllable nuclei: peaks of the 10 ms level with a dip of this many dB between neighbours (real
# Mandarin and English readings show 3-6 dB between syllables). Their count in a stretch, against
# the syllables written, varies by this much (variance: a constant plus a share per syllable).
NUCLEUS_HOP_SECONDS = 0.01
NUCLEUS_DIP_DB = 5.0
SYLLABLE_COUNT_VARIANCE = 0.3
SYLLABLE_COUNT_VARIANCE_PER_SYLLABLE = 0.3
# A Mandarin third tone shows two peaks about three times as often as other syllables (14 % against
# 5 % on the training readings): an extra nucleus there is less surprising by this share.
DIPPING_DISCOUNT = 0.3
# Inside a stretch, units take runs of its nuclei: a unit with one nucleus more or fewer than its
# syllables costs 1 / (2 * variance), a boundary this far from its estimate costs one, and no unit
# takes more than its syllables plus NUCLEUS_MAX_EXTRA.
NUCLEUS_UNIT_VARIANCE = 0.3
NUCLEUS_UNIT_VARIANCE_PER_SYLLABLE = 0.1
NUCLEUS_PRIOR_SECONDS_PER_COST = 0.1
NUCLEUS_MAX_EXTRA = 2
# Between two nuclei the boundary is the last 5 ms frame below the voice threshold plus this (dB).
SYLLABLE_ONSET_RISE_DB = 0.0
EDGE_TOLERANCE_SECONDS = 0.015
# A pause's edges: where the level rises this many dB over the pause's own median level, and to
# within VOICE_EDGE_RANGE_DB of loud speech (its 95th percentile).
VOICE_EDGE_RISE_DB = 3.0
VOICE_EDGE_RANGE_DB = 40.0
VOICE_EDGE_REACH_SECONDS = 0.03
VOICE_EDGE_MAX_SECONDS = 0.1
SNAP_WINDOW_SECONDS = 0.10
SNAP_DISTANCE_DB_PER_SECOND = 20.0
# A reading is noisy when its voice stands less than this over the room (dB from the 10th to the 95th
# percentile of the 10 ms levels): energy then says less (syllables drown, babble and clatter make
# peaks and "voice" of their own). Chosen on the TRAINING splits: the noisy readings (10 dB babble or
# kitchen noise, a room) span 16.9-24.6 dB, the quiet ones (clean, varied, spliced) 34-56 dB; the
# real recitation and browser take 58 dB, the radio clip 32 dB.
NOISY_READING_RANGE_DB = 29.0
# In a noisy reading, "voice" this short before the first pause or after the last, where Whisper
# puts no boundary of a unit, is the room (babble, clatter): on the training split's noisy readings
# such stretches last 0.04-0.28 s and none held speech; taken for the first or last unit, they
# pulled every unit up to the next pause one unit early or late (test split, en in 10 dB noise:
# onset MAE 71 -> 104 ms after the whole-reading fit).
EDGE_NOISE_SECONDS = 0.3
# Babble comes in bursts: past the first, a stretch this short between two pauses before the first
# unit is the room too (training split, noisy readings, from 0.08-0.25 s: en 53.6 -> 46.9 ms, zh
# 83 -> 72 ms, flat from 0.15 to 0.2 s; longer ones took real first words). After the last unit the
# same gained nothing on the training split and is left out.
EDGE_NOISE_BURST_SECONDS = 0.15


def voice_range_db(levels: np.ndarray) -> float:
    """How far the voice stands out of the room in LEVELS (dBFS per frame): the 95th percentile less
    the 10th, digital silence left out (it says nothing about the room)."""
    room = levels[levels > audio_io.DIGITAL_SILENCE_DBFS]
    if room.size < 2:
        return 0.0
    return float(np.percentile(room, 95) - np.percentile(room, 10))


def is_noisy_reading(levels: np.ndarray) -> bool:
    """Whether the reading whose 10 ms LEVELS these are was made in a noisy room (NOISY_READING_RANGE_DB)."""
    return voice_range_db(levels) < NOISY_READING_RANGE_DB


def _edge_noise_as_silence(
    pauses: list[tuple[float, float]], *, starts: np.ndarray, ends: np.ndarray, duration: float
) -> list[tuple[float, float]]:
    """PAUSES with the short stretches of "voice" before the first unit and after the last taken into
    the leading and trailing silence: the one at the very edge at most EDGE_NOISE_SECONDS, before the
    first unit any further burst at most EDGE_NOISE_BURST_SECONDS, each cut off by a pause that
    Whisper's first unit ends after (its last starts before): noise at the edges of a noisy reading,
    not a unit."""
    remaining = list(pauses)
    leading_end = 0.0
    while (
        remaining
        and remaining[0][0] - leading_end <= (EDGE_NOISE_SECONDS if leading_end == 0.0 else EDGE_NOISE_BURST_SECONDS)
        and ends[0] > remaining[0][1]
    ):
        leading_end = remaining.pop(0)[1]
    # At the end only the stretch at the very edge: a short one between two pauses there is as often
    # the last syllable's own tail (a dipping third tone, the room's echo) as noise.
    trailing_start = duration
    if remaining and duration - remaining[-1][1] <= EDGE_NOISE_SECONDS and starts[-1] < remaining[-1][0]:
        trailing_start = remaining.pop()[0]
    leading = [(0.0, leading_end)] if leading_end > 0.0 else []
    trailing = [(trailing_start, duration)] if trailing_start < duration else []
    return leading + remaining + trailing


def _distance_to_gap(pause: tuple[float, float], gap: tuple[float, float]) -> float:
    return max(0.0, gap[0] - pause[1], pause[0] - gap[1])


def refine_boundaries(
    starts: np.ndarray,
    ends: np.ndarray,
    *,
    units: list[TextUnit],
    samples: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Fit Whisper's DTW unit times (20 ms grid, pauses smeared into neighbouring units) to SAMPLES.

    1. Each pause is given to a gap between units, or left inside one, for the whole reading at once
       (``_assign_pauses``); the units beside it end and start where the voice stops and starts.
    2. Between two such anchors the units share the stretch: Whisper's and the text's estimate of
       each boundary, moved onto the syllable nuclei the units' syllables call for, then to the
       acoustic edge next to it: a short silence (the unit before ends where it starts, the next
       begins where it ends) or else the energy dip between two syllables.
    """
    duration = samples.size / SAMPLE_RATE
    pauses = audio_io.find_silences(samples, SAMPLE_RATE, min_silence=MIN_PAUSE_SECONDS)
    nucleus_levels, nucleus_threshold = audio_io.activity_levels(samples, SAMPLE_RATE, hop=NUCLEUS_HOP_SECONDS)
    nuclei = syllable_nuclei(nucleus_levels, nucleus_threshold)
    if is_noisy_reading(nucleus_levels):
        pauses = _edge_noise_as_silence(pauses, starts=starts, ends=ends, duration=duration)
    levels, threshold = audio_io.activity_levels(samples, SAMPLE_RATE, hop=FINE_HOP_SECONDS)
    starts, ends = _anchor_to_pauses(
        starts,
        ends,
        units=units,
        pauses=pauses,
        nuclei=nuclei,
        fine_levels=levels,
        fine_threshold=threshold,
        raw_levels=_frame_levels(samples, FINE_HOP_SECONDS),
        duration=duration,
    )
    return _snap_to_edges(starts, ends, levels=levels, threshold=threshold)


def _frame_levels(samples: np.ndarray, hop: float) -> np.ndarray:
    """Level in dBFS of each HOP-second frame (frame i covers i * HOP .. (i + 1) * HOP), unsmoothed:
    an onset shows in the frame it happens in."""
    size = max(1, round(hop * SAMPLE_RATE))
    count = max(1, int(np.ceil(samples.size / size)))
    padded = np.zeros(count * size, dtype=np.float64)
    padded[: samples.size] = samples
    return 10.0 * np.log10(np.maximum(np.mean(padded.reshape(count, size) ** 2, axis=1), 1e-12))


def _pause_at_voice_edges(pause: tuple[float, float], levels: np.ndarray, *, loud: float) -> tuple[float, float]:
    """PAUSE (from voice activity on smoothed 10 ms levels, with a threshold well above the room)
    moved to where the voice really stops and starts: the first and the last 5 ms frame that is no
    louder than the pause's own floor (the median of its frames, digital silence left out) plus
    VOICE_EDGE_RISE_DB, nor than VOICE_EDGE_RANGE_DB under LOUD speech, looking up to
    VOICE_EDGE_REACH_SECONDS beyond its edges and at most VOICE_EDGE_MAX_SECONDS inside them. A
    weak onset (h, f, s, a breathy vowel) is speech already: the unit after the pause begins there,
    not once the voice has grown loud. A breath or a noise gate opening 40 dB under the voice is not."""
    first = round(pause[0] / FINE_HOP_SECONDS)
    last = min(levels.size, round(pause[1] / FINE_HOP_SECONDS))
    if last - first < 2:
        return pause
    inside = levels[first:last]
    room = inside[inside > audio_io.DIGITAL_SILENCE_DBFS]
    floor = float(np.median(room)) if room.size else audio_io.DIGITAL_SILENCE_DBFS
    quiet = levels <= max(floor + VOICE_EDGE_RISE_DB, loud - VOICE_EDGE_RANGE_DB)
    inside_quiet = np.flatnonzero(quiet[first:last])
    if inside_quiet.size == 0:
        return pause
    reach = round(VOICE_EDGE_REACH_SECONDS / FINE_HOP_SECONDS)
    start_frame, end_frame = first + int(inside_quiet[0]), first + int(inside_quiet[-1]) + 1
    while start_frame > max(0, first - reach) and quiet[start_frame - 1]:
        start_frame -= 1
    while end_frame < min(levels.size, last + reach) and quiet[end_frame]:
        end_frame += 1
    # A weak onset or a fading end lasts a consonant's length: anything more is noise in the pause.
    start = pause[0] if first == 0 else min(start_frame * FINE_HOP_SECONDS, pause[0] + VOICE_EDGE_MAX_SECONDS)
    end = pause[1] if last == levels.size else max(end_frame * FINE_HOP_SECONDS, pause[1] - VOICE_EDGE_MAX_SECONDS)
    if end - start < MIN_PAUSE_SECONDS / 2:
        return pause
    return (float(start), float(end))


def _snap_to_edges(
    starts: np.ndarray, ends: np.ndarray, *, levels: np.ndarray, threshold: float
) -> tuple[np.ndarray, np.ndarray]:
    starts, ends = starts.copy(), ends.copy()
    original_starts, original_ends = starts.copy(), ends.copy()
    frame_times = np.arange(levels.size) * FINE_HOP_SECONDS
    for index in range(len(starts) - 1):
        boundary = original_ends[index]
        if original_starts[index + 1] - boundary > 1e-6:
            continue  # already cut at a pause
        low = max(boundary - SNAP_WINDOW_SECONDS, starts[index] + MIN_UNIT_SECONDS)
        high = min(boundary + SNAP_WINDOW_SECONDS, original_ends[index + 1] - MIN_UNIT_SECONDS)
        frames = np.flatnonzero((frame_times >= low) & (frame_times + FINE_HOP_SECONDS <= high))
        if frames.size == 0:
            continue
        silent = levels[frames] < threshold
        if silent.any():
            runs = [
                (frames[run_start], frames[run_end - 1] + 1)
                for run_start, run_end, value in _mask_runs(silent)
                if value
            ]
            first, last = min(
                runs,
                key=lambda run: _distance_to_gap(
                    (boundary, boundary), (run[0] * FINE_HOP_SECONDS, run[1] * FINE_HOP_SECONDS)
                ),
            )
            # The silence goes on where it goes on: cut at the window's edge, the next unit would
            # start inside it, too early. Its real edges count, within the two units' own limits.
            lowest = max(0, int(np.ceil((starts[index] + MIN_UNIT_SECONDS) / FINE_HOP_SECONDS)))
            highest = min(levels.size, int((original_ends[index + 1] - MIN_UNIT_SECONDS) / FINE_HOP_SECONDS))
            while first > lowest and levels[first - 1] < threshold:
                first -= 1
            while last < highest and levels[last] < threshold:
                last += 1
            ends[index] = first * FINE_HOP_SECONDS
            starts[index + 1] = last * FINE_HOP_SECONDS
        else:
            cost = levels[frames] + SNAP_DISTANCE_DB_PER_SECOND * np.abs(
                frame_times[frames] + FINE_HOP_SECONDS / 2 - boundary
            )
            dip = frame_times[frames[int(np.argmin(cost))]] + FINE_HOP_SECONDS / 2
            ends[index] = starts[index + 1] = dip
    return starts, ends


def _mask_runs(mask: np.ndarray) -> list[tuple[int, int, bool]]:
    change = np.flatnonzero(np.diff(mask.astype(np.int8))) + 1
    bounds = np.concatenate([[0], change, [mask.size]])
    return [(int(a), int(b), bool(mask[a])) for a, b in itertools.pairwise(bounds)]


def _anchor_to_pauses(
    starts: np.ndarray,
    ends: np.ndarray,
    *,
    units: list[TextUnit],
    pauses: list[tuple[float, float]],
    nuclei: np.ndarray,
    fine_levels: np.ndarray,
    fine_threshold: float,
    raw_levels: np.ndarray,
    duration: float,
) -> tuple[np.ndarray, np.ndarray]:
    count = len(units)
    starts = starts.astype(np.float64).copy()
    ends = ends.astype(np.float64).copy()
    # gap g lies between unit g and g + 1; gap -1 is before the first unit, count - 1 after the last.
    gaps = [(-np.inf, starts[0])]
    gaps += [(ends[index], max(ends[index], starts[index + 1])) for index in range(count - 1)]
    gaps += [(ends[-1], np.inf)]
    voiced = raw_levels[raw_levels > audio_io.DIGITAL_SILENCE_DBFS]
    loud = float(np.percentile(voiced, 95)) if voiced.size else 0.0
    anchors = _assign_pauses(
        gaps[1:-1],
        units=units,
        pauses=pauses,
        nuclei=nuclei,
        duration=duration,
        first_start=starts[0],
        last_end=ends[-1],
    )
    # Which gap a pause belongs to is decided on voice activity's pauses; where the units beside it
    # stop and start is the voice's own edge.
    anchors = {gap: _pause_at_voice_edges(pause, raw_levels, loud=loud) for gap, pause in anchors.items()}

    # Leading/trailing silence that VAD did not report (speech right at the edge) anchors at 0/duration.
    anchors.setdefault(-1, (0.0, max(0.0, min(starts[0], duration))))
    anchors.setdefault(count - 1, (min(max(ends[-1], 0.0), duration), duration))

    anchor_gaps = sorted(anchors)
    new_starts = np.empty(count)
    new_ends = np.empty(count)
    for left_gap, right_gap in itertools.pairwise(anchor_gaps):
        first, last = left_gap + 1, right_gap  # units in this stretch of continuous speech
        run_start, run_end = anchors[left_gap][1], anchors[right_gap][0]
        if run_end - run_start < MIN_UNIT_SECONDS * (last - first + 1):
            # The pauses squeezed the speech out: trust Whisper's own span instead.
            run_start = min(run_start, starts[first])
            run_end = max(run_end, ends[last], run_start + MIN_UNIT_SECONDS * (last - first + 1))
        boundaries = _stretch_boundaries(
            starts, ends, units=units, first=first, last=last, run_start=run_start, run_end=run_end
        )
        edges = np.array([run_start, *boundaries, run_end])
        edges = _boundaries_between_nuclei(
            edges,
            syllables=[syllable_count(unit.spoken) for unit in units[first : last + 1]],
            dipping=[dipping_syllable_count(unit.spoken) for unit in units[first : last + 1]],
            nuclei=nuclei,
            levels=fine_levels,
            threshold=fine_threshold,
        )
        edges = _spread(edges, MIN_UNIT_SECONDS)
        new_starts[first : last + 1] = edges[:-1]
        new_ends[first : last + 1] = edges[1:]
    return new_starts, new_ends


def _assign_pauses(
    gaps: list[tuple[float, float]],
    *,
    units: list[TextUnit],
    pauses: list[tuple[float, float]],
    nuclei: np.ndarray,
    duration: float,
    first_start: float,
    last_end: float,
) -> dict[int, tuple[float, float]]:
    """Which gap between units each pause belongs to (gap g: between unit g and g + 1), for the whole
    reading at once: {gap: (start, end)} of the pauses given a gap, the leading one at gap -1 and the
    trailing one at gap count - 1.

    A pause placed one gap too early makes the next unit start at the beginning of the silence, so
    the choice weighs four kinds of evidence, each as a cost in standard deviations: how far
    Whisper's gap is from the pause; how many syllable nuclei (energy peaks) the speech between two
    chosen pauses holds against the syllables of the units given to it; how well its length fits
    them at the reading's own rate (letters or characters per second); and punctuation, where
    readers pause. A pause may also be left inside a unit (a stop closure, a hesitation) at a
    price, and two pauses may share a gap when only a blip (a breath, a click) lies between them.
    A dynamic programme over (pause, gap) pairs finds the cheapest choice.
    """
    count = len(units)
    anchors: dict[int, tuple[float, float]] = {}
    interior = []
    for pause in pauses:
        # find_silences reports edges on its 10 ms grid, rounded: the last pause may end a little short.
        if pause[0] <= EDGE_TOLERANCE_SECONDS:
            anchors[-1] = pause
        elif pause[1] >= duration - EDGE_TOLERANCE_SECONDS:
            anchors[count - 1] = pause
        else:
            interior.append(pause)
    if not interior or count < 2:
        return anchors
    speech_start = anchors[-1][1] if -1 in anchors else max(0.0, min(first_start, duration))
    speech_end = anchors[count - 1][0] if count - 1 in anchors else min(max(last_end, 0.0), duration)
    pause_lengths = np.array([end - start for start, end in interior])
    # Prefix sums: silence and the price of pauses left inside units, letters of units.
    silence_before = np.concatenate([[0.0], np.cumsum(pause_lengths)])
    inside_cost = INSIDE_UNIT_PAUSE_COST + pause_lengths / INSIDE_UNIT_PAUSE_SECONDS_PER_COST
    inside_before = np.concatenate([[0.0], np.cumsum(inside_cost)])
    lengths = np.array([_spoken_length(unit) for unit in units], dtype=np.float64)
    letters_before = np.concatenate([[0.0], np.cumsum(lengths)])
    syllables_before = np.concatenate([[0.0], np.cumsum([syllable_count(unit.spoken) for unit in units])])
    dipping_before = np.concatenate([[0.0], np.cumsum([dipping_syllable_count(unit.spoken) for unit in units])])
    speech_seconds = max(speech_end - speech_start - silence_before[-1], MIN_UNIT_SECONDS * count)
    seconds_per_letter = speech_seconds / letters_before[-1]

    def stretch_cost(
        first_gap: np.ndarray, last_gap: int, after_pause: np.ndarray, before_pause: int, begin: np.ndarray, end: float
    ) -> np.ndarray:
        """Cost of units first_gap + 1 .. last_gap spoken between BEGIN and END, pauses
        after_pause + 1 .. before_pause - 1 left inside them."""
        unit_count = last_gap - first_gap
        speech = end - begin - (silence_before[before_pause] - silence_before[after_pause + 1])
        expected = seconds_per_letter * (letters_before[last_gap + 1] - letters_before[first_gap + 1])
        ratio = np.log(np.maximum(speech, MIN_UNIT_SECONDS * unit_count * 0.2) / expected)
        # Less than MIN_UNIT_SECONDS a unit is next to impossible: ten deviations per unit missing.
        squeezed = np.maximum(0.0, MIN_UNIT_SECONDS * unit_count - speech) / MIN_UNIT_SECONDS
        # Syllables heard (energy peaks) against syllables written: a stretch holding one unit too
        # many or too few says so even where the reader's pace varies.
        heard = np.searchsorted(nuclei, end) - np.searchsorted(nuclei, begin)
        written = syllables_before[last_gap + 1] - syllables_before[first_gap + 1]
        dipping = dipping_before[last_gap + 1] - dipping_before[first_gap + 1]
        variance = SYLLABLE_COUNT_VARIANCE + SYLLABLE_COUNT_VARIANCE_PER_SYLLABLE * written
        return (
            ratio**2 * unit_count / (2 * DURATION_LOG_SPREAD**2)
            + _nucleus_surprise(heard, written, dipping) ** 2 / (2 * variance)
            + 10.0 * squeezed
        )

    # Nodes: (pause index, gap, the time its pause ends, cost so far, previous node). Node 0 is the
    # start of the speech (pause -1, gap -1).
    node_pause = [-1]
    node_gap = [-1]
    node_time = [speech_start]
    node_cost = [0.0]
    node_previous = [-1]
    punctuation = np.array(
        [
            PUNCTUATION_PAUSE_BONUS_SENTENCE
            if unit.ends_sentence
            else PUNCTUATION_PAUSE_BONUS_CLAUSE
            if unit.ends_clause
            else 0.0
            for unit in units[:-1]
        ]
    )
    gap_low = np.array([gap[0] for gap in gaps])
    gap_high = np.array([gap[1] for gap in gaps])

    def best_predecessor(pause_index: int, gap: int, pause_start: float) -> tuple[float, int]:
        pauses_so_far = np.array(node_pause)
        gaps_so_far = np.array(node_gap)
        times = np.array(node_time)
        costs = np.array(node_cost)
        total = np.full(costs.size, np.inf)
        earlier = (pauses_so_far < pause_index) & (gaps_so_far < gap)
        if earlier.any():
            chosen = np.flatnonzero(earlier)
            total[chosen] = (
                costs[chosen]
                + inside_before[pause_index]
                - inside_before[pauses_so_far[chosen] + 1]
                + stretch_cost(gaps_so_far[chosen], gap, pauses_so_far[chosen], pause_index, times[chosen], pause_start)
            )
        # Two pauses with a blip between them: the same gap.
        shared = np.flatnonzero((pauses_so_far == pause_index - 1) & (gaps_so_far == gap))
        total[shared] = costs[shared] + (pause_start - times[shared]) / BLIP_SECONDS_PER_COST
        previous = int(np.argmin(total))
        return float(total[previous]), previous

    for pause_index, (pause_start, pause_end) in enumerate(interior):
        distance = np.maximum(0.0, np.maximum(gap_low - pause_end, pause_start - gap_high))
        for gap in np.flatnonzero(distance <= PAUSE_CANDIDATE_SECONDS):
            cost, previous = best_predecessor(pause_index, int(gap), pause_start)
            if not np.isfinite(cost):
                continue
            node_pause.append(pause_index)
            node_gap.append(int(gap))
            node_time.append(pause_end)
            node_cost.append(cost + distance[gap] / PAUSE_DTW_SECONDS_PER_COST - punctuation[gap])
            node_previous.append(previous)
    cost, node = best_predecessor(len(interior), count - 1, speech_end)
    if not np.isfinite(cost):
        return anchors
    while node > 0:
        pause = interior[node_pause[node]]
        gap = node_gap[node]
        if gap in anchors:  # a later pause sharing the gap: one pause from the first start to the last end
            pause = (pause[0], anchors[gap][1])
        anchors[gap] = pause
        node = node_previous[node]
    return anchors


def _stretch_boundaries(
    starts: np.ndarray,
    ends: np.ndarray,
    *,
    units: list[TextUnit],
    first: int,
    last: int,
    run_start: float,
    run_end: float,
) -> np.ndarray:
    """Boundaries between units FIRST..LAST, which are spoken without a pause from RUN_START to RUN_END.

    Two independent estimates are averaged: Whisper's (the midpoint of its end and next start) and
    the text's (each unit takes a share of the stretch in proportion to its spoken length).
    """
    whisper_boundaries = np.array([(ends[index] + starts[index + 1]) / 2 for index in range(first, last)])
    if last == first:
        return whisper_boundaries
    lengths = np.array([_spoken_length(units[index]) for index in range(first, last + 1)], dtype=np.float64)
    text_boundaries = run_start + (run_end - run_start) * np.cumsum(lengths)[:-1] / lengths.sum()
    return DTW_BOUNDARY_WEIGHT * whisper_boundaries + (1 - DTW_BOUNDARY_WEIGHT) * text_boundaries


def _boundaries_between_nuclei(
    edges: np.ndarray,
    *,
    syllables: list[int],
    dipping: list[int],
    nuclei: np.ndarray,
    levels: np.ndarray,
    threshold: float,
) -> np.ndarray:
    """EDGES (a stretch's start, its estimated unit boundaries, its end) moved to the syllable
    boundary between two nuclei, the units sharing the stretch's nuclei as their syllables say
    (DIPPING of each unit's syllables may show two nuclei; LEVELS and THRESHOLD: the 5 ms levels and
    their voice threshold).

    Inside continuous speech the alignment heads place boundaries 100-300 ms off now and then; the
    nuclei say where syllables are. Each unit takes a run of the nuclei (a dynamic programme): a
    unit given more or fewer than its written syllables pays for each one, and each boundary pays
    for its distance from the estimate in EDGES, so the two kinds of evidence are weighed together.
    """
    count = len(syllables)
    inside = nuclei[(nuclei > edges[0]) & (nuclei < edges[-1])]
    nucleus_count = inside.size
    if count < 2 or nucleus_count < 2:
        return edges
    # dips[j]: the syllable boundary between nucleus j - 1 and nucleus j.
    dips = np.empty(nucleus_count + 1)
    dips[0], dips[-1] = edges[0], edges[-1]
    for index in range(1, nucleus_count):
        low = int(inside[index - 1] / FINE_HOP_SECONDS + 0.5)
        high = max(low + 1, int(inside[index] / FINE_HOP_SECONDS + 0.5))
        between = levels[low:high]
        # Where the voice fades into the room between two syllables, the next one starts where it
        # rises out of it again (its onset), not somewhere in the quiet; else at the deepest dip.
        quiet = np.flatnonzero(between < threshold + SYLLABLE_ONSET_RISE_DB)
        frame = int(quiet[-1]) if quiet.size else int(np.argmin(between))
        dips[index] = (low + frame) * FINE_HOP_SECONDS + FINE_HOP_SECONDS / 2
    # cost[k, j]: units 0..k-1 hold nuclei 0..j-1. choice[k, j]: how many the last of them took.
    cost = np.full((count + 1, nucleus_count + 1), np.inf)
    choice = np.zeros((count + 1, nucleus_count + 1), dtype=np.int64)
    cost[0, 0] = 0.0
    for unit in range(count):
        written = syllables[unit]
        variance = NUCLEUS_UNIT_VARIANCE + NUCLEUS_UNIT_VARIANCE_PER_SYLLABLE * written
        most = written + dipping[unit] + NUCLEUS_MAX_EXTRA
        for taken_before in np.flatnonzero(np.isfinite(cost[unit])):
            room = nucleus_count - taken_before
            options = range(room, room + 1) if unit == count - 1 else range(min(room, most) + 1)
            for taken in options:
                after = taken_before + taken
                step = _nucleus_surprise(taken, written, dipping[unit]) ** 2 / (2 * variance)
                if unit < count - 1:
                    step += abs(dips[after] - edges[unit + 1]) / NUCLEUS_PRIOR_SECONDS_PER_COST
                total = cost[unit, taken_before] + step
                if total < cost[unit + 1, after]:
                    cost[unit + 1, after] = total
                    choice[unit + 1, after] = taken
    if not np.isfinite(cost[count, nucleus_count]):
        return edges
    held = np.zeros(count, dtype=np.int64)
    after = nucleus_count
    for unit in range(count, 0, -1):
        held[unit - 1] = choice[unit, after]
        after -= held[unit - 1]
    placed = edges.copy()
    consumed = np.cumsum(held)
    for unit in range(count - 1):
        # A unit given no nucleus has no syllable boundary of its own: keep the estimate there.
        if held[unit] > 0 and held[unit + 1] > 0:
            placed[unit + 1] = dips[consumed[unit]]
    return placed


def syllable_nuclei(levels: np.ndarray, threshold: float) -> np.ndarray:
    """Times (seconds, sorted) of the syllable nuclei in LEVELS (dBFS per NUCLEUS_HOP_SECONDS frame):
    the loud peaks above THRESHOLD with a dip of at least NUCLEUS_DIP_DB between each and the next."""
    if levels.size < 3:
        return np.zeros(0)
    maxima = np.flatnonzero((levels[1:-1] >= levels[:-2]) & (levels[1:-1] > levels[2:]) & (levels[1:-1] > threshold))
    peaks: list[int] = []
    for frame in maxima + 1:
        if peaks and min(levels[peaks[-1]], levels[frame]) - levels[peaks[-1] : frame + 1].min() < NUCLEUS_DIP_DB:
            if levels[frame] > levels[peaks[-1]]:
                peaks[-1] = frame  # one syllable: keep its loudest point
            continue
        peaks.append(int(frame))
    return np.array(peaks, dtype=np.float64) * NUCLEUS_HOP_SECONDS


_VOWEL_GROUPS = re.compile("[aeiouyàáâäèéêëìíîïòóôöùúûüœæ]+")


def _nucleus_surprise(heard: Any, written: Any, dipping: Any) -> Any:
    """How many nuclei HEARD has too few or too many for WRITTEN syllables (arrays or numbers); an
    extra one counts less, by DIPPING_DISCOUNT, while DIPPING of the syllables may have shown it."""
    extra = np.maximum(0, heard - written)
    return np.maximum(0, written - heard) + extra - DIPPING_DISCOUNT * np.minimum(extra, dipping)


def dipping_syllable_count(spoken: str) -> int:
    """Mandarin third-tone syllables in SPOKEN: the voice dips (and often creaks) in their middle, so
    their energy often shows two peaks where other syllables show one."""
    return sum(1 for character in spoken if ord(character) > 0x2E7F and compare.sound_of(character, "zh")[0][1] == "3")


def syllable_count(spoken: str) -> int:
    """Syllables in SPOKEN, roughly: one per Han character or kana, one per vowel group elsewhere
    (a final silent e dropped). At least one."""
    count = 0
    for run in re.findall(r"[^\W\d_]+", spoken.lower()):
        if all(ord(character) > 0x2E7F for character in run):
            count += len(run)  # CJK: a syllable per character
            continue
        groups = len(_VOWEL_GROUPS.findall(run))
        if groups > 1 and run.endswith("e") and not run.endswith(("le", "ee", "ye")):
            groups -= 1
        count += max(1, groups)
    return max(1, count)


def _spoken_length(unit: TextUnit) -> int:
    """Letters (or characters) said: a rough measure of how long the unit takes to say."""
    return max(1, sum(character.isalnum() for character in unit.spoken))


def _spread(edges: np.ndarray, minimum: float) -> np.ndarray:
    """Make the interior EDGES increasing with at least MINIMUM between them, keeping the two ends.

    Collapsed units are given room from their neighbours rather than left at zero length.
    """
    edges = edges.copy()
    count = edges.size - 1
    minimum = min(minimum, (edges[-1] - edges[0]) / max(count, 1))
    lowest = edges[0] + minimum * np.arange(edges.size)
    highest = edges[-1] - minimum * np.arange(edges.size)[::-1]
    edges = np.clip(edges, lowest, highest)
    for index in range(1, edges.size):
        edges[index] = max(edges[index], edges[index - 1] + minimum)
    for index in range(edges.size - 2, -1, -1):
        edges[index] = min(edges[index], edges[index + 1] - minimum)
    return edges


def split_phrases(starts: np.ndarray, ends: np.ndarray) -> list[Phrase]:
    phrases = []
    phrase_start = starts[0]
    for index in range(len(starts) - 1):
        if starts[index + 1] - ends[index] >= PHRASE_PAUSE_SECONDS:
            phrases.append(Phrase(float(phrase_start), float(ends[index])))
            phrase_start = starts[index + 1]
    phrases.append(Phrase(float(phrase_start), float(ends[-1])))
    return phrases


def place_skipped(starts: np.ndarray, ends: np.ndarray, skipped: np.ndarray) -> None:
    """Give each skipped unit no time, where the reading passed over it: the end of the unit read
    before it (or the start of the first unit read, for text skipped at the very beginning)."""
    read = np.flatnonzero(~skipped)
    for index in np.flatnonzero(skipped):
        before = read[read < index]
        if before.size:
            moment = ends[before[-1]]
        elif read.size:
            moment = starts[read[0]]
        else:
            moment = 0.0
        starts[index] = ends[index] = moment
