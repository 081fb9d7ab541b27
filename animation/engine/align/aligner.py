"""``align_text``: every unit of the passage placed on the recording, chunk by chunk.

Per chunk: encode, transcribe with the passage as prompt, plan the reading (``reading_plan``), time
the units with the alignment heads (``whisper_pass``), fit the times to the audio (``boundaries``).
"""

from __future__ import annotations

import os

import numpy as np

from animation.engine.align.boundaries import place_skipped, refine_boundaries, split_phrases
from animation.engine.align.reading_plan import reading_plan
from animation.engine.align.results import AlignmentResult, Phrase, Unit
from animation.engine.align.text import (
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
    tokenizer_for,
)
from animation.engine.errors import EngineInputError

# A unit's confidence: this much how well the transcript heard it, the rest the aligner's probability
# of its tokens. Chosen on the TRAINING split of the spliced readings (bench/align_dataset.py) from
# 0, 0.2, ..., 1 for the ROC AUC of read against unread units (zh 0.954 at 0.2, 0.94 at 0.5; en 0.99).
CONFIDENCE_AGREEMENT_WEIGHT = 0.2


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
        chunk_starts, chunk_ends, chunk_probabilities = dtw_times(whisper, tokenizer, chunk, spoken_units, code)
        chunk_starts, chunk_ends = refine_boundaries(
            chunk_starts, chunk_ends, units=spoken_units, samples=samples[chunk.start : chunk.end]
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
