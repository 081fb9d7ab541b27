"""``align_text``: every unit of the passage placed on the recording, chunk by chunk.

Per chunk: encode, transcribe with the passage as prompt, plan the reading (``reading_plan``), time
the units with the alignment heads (``whisper_pass``), fit the times to the audio (``boundaries``).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from typing import Any

import numpy as np

from animation.engine import audio as audio_io
from animation.engine.align.boundaries import (
    NUCLEUS_HOP_SECONDS,
    dipping_syllable_count,
    is_noisy_reading,
    place_skipped,
    refine_boundaries,
    split_phrases,
    syllable_count,
    syllable_nuclei,
)
from animation.engine.align.reading_plan import ReadingPlan, reading_plan
from animation.engine.align.results import AlignmentResult, Phrase, Unit
from animation.engine.align.skips import ReadingItem, skips_from_nuclei, skips_heard
from animation.engine.align.text import (
    TextUnit,
    comparison_tokens,
    is_character_language,
    match_score,
    normalise_language,
    split_units,
)
from animation.engine.align.whisper_pass import (
    SAMPLE_RATE,
    Chunk,
    chunk_bounds,
    dtw_times,
    encode,
    load_samples,
    model_for,
    quick_transcript,
    split_text_between_chunks,
    text_log_probability,
    tokenizer_for,
)
from animation.engine.errors import EngineInputError

# A unit's confidence: this much how well the transcript heard it, the rest the aligner's probability
# of its tokens. Chosen on the TRAINING split of the spliced readings (bench/align_dataset.py) from
# 0, 0.2, ..., 1 for the ROC AUC of read against unread units (zh 0.954 at 0.2, 0.94 at 0.5; en 0.99).
CONFIDENCE_AGREEMENT_WEIGHT = 0.2
# A run of skips found by the nuclei is tried this many units either way (align/skips.py), a decoder
# pass each: the shifts seen on the training split of the spliced readings were at most three units.
SKIP_SHIFT_UNITS = 3
SKIP_MERGE_UNITS = 2
# A skip this long or longer may be a whole line nearby (at most SKIP_LINE_CLAUSES clauses).
SKIP_LINE_UNITS = 4
SKIP_LINE_CLAUSES = 3


def align_text(
    audio: str | os.PathLike[str] | np.ndarray,
    *,
    text: str,
    language: str,
    model: str | os.PathLike[str] | None = None,
) -> AlignmentResult:
    """Place every unit of TEXT (the passage the speaker read) on AUDIO.

    AUDIO is a path to anything ffmpeg decodes, or 16 kHz mono float32 samples. LANGUAGE is a Whisper
    language code; MODEL a model name or folder (default: tiny.en for English, base otherwise).
    """
    code = normalise_language(language)
    if text is None or not text.strip():
        raise EngineInputError("the text to align is empty")
    units = split_units(text, code)
    if not units:
        raise EngineInputError("the text to align has no words, only punctuation")
    samples = load_samples(audio)
    duration = samples.size / SAMPLE_RATE
    whisper = model_for(code, model)
    tokenizer = tokenizer_for(whisper, code)

    chunks = [Chunk(start, end) for start, end in chunk_bounds(samples)]
    single = len(chunks) == 1
    transcripts = []
    for chunk in chunks:
        chunk.encoder_output, chunk.frame_count = encode(whisper, samples[chunk.start : chunk.end])
        # Several chunks: a neutral transcript first, to share the text out between them.
        chunk.transcript_text = quick_transcript(whisper, tokenizer, chunk, passage=text if single else None)
        chunk.transcript_tokens = comparison_tokens(chunk.transcript_text, code)
        transcripts.append(chunk.transcript_text)
    transcript = ("" if is_character_language(code) else " ").join(piece for piece in transcripts if piece)

    starts = np.zeros(len(units))
    ends = np.zeros(len(units))
    confidences = np.zeros(len(units))
    skipped = np.zeros(len(units), dtype=bool)
    for chunk, (first, last) in zip(chunks, split_text_between_chunks(units, chunks, code), strict=True):
        if last <= first:
            continue
        offset = chunk.start / SAMPLE_RATE
        heard = chunk.transcript_text
        if not single:
            share = ("" if is_character_language(code) else " ").join(unit.text for unit in units[first:last])
            heard = quick_transcript(whisper, tokenizer, chunk, passage=share)
        plan = reading_plan(units[first:last], heard, code)
        if plan.skipped or len(plan.sequence) != last - first:
            # The passage-prompted transcript says the reading differs from the text: ask again without it.
            neutral = quick_transcript(whisper, tokenizer, chunk) if single else chunk.transcript_text
            plan = reading_plan(units[first:last], heard, code, neutral=neutral)
        spoken = list(plan.sequence)
        spoken_units = [units[first + item] if isinstance(item, int) else item for item in spoken]
        chunk_samples = samples[chunk.start : chunk.end]
        if is_character_language(code):
            # The transcripts are weak witnesses in Mandarin: the voice's own nuclei decide the skips.
            plan, spoken, timing = _skips_checked_by_voice(
                plan,
                units[first:last],
                whisper=whisper,
                tokenizer=tokenizer,
                chunk=chunk,
                samples=chunk_samples,
                language=code,
            )
            spoken_units = [units[first + item] if isinstance(item, int) else item for item in spoken]
        else:
            timing = None
        if timing is None:
            timing = dtw_times(whisper, tokenizer, chunk, spoken_units, code)
        chunk_starts, chunk_ends, chunk_probabilities, _ = timing
        chunk_starts, chunk_ends = refine_boundaries(
            chunk_starts, chunk_ends, units=spoken_units, samples=chunk_samples
        )
        for position, item in enumerate(spoken):
            if isinstance(item, int):
                index = first + item
                starts[index] = chunk_starts[position] + offset
                ends[index] = chunk_ends[position] + offset
                confidences[index] = (
                    CONFIDENCE_AGREEMENT_WEIGHT * plan.agreement[item]
                    + (1 - CONFIDENCE_AGREEMENT_WEIGHT) * chunk_probabilities[position]
                )
        for item in plan.skipped:
            skipped[first + item] = True
        chunk.encoder_output = None  # free the memory before the next chunk

    place_skipped(starts, ends, skipped)
    # Chunks are cut inside pauses, so units cannot overlap across a cut; this only guards rounding.
    for index in range(1, len(units)):
        starts[index] = max(starts[index], ends[index - 1])
        ends[index] = max(ends[index], starts[index])
    result_units = [
        Unit(
            text=unit.text,
            start=float(start),
            end=float(end),
            confidence=0.0 if was_skipped else float(confidence),
            skipped=bool(was_skipped),
        )
        for unit, start, end, confidence, was_skipped in zip(units, starts, ends, confidences, skipped, strict=True)
    ]
    read = ~skipped
    return AlignmentResult(
        language=code,
        transcript=transcript,
        match=match_score(text, transcript, language=code),
        units=result_units,
        phrases=split_phrases(starts[read], ends[read]) if read.any() else [Phrase(0.0, 0.0)],
        seconds=duration,
    )


def reading_items(plan: ReadingPlan) -> list[int | TextUnit]:
    """Every unit of the chunk in text order, the ones PLAN skipped included, with its added words."""
    items: list[int | TextUnit] = []
    pending = sorted(plan.skipped)
    for item in plan.sequence:
        if isinstance(item, int):
            while pending and pending[0] < item:
                items.append(pending.pop(0))
        items.append(item)
    items.extend(pending)
    return items


def _skips_checked_by_voice(
    plan: ReadingPlan,
    units: list[TextUnit],
    *,
    whisper: Any,
    tokenizer: Any,
    chunk: Chunk,
    samples: np.ndarray,
    language: str,
) -> tuple[ReadingPlan, list[int | TextUnit], tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None]:
    """PLAN with its skips decided by the syllable nuclei heard (align/skips.py): the whole text is
    forced onto the audio once, and the units the voice has no nuclei for, whose tokens the aligner
    found unlikely, are skipped. Returns the plan, what was spoken, and the alignment heads' times
    for it when they were already computed (None: align what was spoken again)."""
    items = reading_items(plan)
    item_units = [units[item] if isinstance(item, int) else item for item in items]
    timing = dtw_times(whisper, tokenizer, chunk, item_units, language)
    starts, ends, _, log_probabilities = timing
    levels, threshold = audio_io.activity_levels(samples, audio_io.SPEECH_SAMPLE_RATE, hop=NUCLEUS_HOP_SECONDS)
    nuclei = syllable_nuclei(levels, threshold)
    planned_skips = set(plan.skipped)
    clause_starts = {0} | {index + 1 for index, unit in enumerate(units) if unit.ends_clause}
    reading = [
        ReadingItem(
            syllables=syllable_count(unit.spoken),
            dipping=dipping_syllable_count(unit.spoken),
            start=float(starts[position]),
            end=float(ends[position]),
            log_probability=float(log_probabilities[position]),
            skippable=isinstance(item, int),
            plan_skipped=isinstance(item, int) and item in planned_skips,
            clause_start=isinstance(item, int) and item in clause_starts,
        )
        for position, (item, unit) in enumerate(zip(items, item_units, strict=True))
    ]
    evidence = skips_from_nuclei(reading, nuclei)
    skipped_mask = _skips_placed_by_decoder(
        skips_heard(evidence, reading, noisy=is_noisy_reading(levels)),
        items,
        item_units,
        clause_starts=[isinstance(item, int) and item in clause_starts for item in items],
        score=lambda kept: text_log_probability(whisper, tokenizer, chunk, kept, language),
    )
    skipped = sorted(
        item for item, was_skipped in zip(items, skipped_mask, strict=True) if was_skipped and isinstance(item, int)
    )
    spoken = [item for item, was_skipped in zip(items, skipped_mask, strict=True) if not was_skipped]
    checked = dataclasses.replace(plan, sequence=spoken, skipped=skipped)
    return checked, spoken, None if skipped else timing


def _without(item_units: list[TextUnit], skipped: np.ndarray) -> list[TextUnit]:
    """The units read, a skipped run's closing punctuation kept on the unit before it (when that
    has none), so that the text the decoder scores still has its clause breaks."""
    kept: list[TextUnit] = []
    for unit, was_skipped in zip(item_units, skipped, strict=True):
        if not was_skipped:
            kept.append(unit)
        elif kept and unit.trailing.strip() and not kept[-1].trailing.strip():
            kept[-1] = dataclasses.replace(kept[-1], trailing=unit.trailing)
    return kept


def _skips_placed_by_decoder(
    skipped: np.ndarray,
    items: list[int | TextUnit],
    item_units: list[TextUnit],
    *,
    clause_starts: list[bool],
    score: Callable[[list[TextUnit]], float],
) -> np.ndarray:
    """SKIPPED with each run of skips moved to where the decoder finds the text left most likely:
    the nuclei count what was skipped well, but the alignment heads, forced through text that is not
    in the audio, blur where. Runs at most SKIP_MERGE_UNITS apart are one skip (a line); a run keeps
    its length and moves at most SKIP_SHIFT_UNITS either way, or becomes a whole line nearby (a
    clause of the text, or a few) within a unit of its length: readers skip whole lines, and in real
    speech syllables run together, so the nuclei count a phrase a unit long or short."""
    skipped = skipped.copy()
    skippable = np.array([isinstance(item, int) for item in items])
    clusters: list[list[int]] = []
    for index in np.flatnonzero(skipped):
        if clusters and index - clusters[-1][-1] <= SKIP_MERGE_UNITS + 1:
            clusters[-1].append(int(index))
        else:
            clusters.append([int(index)])
    boundaries = [index for index, starts in enumerate(clause_starts) if starts] + [len(items)]
    # One clause, or a few in a row (a line of verse often has two).
    lines = [
        (boundaries[first], boundaries[first + size])
        for size in range(1, SKIP_LINE_CLAUSES + 1)
        for first in range(len(boundaries) - size)
        if skippable[boundaries[first] : boundaries[first + size]].all()
    ]
    for cluster in clusters:
        length = len(cluster)
        skipped[cluster] = False
        # Where the run may lie: its own length shifted a little, or a whole line (clause, or a few in
        # a row) about as long near it. The decoder chooses; a line a unit shorter or longer than
        # the run competes too, since real syllables run together and the nuclei miscount by one.
        placements = {
            (low, low + length)
            for low in range(cluster[0] - SKIP_SHIFT_UNITS, cluster[-1] + 2 - length + SKIP_SHIFT_UNITS)
        }
        if length >= SKIP_LINE_UNITS:
            placements |= {
                (low, high)
                for low, high in lines
                if abs((high - low) - length) <= 1
                and low <= cluster[-1] + SKIP_SHIFT_UNITS
                and high > cluster[0] - SKIP_SHIFT_UNITS
            }
        best, best_score = None, float("-inf")
        for low, high in sorted(placements):
            if low < 0 or high > len(items) or not skippable[low:high].all():
                continue
            if skipped[max(0, low - 1) : high + 1].any():
                continue  # would touch another skip
            candidate = skipped.copy()
            candidate[low:high] = True
            value = score(_without(item_units, candidate))
            if value > best_score + 1e-9:
                best, best_score = (low, high), value
        if best is None:
            skipped[cluster] = True
        else:
            skipped[best[0] : best[1]] = True
    return skipped
