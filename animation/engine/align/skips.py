"""Skips checked against the voice: the syllable nuclei heard, shared out among the units of the text.

Whisper prompted with the passage writes the passage whether or not it was read, and without the
prompt it garbles Mandarin; the transcripts alone found 24 of 59 spliced skips and marked read
characters (奶奶) as skipped. The voice itself says more: every Mandarin character read has a voiced
nucleus (an energy peak, ``boundaries.syllable_nuclei``), and a skipped phrase leaves none where the
forced alignment would put it.

``skips_from_nuclei`` walks the reading once (a dynamic programme over units × nuclei): each unit is
either read, taking a run of the nuclei near Whisper's time for it, as many as it has syllables, or
skipped, which is cheap only when the aligner's own probability for its tokens is low (they were
forced onto audio that does not say them) and cheaper again where the transcripts did not hear it.
Nuclei nobody takes (a breath, a noise) cost a little each.
"""

from __future__ import annotations

import dataclasses

import numpy as np

# Costs, in the same units throughout. Chosen on the TRAINING split of the spliced readings
# (bench/align_dataset.py load_spliced_set("train")) from small grids; test and holdout played no part.
# A unit read with fewer nuclei than syllables costs this much per missing nucleus (syllables run
# together in connected speech), one with more this much per extra one (third tones dip, noise).
MISSING_NUCLEUS_COST = 2.0
EXTRA_NUCLEUS_COST = 0.6
# A nucleus no unit takes (before, between or after the units).
UNCLAIMED_NUCLEUS_COST = 0.8
# A unit's first nucleus this far (seconds) outside Whisper's span for it costs one; at most MAX_TIME_COST.
TIME_SECONDS_PER_COST = 0.4
MAX_TIME_COST = 3.0
# Skipping a unit costs SKIP_COST plus SKIP_LOG_PROBABILITY_WEIGHT times the mean log probability of
# its tokens in the forced alignment (negative: a unit forced onto audio that does not say it scores
# low), less PLAN_SKIP_DISCOUNT where the transcripts did not hear it either; never below MIN_SKIP_COST.
SKIP_COST = 2.5
SKIP_LOG_PROBABILITY_WEIGHT = 0.4
PLAN_SKIP_DISCOUNT = 1.0
# The alignment heads squeeze a unit that is not in the audio into a frame or two: a span this short
# makes its skip cheaper by COLLAPSED_DISCOUNT.
COLLAPSED_SECONDS = 0.03
COLLAPSED_DISCOUNT = 0.5
MIN_SKIP_COST = 0.0
# A run of skipped units pays this once, less CLAUSE_SKIP_DISCOUNT when it starts a line or clause.
SKIP_OPEN_COST = 1.0
CLAUSE_SKIP_DISCOUNT = 0.5
# An extra nucleus on a third-tone syllable costs this share less.
DIPPING_DISCOUNT = 0.0
# A unit takes at most this many nuclei more than its syllables.
MAX_EXTRA_NUCLEI = 2


@dataclasses.dataclass(frozen=True)
class NucleusEvidence:
    """What the voice says about each item of a reading: SKIPPED (not read), NUCLEI (how many nuclei
    it was given; 0 for a skipped item) and SUPPORT, 0..1: how well its nuclei fit its syllables."""

    skipped: np.ndarray
    nuclei: np.ndarray
    support: np.ndarray


@dataclasses.dataclass(frozen=True)
class ReadingItem:
    """One item of a reading for ``skips_from_nuclei``: a unit of the text or a word added.

    SYLLABLES written (DIPPING of them third tones, which often show two nuclei); SKIPPABLE False for
    added words, which were heard; START and END Whisper's span (seconds); LOG_PROBABILITY the mean
    log probability of its tokens in the forced alignment; PLAN_SKIPPED the transcripts did not hear
    it; CLAUSE_START it begins a line or clause of the text (readers skip whole lines)."""

    syllables: int
    start: float
    end: float
    log_probability: float
    skippable: bool = True
    dipping: int = 0
    plan_skipped: bool = False
    clause_start: bool = False


def skips_heard(evidence: NucleusEvidence, items: list[ReadingItem], *, noisy: bool) -> np.ndarray:
    """The items to skip: those the nuclei left out (EVIDENCE), except in a NOISY reading
    (``boundaries.is_noisy_reading``), where the transcripts must not have heard them either: there
    a syllable drowns in the noise and babble adds peaks of its own, and the nuclei alone marked read
    characters as skipped; a read unit marked skipped loses its subtitle and its mouth."""
    if not noisy:
        return evidence.skipped.copy()
    return evidence.skipped & np.array([item.plan_skipped for item in items], dtype=bool)


def _skip_cost(item: ReadingItem) -> float:
    cost = SKIP_COST + SKIP_LOG_PROBABILITY_WEIGHT * item.log_probability
    if item.plan_skipped:
        cost -= PLAN_SKIP_DISCOUNT
    if item.end - item.start <= COLLAPSED_SECONDS:
        cost -= COLLAPSED_DISCOUNT
    return max(MIN_SKIP_COST, cost)


def skips_from_nuclei(items: list[ReadingItem], nuclei: np.ndarray) -> NucleusEvidence:
    """Decide which ITEMS of a reading (in reading order, as the forced alignment was given them)
    were skipped, from NUCLEI, the sorted times of the syllable nuclei heard.

    Two tables over (items, nuclei): the cheapest account ending with a unit read, and ending with a
    unit skipped; a run of skips pays SKIP_OPEN_COST once (less at a clause's start), each unit in it
    its own skip cost.
    """
    count = len(items)
    heard = int(nuclei.size)
    if count == 0:
        return NucleusEvidence(skipped=np.zeros(0, dtype=bool), nuclei=np.zeros(0, dtype=np.int64), support=np.zeros(0))
    infinity = np.inf
    positions = np.arange(heard + 1)
    # read[i, j] / skip[i, j]: the first i items and the first j nuclei accounted for, item i-1 read / skipped.
    read = np.full((count + 1, heard + 1), infinity)
    skip = np.full((count + 1, heard + 1), infinity)
    # How item i-1 was read (nuclei taken; -2: nucleus j-1 left unclaimed after it), and for skips
    # whether the item before was read (0) or skipped (1).
    read_choice = np.full((count + 1, heard + 1), -3, dtype=np.int64)
    read_from_skip = np.zeros((count + 1, heard + 1), dtype=bool)
    skip_from_skip = np.zeros((count + 1, heard + 1), dtype=bool)
    read[0] = positions * UNCLAIMED_NUCLEUS_COST
    read_choice[0, 1:] = -2
    for index, item in enumerate(items):
        if item.skippable:
            opening = SKIP_OPEN_COST - (CLAUSE_SKIP_DISCOUNT if item.clause_start else 0.0)
            from_read = read[index] + opening
            from_skip = skip[index]
            cost = _skip_cost(item)
            skip[index + 1] = np.minimum(from_read, from_skip) + cost
            skip_from_skip[index + 1] = from_skip < from_read
        previous = np.minimum(read[index], skip[index])
        previous_was_skip = skip[index] < read[index]
        written = max(1, item.syllables)
        outside = np.maximum(0.0, np.maximum(item.start - nuclei, nuclei - item.end))
        time_cost = np.minimum(MAX_TIME_COST, outside / TIME_SECONDS_PER_COST)
        row = np.full(heard + 1, infinity)
        row_choice = np.full(heard + 1, -3, dtype=np.int64)
        row_from_skip = np.zeros(heard + 1, dtype=bool)
        for taken in range(written + MAX_EXTRA_NUCLEI + 1):
            if taken < written:
                count_cost = MISSING_NUCLEUS_COST * (written - taken)
            else:
                extra = taken - written
                count_cost = EXTRA_NUCLEUS_COST * (extra - DIPPING_DISCOUNT * min(extra, item.dipping))
            candidate = np.full(heard + 1, infinity)
            origin = np.zeros(heard + 1, dtype=bool)
            if taken == 0:
                candidate = previous + count_cost
                origin = previous_was_skip
            else:
                # Ending at nucleus j (exclusive) having taken nuclei j-taken .. j-1.
                first = positions[taken:] - taken
                candidate[taken:] = previous[first] + count_cost + time_cost[first]
                origin[taken:] = previous_was_skip[first]
            better = candidate < row
            row = np.where(better, candidate, row)
            row_choice = np.where(better, taken, row_choice)
            row_from_skip = np.where(better, origin, row_from_skip)
        # Nuclei nobody takes, after this item, chained along the row.
        for nucleus in range(1, heard + 1):
            unclaimed = row[nucleus - 1] + UNCLAIMED_NUCLEUS_COST
            if unclaimed < row[nucleus]:
                row[nucleus] = unclaimed
                row_choice[nucleus] = -2
        read[index + 1] = row
        read_choice[index + 1] = row_choice
        read_from_skip[index + 1] = row_from_skip
    skipped = np.zeros(count, dtype=bool)
    given = np.zeros(count, dtype=np.int64)
    position, nucleus = count, heard
    in_skip = bool(skip[count, heard] < read[count, heard])
    while position > 0:
        if in_skip:
            skipped[position - 1] = True
            in_skip = bool(skip_from_skip[position, nucleus])
            position -= 1
            continue
        step = int(read_choice[position, nucleus])
        if step == -2:
            nucleus -= 1
            continue
        in_skip = bool(read_from_skip[position, nucleus])
        given[position - 1] = step
        nucleus -= step
        position -= 1
    written_counts = np.maximum(1, np.array([item.syllables for item in items]))
    missing = np.maximum(0, written_counts - given)
    support = np.where(skipped, 0.0, 1.0 - missing / written_counts)
    return NucleusEvidence(skipped=skipped, nuclei=given, support=support.astype(np.float64))
