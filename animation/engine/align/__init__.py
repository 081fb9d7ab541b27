"""Forced alignment of a known passage to a recording of it, with Whisper's alignment heads.

The passage is tokenised as Whisper would have written it and aligned with the cross-attention
alignment heads (CTranslate2's ``Whisper.align``: the DTW that word timestamps use, fed with our
tokens instead of a decoded guess), so every unit of the text gets a time even where Whisper would
have misheard it. The 20 ms DTW grid is then fitted to the audio, the whole reading at once: the
pauses that voice activity finds are given to the gaps between units by a dynamic programme that
weighs Whisper's gaps against the syllables heard (energy peaks) and written, the reader's pace and
punctuation; the units next to a pause stop and start where the voice does; inside continuous
speech the units share the syllable nuclei as their syllables say, without overlap.

Units are characters for Chinese and Japanese and words elsewhere. Punctuation stays in the text of
the unit next to it (an opening mark with the following unit, others with the preceding one) and
takes no time. Numbers written as digits are aligned as they are spoken ("1990" as "nineteen
ninety", "25" as 二十五) but keep their written text.

Audio longer than Whisper's 30 s window is cut at pauses; a quick transcript of each piece decides
which part of the passage belongs to it, so the text stays in step with the audio.

Readers skip lines, repeat phrases, add words. Before the forced alignment, a greedy transcript
(prompted with the passage) is compared with the text by sound (compare.py: pinyin for Mandarin);
where it says the reading differs, a second, unprompted transcript must agree (reading_plan). Units
nobody heard are marked ``skipped`` (no time: start == end where the reading passed over them, so
the mouth rests and the karaoke shows them struck through); words heard beyond the text (a repeated
phrase) are aligned as hidden fillers so that they do not stretch the units around them. A unit's
``confidence`` mixes how well the transcript matched it with the aligner's token probability.

Modules, each importing only those above it:

text          language codes, units and their punctuation, numbers as said; match score and diff
results       Unit, Phrase, AlignmentResult, Transcript
whisper_pass  the model, transcripts, chunks at pauses, the alignment heads' unit times
boundaries    unit times fitted to pauses, syllable nuclei and voice edges; phrases
reading_plan  what was read, skipped or added, from the transcripts
skips         Mandarin skips decided by the syllable nuclei heard (the transcripts are weak witnesses)
subtitles     WebVTT karaoke cues (one voice, or a dialogue's voices by name)
aligner       ``align_text``, which puts them together

The command line (``python -m animation.engine align``) is in ``animation.engine.cli``. This package
re-exports the public names: callers look up ``align.align_text``, ``align.transcribe`` and the rest
here (and tests patch them here).
"""

from __future__ import annotations

from animation.engine.align.aligner import CONFIDENCE_AGREEMENT_WEIGHT, align_text
from animation.engine.align.boundaries import refine_boundaries
from animation.engine.align.reading_plan import MIN_TRANSCRIPT_AGREEMENT, ReadingPlan, reading_plan
from animation.engine.align.results import AlignmentResult, Phrase, Transcript, Unit
from animation.engine.align.subtitles import alignment_to_webvtt, dialogue_to_webvtt
from animation.engine.align.text import (
    CHARACTER_LANGUAGES,
    TextUnit,
    chinese_number,
    english_number,
    match_score,
    normalise_language,
    split_units,
    text_diff,
)
from animation.engine.align.whisper_pass import SAMPLE_RATE, transcribe

__all__ = [
    "CHARACTER_LANGUAGES",
    "CONFIDENCE_AGREEMENT_WEIGHT",
    "MIN_TRANSCRIPT_AGREEMENT",
    "SAMPLE_RATE",
    "AlignmentResult",
    "Phrase",
    "ReadingPlan",
    "TextUnit",
    "Transcript",
    "Unit",
    "align_text",
    "alignment_to_webvtt",
    "chinese_number",
    "dialogue_to_webvtt",
    "english_number",
    "match_score",
    "normalise_language",
    "reading_plan",
    "refine_boundaries",
    "split_units",
    "text_diff",
    "transcribe",
]
