"""What the reader actually said, against the passage: units read, skipped, and words added.

A passage-prompted transcript is compared with the text by sound; where it says the reading differs,
a second, unprompted transcript must agree before a unit is skipped or added words are aligned.
"""

from __future__ import annotations

import collections
import dataclasses

import numpy as np

from animation.engine import compare
from animation.engine.align.text import TextUnit, comparison_tokens, is_character_language


@dataclasses.dataclass
class ReadingPlan:
    """What the reader said, in order: SEQUENCE holds the indices of the units read and, between
    them, TextUnits for words heard that are not in the passage (a repeated phrase, an added word),
    which are aligned too so that they do not stretch their neighbours, then dropped. SKIPPED: the
    units not read. AGREEMENT: per unit, 0..1, how well what was heard there sounds like the text."""

    sequence: list[int | TextUnit]
    skipped: list[int]
    agreement: list[float]


# The transcript decides what was skipped only when it agrees with most of the passage; a garbled
# transcript (noise, another text) must not make units vanish.
MIN_TRANSCRIPT_AGREEMENT = 0.5


def reading_plan(units: list[TextUnit], transcript: str, language: str, *, neutral: str | None = None) -> ReadingPlan:
    """Compare the heard TRANSCRIPT with UNITS by sound (compare.align_tokens) and plan the alignment.

    TRANSCRIPT was decoded with the passage as Whisper's prompt, which makes it faithful where the
    text was read but lets it, now and then, drop a repetition of the text or add a copy of it.
    NEUTRAL, a transcript decoded without the prompt, is a second opinion: a unit is skipped only
    if neither transcript heard it, and added words are aligned only if the neutral transcript also
    heard words there. A transcript that agrees with less than half of the text decides nothing.
    """
    reference, owner, breaks = _reference_tokens(units, language)
    heard = comparison_tokens(transcript, language)
    steps = compare.slide_gaps(compare.align_tokens(reference, heard, language=language), reference, breaks=breaks)
    agreement = _agreement(steps, owner, len(units))
    if not heard or float(np.mean(agreement)) < MIN_TRANSCRIPT_AGREEMENT:
        return ReadingPlan(sequence=list(range(len(units))), skipped=[], agreement=agreement)
    read = _units_heard(steps, owner, len(units))
    neutral_counts: collections.Counter[str] | None = None
    if neutral is not None:
        neutral_heard = comparison_tokens(neutral, language)
        neutral_steps = compare.slide_gaps(
            compare.align_tokens(reference, neutral_heard, language=language), reference, breaks=breaks
        )
        neutral_agreement = _agreement(neutral_steps, owner, len(units))
        if neutral_heard and float(np.mean(neutral_agreement)) >= MIN_TRANSCRIPT_AGREEMENT:
            # Only a word heard as written (or nearly) overrides a skip: a garbled neutral transcript
            # pairs its stray words with any text at all.
            read = read | _units_heard(neutral_steps, owner, len(units), max_cost=compare.NEAR_SOUND_COST)
            agreement = [max(a, b) for a, b in zip(agreement, neutral_agreement, strict=True)]
            neutral_counts = collections.Counter(_sound_key(token, language) for token in neutral_heard)
        else:
            neutral_counts = collections.Counter()
    reference_counts = collections.Counter(_sound_key(token, language) for token in reference)
    joiner = "" if is_character_language(language) else " "
    sequence: list[int | TextUnit] = []
    extra: list[str] = []

    # Greedy decoding sometimes loops, writing the text again and again: then no addition is believed.
    looping = sum(step.ref is None for step in steps) > 0.4 * len(reference)

    def flush(following: compare.Step | None) -> None:
        if not extra or looping:
            extra.clear()
            return
        # Words added between two words heard as written (a repeat, an interjection); next to a
        # misheard word they are more likely the mishearing itself.
        clean = all(step is None or step.op == "equal" for step in (preceding, following))
        # The neutral transcript confirms added words when it heard them more often than the text has them.
        sounds = {_sound_key(token, language) for token in extra}
        confirmed = neutral_counts is None or 2 * sum(
            neutral_counts[sound] > reference_counts[sound] for sound in sounds
        ) >= len(sounds)
        # A stumble: a short phrase said again right before its reading. (A copy of most of the
        # passage is the prompt leaking into the transcript, not a repetition.)
        if following is not None and following.ref is not None and len(extra) <= 0.4 * len(reference):
            again = [_sound_key(token, language) for token in reference[following.ref : following.ref + len(extra)]]
            confirmed = confirmed or again == [_sound_key(token, language) for token in extra]
        if clean and confirmed:
            words = joiner.join(extra)
            sequence.append(TextUnit(text=words, spoken=words))
        extra.clear()

    last_unit = -1
    preceding: compare.Step | None = None
    for step in steps:
        if step.ref is None:
            extra.append(heard[step.hyp])  # type: ignore[index]
            continue
        unit_index = owner[step.ref]
        if unit_index != last_unit and read[unit_index]:
            flush(step)
            sequence.append(unit_index)
            last_unit = unit_index
        preceding = step
    flush(None)
    skipped = [index for index in range(len(units)) if not read[index]]
    return ReadingPlan(sequence=sequence, skipped=skipped, agreement=agreement)


def _reference_tokens(units: list[TextUnit], language: str) -> tuple[list[str], list[int], set[int]]:
    """The passage's comparison tokens, the unit each belongs to, and where clauses start."""
    reference: list[str] = []
    owner: list[int] = []
    breaks = {0}
    for index, unit in enumerate(units):
        keys = comparison_tokens(unit.spoken, language) or [unit.spoken]
        reference.extend(keys)
        owner.extend([index] * len(keys))
        if unit.ends_clause:
            breaks.add(len(reference))
    return reference, owner, breaks


def _agreement(steps: list[compare.Step], owner: list[int], count: int) -> list[float]:
    scores: list[list[float]] = [[] for _ in range(count)]
    for step in steps:
        if step.ref is not None:
            scores[owner[step.ref]].append(0.0 if step.hyp is None else max(0.0, 1.0 - step.cost))
    return [float(np.mean(values)) if values else 0.0 for values in scores]


def _units_heard(
    steps: list[compare.Step], owner: list[int], count: int, *, max_cost: float = compare.SUBSTITUTION_COST
) -> np.ndarray:
    heard = np.zeros(count, dtype=bool)
    for step in steps:
        if step.ref is not None and step.hyp is not None and step.cost <= max_cost:
            heard[owner[step.ref]] = True
    return heard


def _sound_key(token: str, language: str) -> str:
    return compare.sound_of(token, language)[0][0]
