"""Forced alignment of a known passage to a recording of it, with Whisper's alignment heads.

The passage is tokenised as Whisper would have written it and aligned with the cross-attention
alignment heads (CTranslate2's ``Whisper.align``: the DTW that word timestamps use, fed with our
tokens instead of a decoded guess), so every unit of the text gets a time even where Whisper would
have misheard it. The 20 ms DTW grid is then fitted to the audio: pauses that voice activity finds
are assigned to the gaps between units, the units next to a pause are cut exactly at its edges, and
the units inside a stretch of continuous speech keep Whisper's relative boundaries without overlap.

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
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import difflib
import itertools
import os
import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from animation.engine import audio as audio_io
from animation.engine import compare
from animation.engine.errors import EngineInputError
from animation.engine.whisper_models import ENGLISH_MODEL, load_model, resolve_model_path

if TYPE_CHECKING:
    from faster_whisper import WhisperModel
    from faster_whisper.tokenizer import Tokenizer

SAMPLE_RATE = audio_io.SPEECH_SAMPLE_RATE
MEL_FRAMES_PER_SECOND = 100
DTW_STEPS_PER_SECOND = 50  # encoder output frames: the grid the alignment heads work on
# Whisper's window. Audio is cut into pieces no longer than this, at pauses when it can be.
MAX_CHUNK_SECONDS = 28.0
WINDOW_FRAMES = 3000
# The encoder runs on the audio plus this much padding instead of a full 30 s window: on short clips
# that is most of the cost, and the alignment heads place words the same (checked with bench_align).
CONTEXT_PADDING_FRAMES = 100
MIN_CONTEXT_FRAMES = 500
MAX_DECODER_TOKENS = 440  # Whisper's decoder holds 448 positions, the start sequence included

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
SNAP_WINDOW_SECONDS = 0.10
SNAP_DISTANCE_DB_PER_SECOND = 20.0

# A unit's confidence: this much how well the transcript heard it, the rest the aligner's probability
# of its tokens. Chosen on the TRAINING split of the spliced readings (bench/align_dataset.py) from
# 0, 0.2, ..., 1 for the ROC AUC of read against unread units (zh 0.954 at 0.2, 0.94 at 0.5; en 0.99).
CONFIDENCE_AGREEMENT_WEIGHT = 0.2

CHARACTER_LANGUAGES = frozenset({"zh", "ja", "yue"})
_LANGUAGE_ALIASES = {
    "cmn": "zh",
    "zh-cn": "zh",
    "zh-tw": "zh",
    "zh-hk": "zh",
    "zh-hans": "zh",
    "zh-hant": "zh",
    "mandarin": "zh",
    "chinese": "zh",
    "english": "en",
}
_OPENING_PUNCTUATION = set("\"'“‘([{（【《「『〈<¿¡")
_SENTENCE_END = set(".!?。！？…;；")


# ---------------------------------------------------------------------------------------------
# Results


@dataclasses.dataclass(frozen=True)
class Unit:
    text: str
    start: float
    end: float
    confidence: float
    # Not read: the reader skipped it. It keeps its place in the text with no time (start == end,
    # where the reading passed over it), so the mouth rests and the karaoke marks it as not read.
    skipped: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "confidence": round(self.confidence, 3),
            "skipped": self.skipped,
        }


@dataclasses.dataclass(frozen=True)
class Phrase:
    start: float
    end: float

    def to_dict(self) -> dict[str, float]:
        return {"start": round(self.start, 3), "end": round(self.end, 3)}


@dataclasses.dataclass(frozen=True)
class AlignmentResult:
    language: str
    transcript: str  # what Whisper heard, for the moderators
    match: float  # 0..1 agreement of the transcript with the passage
    units: list[Unit]
    phrases: list[Phrase]
    seconds: float  # length of the audio

    def to_dict(self) -> dict[str, Any]:
        return {
            "language": self.language,
            "transcript": self.transcript,
            "match": round(self.match, 3),
            "units": [unit.to_dict() for unit in self.units],
            "phrases": [phrase.to_dict() for phrase in self.phrases],
            "seconds": round(self.seconds, 3),
        }


@dataclasses.dataclass(frozen=True)
class Transcript:
    text: str
    language: str
    language_probability: float
    duration_seconds: float

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


# ---------------------------------------------------------------------------------------------
# Languages and text


def normalise_language(language: str | None) -> str:
    """Whisper's code for LANGUAGE ('zh-TW' -> 'zh'); EngineInputError when Whisper does not know it."""
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    if language is None or not language.strip():
        raise EngineInputError("the language of the recording is missing (for example zh or en)")
    code = language.strip().lower().replace("_", "-")
    code = _LANGUAGE_ALIASES.get(code, code)
    if code not in _LANGUAGE_CODES:
        code = _LANGUAGE_ALIASES.get(code.split("-")[0], code.split("-")[0])
    if code not in _LANGUAGE_CODES:
        raise EngineInputError(f"unknown language {language!r}: use a code Whisper knows, such as zh, en, ja, fr")
    return code


def _is_character_language(language: str) -> bool:
    return language in CHARACTER_LANGUAGES


def _is_punctuation(character: str) -> bool:
    return unicodedata.category(character)[0] in "PSZ" and character not in "%$€£¥#&+@"


_ENGLISH_ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_ENGLISH_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_ENGLISH_ORDINALS = {
    "one": "first",
    "two": "second",
    "three": "third",
    "five": "fifth",
    "eight": "eighth",
    "nine": "ninth",
    "twelve": "twelfth",
}


def english_number(value: int) -> str:
    """Cardinal words for a non-negative integer: 1234 -> 'one thousand two hundred thirty four'."""
    if value < 20:
        return _ENGLISH_ONES[value]
    if value < 100:
        tens, ones = divmod(value, 10)
        return _ENGLISH_TENS[tens] + (f" {_ENGLISH_ONES[ones]}" if ones else "")
    if value < 1000:
        hundreds, rest = divmod(value, 100)
        return f"{_ENGLISH_ONES[hundreds]} hundred" + (f" {english_number(rest)}" if rest else "")
    for size, name in ((10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (1000, "thousand")):
        if value >= size:
            high, rest = divmod(value, size)
            return f"{english_number(high)} {name}" + (f" {english_number(rest)}" if rest else "")
    raise AssertionError(value)


def _english_digits(token: str) -> str:
    """How an English speaker reads a run of digits (with , . and ordinal suffixes)."""
    match = re.fullmatch(r"(\d[\d,]*)(?:\.(\d+))?(st|nd|rd|th|s|%)?", token.lower())
    if not match:
        return token
    whole_text, fraction, suffix = match.groups()
    whole = int(whole_text.replace(",", ""))
    if (
        len(whole_text) == 4
        and "," not in whole_text
        and fraction is None
        and (1100 <= whole <= 1999 or 2010 <= whole <= 2099)
    ):
        high, low = divmod(whole, 100)
        # Years: 1990 -> nineteen ninety, 1905 -> nineteen oh five, 1900 -> nineteen hundred.
        low_words = "hundred" if low == 0 else (f"oh {_ENGLISH_ONES[low]}" if low < 10 else english_number(low))
        words = f"{english_number(high)} {low_words}"
    else:
        words = english_number(whole)
    if fraction:
        words += " point " + " ".join(_ENGLISH_ONES[int(digit)] for digit in fraction)
    if suffix in ("st", "nd", "rd", "th"):
        head, _, last = words.rpartition(" ")
        ordinal = _ENGLISH_ORDINALS.get(last, last[:-1] + "ieth" if last.endswith("y") else last + "th")
        words = f"{head} {ordinal}".strip()
    elif suffix == "s":
        words += "s"
    elif suffix == "%":
        words += " percent"
    return words


_CHINESE_DIGITS = "零一二三四五六七八九"


def _chinese_below_10000(value: int) -> str:
    text = ""
    zero_pending = False
    for power, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit = value // power % 10
        if digit == 0:
            zero_pending = bool(text)
            continue
        if zero_pending:
            text += "零"
            zero_pending = False
        text += _CHINESE_DIGITS[digit] + unit
    return text


def chinese_number(value: int) -> str:
    """Chinese cardinal reading: 25 -> 二十五, 10 -> 十, 10086 -> 一万零八十六."""
    if value == 0:
        return "零"
    groups = []
    for unit in ("", "万", "亿", "万亿"):
        groups.append((value % 10000, unit))
        value //= 10000
        if value == 0:
            break
    text = ""
    previous_short = False
    for group_value, unit in reversed(groups):
        if group_value == 0:
            previous_short = bool(text)
            continue
        if text and (previous_short or group_value < 1000):
            text += "零"
        text += _chinese_below_10000(group_value) + unit
        previous_short = False
    if text.startswith("一十"):
        text = text[1:]
    return text


def _chinese_digits(token: str, *, next_character: str = "") -> str:
    """How a Mandarin speaker reads a run of digits: years and codes digit by digit, amounts as numbers."""
    match = re.fullmatch(r"(\d+)(?:\.(\d+))?(%)?", token.replace(",", ""))
    if not match:
        return token
    whole_text, fraction, percent = match.groups()
    if (
        (len(whole_text) >= 4 and next_character == "年")
        or len(whole_text) > 12
        or (whole_text.startswith("0") and len(whole_text) > 1)
    ):
        words = "".join(_CHINESE_DIGITS[int(digit)] for digit in whole_text)
    else:
        words = chinese_number(int(whole_text))
    if fraction:
        words += "点" + "".join(_CHINESE_DIGITS[int(digit)] for digit in fraction)
    if percent:
        words = "百分之" + words
    return words


def _spoken_form(written: str, language: str, *, next_character: str = "") -> str:
    """The form of a unit's spoken core that Whisper is most likely to have seen in training."""
    if not any(character.isdigit() for character in written):
        if language == "zh":
            import zhconv

            return str(zhconv.convert(written, "zh-cn"))
        return written
    if language == "en":
        return re.sub(r"\d[\d,]*(?:\.\d+)?(?:st|nd|rd|th|s|%)?", lambda m: _english_digits(m.group(0)), written)
    if language == "zh":
        return _chinese_digits(written, next_character=next_character)
    return written


@dataclasses.dataclass
class TextUnit:
    """One unit of the passage: the written text shown to people, the spoken core Whisper aligns."""

    text: str  # as written, with the punctuation that belongs to it
    spoken: str  # the core as it is said (digits spelt out, simplified characters)
    leading: str = ""  # punctuation before the core (opening quotes, brackets)
    trailing: str = ""  # punctuation after the core

    @property
    def ends_sentence(self) -> bool:
        return any(character in _SENTENCE_END for character in self.trailing)

    @property
    def ends_clause(self) -> bool:
        return bool(self.trailing.strip())


def split_units(text: str, language: str) -> list[TextUnit]:
    """Split TEXT into alignment units: characters for zh/ja (runs of Latin letters or digits stay
    whole), whitespace-separated words otherwise. Punctuation joins a neighbouring unit."""
    text = unicodedata.normalize("NFC", text).strip()
    pieces: list[tuple[str, bool]] = []  # (text, is_spoken)
    if _is_character_language(language):
        for match in re.finditer(r"[A-Za-z0-9][A-Za-z0-9'’.,%-]*[A-Za-z0-9%]|[A-Za-z0-9]|\s+|.", text, re.S):
            piece = match.group(0)
            spoken = not (piece.isspace() or all(_is_punctuation(c) for c in piece))
            pieces.append((piece, spoken))
        units: list[TextUnit] = []
        pending_leading = ""
        for index, (piece, spoken) in enumerate(pieces):
            if spoken:
                following = pieces[index + 1][0][:1] if index + 1 < len(pieces) else ""
                core = piece
                units.append(
                    TextUnit(
                        text=pending_leading + core,
                        spoken=_spoken_form(core, language, next_character=following),
                        leading=pending_leading,
                    )
                )
                pending_leading = ""
            elif piece.isspace():
                continue
            elif (piece in _OPENING_PUNCTUATION or not units) and piece not in _SENTENCE_END:
                pending_leading += piece
            elif units:
                units[-1].text += piece
                units[-1].trailing += piece
        if pending_leading and units:
            units[-1].text += pending_leading
            units[-1].trailing += pending_leading
        return units

    units = []
    pending_leading = ""
    for word in text.split():
        start, end = 0, len(word)
        while start < end and _is_punctuation(word[start]):
            start += 1
        while end > start and _is_punctuation(word[end - 1]):
            end -= 1
        core = word[start:end]
        if not core:
            if units:
                units[-1].text += " " + word
                units[-1].trailing += word
            else:
                pending_leading += word
            continue
        units.append(
            TextUnit(
                text=pending_leading + word,
                spoken=_spoken_form(core, language),
                leading=pending_leading + word[:start],
                trailing=word[end:],
            )
        )
        pending_leading = ""
    return units


def _comparison_tokens(text: str, language: str) -> list[str]:
    """Text reduced to what is said: no punctuation or case, simplified characters, numbers as words.

    Characters for zh/ja (so word segmentation never matters), words otherwise.
    """
    units = split_units(text, language)
    tokens: list[str] = []
    for unit in units:
        spoken = unicodedata.normalize("NFKC", unit.spoken).lower()
        spoken = "".join(" " if _is_punctuation(character) else character for character in spoken)
        if _is_character_language(language):
            tokens.extend(character for character in spoken if not character.isspace())
        else:
            tokens.extend(spoken.split())
    return tokens


def _edit_distance(reference: Sequence[str], hypothesis: Sequence[str]) -> int:
    """Levenshtein distance, one numpy row at a time."""
    if not reference:
        return len(hypothesis)
    if not hypothesis:
        return len(reference)
    vocabulary: dict[str, int] = {}
    reference_ids = np.array([vocabulary.setdefault(token, len(vocabulary)) for token in reference])
    positions = np.arange(len(reference) + 1)
    row = positions.copy()
    for token in hypothesis:
        token_id = vocabulary.get(token, -1)
        substitution = row[:-1] + (reference_ids != token_id)
        deletion = row[1:] + 1
        candidate = np.concatenate([[row[0] + 1], np.minimum(substitution, deletion)])
        # Insertions chain along the row: row[j] = min over k<=j of candidate[k] + (j - k).
        row = np.minimum.accumulate(candidate - positions) + positions
    return int(row[-1])


def match_score(reference_text: str, hypothesis_text: str, *, language: str) -> float:
    """1 - error rate of what was heard against the passage, clipped to 0..1.

    Words for most languages; characters compared by sound for Mandarin (compare.py: a homophone is
    no error, another tone a quarter of one), so Whisper's spelling of a faithful reading scores high.
    """
    language = normalise_language(language)
    reference = _comparison_tokens(reference_text, language)
    hypothesis = _comparison_tokens(hypothesis_text, language)
    if not reference:
        return 0.0
    return float(max(0.0, 1.0 - compare.distance(reference, hypothesis, language=language) / len(reference)))


def text_diff(reference: str, hypothesis: str, *, language: str) -> list[dict[str, str]]:
    """What the speaker said differently from the passage, for the moderation console.

    Ops: equal (the same sound, even where Whisper wrote other characters), replace (said otherwise),
    delete (in the passage, not said: skipped), insert (said, not in the passage: added). A skipped
    line is one delete op, set at the line's own start when the text allows it.
    """
    language = normalise_language(language)
    units = split_units(reference, language)
    reference_tokens: list[str] = []
    breaks = {0}
    for unit in units:
        reference_tokens.extend(_comparison_tokens(unit.spoken, language))
        if unit.ends_clause:
            breaks.add(len(reference_tokens))
    hypothesis_tokens = _comparison_tokens(hypothesis, language)
    steps = compare.align_tokens(reference_tokens, hypothesis_tokens, language=language)
    steps = compare.slide_gaps(steps, reference_tokens, breaks=breaks)
    joiner = "" if _is_character_language(language) else " "
    operations: list[dict[str, str]] = []
    for operation, group in itertools.groupby(steps, key=lambda step: step.op):
        run = list(group)
        operations.append(
            {
                "op": operation,
                "ref": joiner.join(reference_tokens[step.ref] for step in run if step.ref is not None),
                "hyp": joiner.join(hypothesis_tokens[step.hyp] for step in run if step.hyp is not None),
            }
        )
    return operations


# ---------------------------------------------------------------------------------------------
# Whisper


def _model_for(language: str, model: str | os.PathLike[str] | None) -> WhisperModel:
    path = resolve_model_path(model, language=language)
    whisper = load_model(path)
    if not whisper.model.is_multilingual and language != "en":
        name = ENGLISH_MODEL if model is None else str(model)
        raise EngineInputError(f"the Whisper model {name} only knows English; use --model base for {language}")
    return whisper


def _tokenizer(whisper: WhisperModel, language: str) -> Tokenizer:
    from faster_whisper.tokenizer import Tokenizer

    return Tokenizer(whisper.hf_tokenizer, whisper.model.is_multilingual, task="transcribe", language=language)


def _load_samples(audio: str | os.PathLike[str] | np.ndarray) -> np.ndarray:
    if isinstance(audio, np.ndarray):
        samples = np.asarray(audio, dtype=np.float32).reshape(-1)
    else:
        samples = audio_io.decode_audio(audio, sample_rate=SAMPLE_RATE)
    if samples.size < SAMPLE_RATE // 10:
        raise EngineInputError("the recording is shorter than a tenth of a second")
    return samples


def transcribe(
    audio: str | os.PathLike[str] | np.ndarray,
    *,
    language: str | None,
    model: str | os.PathLike[str] | None = None,
) -> Transcript:
    """What Whisper hears in AUDIO (a path, or 16 kHz mono float32 samples), with voice activity
    filtering so silence cannot turn into invented text. LANGUAGE None: detect it."""
    code = normalise_language(language) if language is not None else None
    whisper = load_model(resolve_model_path(model, language=None)) if code is None else _model_for(code, model)
    samples = _load_samples(audio)
    segments, info = whisper.transcribe(
        samples,
        language=code if whisper.model.is_multilingual else None,
        vad_filter=True,
        beam_size=5,
        condition_on_previous_text=False,
    )
    pieces = [segment.text.strip() for segment in segments]
    detected = info.language
    joiner = "" if _is_character_language(detected) else " "
    return Transcript(
        text=joiner.join(piece for piece in pieces if piece),
        language=detected,
        language_probability=float(info.language_probability),
        duration_seconds=samples.size / SAMPLE_RATE,
    )


@dataclasses.dataclass
class _Chunk:
    start: int  # samples
    end: int
    encoder_output: Any = None
    frame_count: int = 0
    transcript_tokens: list[str] = dataclasses.field(default_factory=list)
    transcript_text: str = ""


def _chunk_bounds(samples: np.ndarray) -> list[tuple[int, int]]:
    """Cut the audio into pieces of at most MAX_CHUNK_SECONDS, in the middle of the longest pauses."""
    limit = int(MAX_CHUNK_SECONDS * SAMPLE_RATE)
    if samples.size <= limit:
        return [(0, samples.size)]
    silences = audio_io.find_silences(samples, SAMPLE_RATE, min_silence=0.15)
    bounds = []
    start = 0
    while samples.size - start > limit:
        window_start, window_end = start + limit // 3, start + limit
        candidates = [
            (end - begin, (begin + end) / 2)
            for begin, end in ((int(s * SAMPLE_RATE), int(e * SAMPLE_RATE)) for s, e in silences)
            if window_start <= (begin + end) / 2 <= window_end
        ]
        if candidates:
            cut = int(max(candidates)[1])
        else:
            # No pause at all in 20 s of speech: cut where the voice is quietest.
            power = audio_io.frame_power(samples[window_start:window_end], SAMPLE_RATE, hop=0.01)
            cut = window_start + int(np.argmin(power)) * SAMPLE_RATE // 100
        bounds.append((start, cut))
        start = cut
    bounds.append((start, samples.size))
    return bounds


def _encode(whisper: WhisperModel, samples: np.ndarray) -> tuple[Any, int]:
    features = whisper.feature_extractor(samples)
    frame_count = min(features.shape[-1], WINDOW_FRAMES)
    context = min(WINDOW_FRAMES, max(MIN_CONTEXT_FRAMES, frame_count + CONTEXT_PADDING_FRAMES))
    context += context % 2  # the encoder halves the frame rate
    padded = np.zeros((features.shape[0], context), dtype=np.float32)
    padded[:, :frame_count] = features[:, :frame_count]
    return whisper.encode(padded), frame_count


def _quick_transcript(whisper: WhisperModel, tokenizer: Tokenizer, chunk: _Chunk, *, passage: str | None = None) -> str:
    """Greedy transcript of a chunk from its encoder output (no second encoder pass).

    With PASSAGE, the text given to the reader is the decoder's previous context (Whisper's prompt):
    where the voice says it, the model writes it as written instead of guessing at homophones and
    names; where the reader skipped a line or added words, the audio still wins (bench_align measures
    both). That makes this transcript a map of what was read, not a neutral hearing.
    """
    from faster_whisper.transcribe import get_suppressed_tokens

    seconds = (chunk.end - chunk.start) / SAMPLE_RATE
    prefix: list[int] = []
    limit = 24 + 16 * seconds
    if passage:
        passage_tokens = tokenizer.encode(" " + passage.strip())
        prefix = [tokenizer.sot_prev, *passage_tokens[-(MAX_DECODER_TOKENS // 2 - 1) :]]
    room = MAX_DECODER_TOKENS - len(prefix) - len(tokenizer.sot_sequence) - 2
    result = whisper.model.generate(
        chunk.encoder_output,
        [[*prefix, *tokenizer.sot_sequence, tokenizer.no_timestamps]],
        beam_size=1,
        max_length=int(max(8, min(room, limit))),
        suppress_blank=True,
        suppress_tokens=get_suppressed_tokens(tokenizer, [-1]),
        no_repeat_ngram_size=0,
    )[0]
    tokens = [token for token in result.sequences_ids[0] if token < tokenizer.eot]
    return tokenizer.decode(tokens).strip()


def _unit_tokens(tokenizer: Tokenizer, unit: TextUnit, *, language: str) -> tuple[list[int], int, int]:
    """Token ids for UNIT as Whisper writes it, and the [start, end) of the spoken core among them."""
    space = "" if _is_character_language(language) else " "
    leading = tokenizer.encode(space + unit.leading) if unit.leading else []
    core = tokenizer.encode(("" if unit.leading else space) + unit.spoken)
    trailing = tokenizer.encode(unit.trailing.strip()) if unit.trailing.strip() else []
    return leading + core + trailing, len(leading), len(leading) + len(core)


def _split_text_between_chunks(units: list[TextUnit], chunks: list[_Chunk], language: str) -> list[tuple[int, int]]:
    """Which units each chunk holds, from where the chunks' transcripts match the passage."""
    if len(chunks) == 1:
        return [(0, len(units))]
    unit_keys = [_comparison_tokens(unit.spoken, language) for unit in units]
    reference: list[str] = []
    reference_unit: list[int] = []
    for index, keys in enumerate(unit_keys):
        reference.extend(keys)
        reference_unit.extend([index] * len(keys))
    hypothesis: list[str] = []
    hypothesis_chunk: list[int] = []
    for index, chunk in enumerate(chunks):
        hypothesis.extend(chunk.transcript_tokens)
        hypothesis_chunk.extend([index] * len(chunk.transcript_tokens))

    chunk_of_unit = np.full(len(units), -1)
    matcher = difflib.SequenceMatcher(a=reference, b=hypothesis, autojunk=False)
    for block in matcher.get_matching_blocks():
        for offset in range(block.size):
            chunk_of_unit[reference_unit[block.a + offset]] = hypothesis_chunk[block.b + offset]

    total_seconds = sum(chunk.end - chunk.start for chunk in chunks)
    bounds: list[tuple[int, int]] = []
    start = 0
    elapsed = 0
    for index, chunk in enumerate(chunks[:-1]):
        elapsed += chunk.end - chunk.start
        matched_here = np.flatnonzero(chunk_of_unit == index)
        matched_later = np.flatnonzero(chunk_of_unit > index)
        if matched_here.size and matched_later.size:
            last_here = int(matched_here.max())
            first_later = (
                int(matched_later[matched_later > last_here].min())
                if (matched_later > last_here).any()
                else last_here + 1
            )
            # Unmatched units between the two belong where the passage pauses, if it does there.
            split = last_here + 1
            for candidate in range(last_here, first_later):
                if units[candidate].ends_clause:
                    split = candidate + 1
                    break
            else:
                split = (last_here + 1 + first_later) // 2
        else:
            # The transcript says nothing useful here: share the text out by time.
            split = round(len(units) * elapsed / total_seconds)
        split = int(np.clip(split, start, len(units)))
        bounds.append((start, split))
        start = split
    bounds.append((start, len(units)))
    return bounds


def _dtw_times(
    whisper: WhisperModel,
    tokenizer: Tokenizer,
    chunk: _Chunk,
    units: list[TextUnit],
    language: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Start, end (seconds from the chunk's start) and confidence of each unit from the alignment heads."""
    token_ids: list[int] = []
    core_spans: list[tuple[int, int]] = []
    for unit in units:
        ids, core_start, core_end = _unit_tokens(tokenizer, unit, language=language)
        core_spans.append((len(token_ids) + core_start, len(token_ids) + core_end))
        token_ids.extend(ids)
    if len(token_ids) + len(tokenizer.sot_sequence) >= MAX_DECODER_TOKENS:
        raise EngineInputError(
            "the passage is too long for the speech in this part of the recording; "
            "check that the text matches the audio"
        )
    result = whisper.model.align(
        chunk.encoder_output, tokenizer.sot_sequence, [token_ids], chunk.frame_count, median_filter_width=7
    )[0]
    text_indices = np.array([pair[0] for pair in result.alignments])
    time_indices = np.array([pair[1] for pair in result.alignments])
    jumps = np.pad(np.diff(text_indices), (1, 0), constant_values=1).astype(bool)
    # token_times[k]: when token k starts; one more entry (end of text) closes the last token.
    token_times = time_indices[jumps] / DTW_STEPS_PER_SECOND
    if token_times.size < len(token_ids) + 1:
        token_times = np.concatenate(
            [
                token_times,
                np.full(len(token_ids) + 1 - token_times.size, chunk.frame_count / MEL_FRAMES_PER_SECOND),
            ]
        )
    probabilities = np.asarray(result.text_token_probs, dtype=np.float64)
    starts = np.array([token_times[start] for start, _ in core_spans])
    ends = np.array([token_times[end] for _, end in core_spans])
    confidences = np.array(
        [float(np.mean(probabilities[start:end])) if end > start else 0.0 for start, end in core_spans]
    )
    return starts, np.maximum(ends, starts), confidences


# ---------------------------------------------------------------------------------------------
# Fitting the DTW grid to the audio


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

    1. Each pause is given to the gap between units nearest to it (a gap after punctuation counts
       as nearer, since readers pause there); the units beside it end and start at its edges.
    2. Between two such anchors the units keep Whisper's boundaries, pushed apart where they
       collapsed, and each boundary then moves to the acoustic edge next to it: a short silence
       (the unit before ends where it starts, the next begins where it ends) or else the energy dip
       between two syllables.
    """
    duration = samples.size / SAMPLE_RATE
    pauses = audio_io.find_silences(samples, SAMPLE_RATE, min_silence=MIN_PAUSE_SECONDS)
    starts, ends = _anchor_to_pauses(starts, ends, units=units, pauses=pauses, duration=duration)
    levels, threshold = audio_io.activity_levels(samples, SAMPLE_RATE, hop=FINE_HOP_SECONDS)
    return _snap_to_edges(starts, ends, levels=levels, threshold=threshold)


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
    duration: float,
) -> tuple[np.ndarray, np.ndarray]:
    count = len(units)
    starts = starts.astype(np.float64).copy()
    ends = ends.astype(np.float64).copy()
    # gap g lies between unit g and g + 1; gap -1 is before the first unit, count - 1 after the last.
    gaps = [(-np.inf, starts[0])]
    gaps += [(ends[index], max(ends[index], starts[index + 1])) for index in range(count - 1)]
    gaps += [(ends[-1], np.inf)]
    punctuation_bonus = (
        [0.0]
        + [
            0.2 if units[index].ends_sentence else 0.12 if units[index].ends_clause else 0.0
            for index in range(count - 1)
        ]
        + [0.0]
    )

    anchors: dict[int, tuple[float, float]] = {}  # gap -> pause
    last_gap = -2
    for pause in pauses:
        best_gap, best_cost = None, np.inf
        for gap in range(last_gap + 1, count):
            distance = _distance_to_gap(pause, gaps[gap + 1])
            cost = distance - punctuation_bonus[gap + 1]
            if cost < best_cost:
                best_gap, best_cost = gap, cost
            if gaps[gap + 1][0] > pause[1] + 1.0:
                break
        # A pause far from every gap is a hesitation inside a unit (or noise): leave the units alone.
        if best_gap is not None and best_cost <= 0.25:
            if best_gap in anchors:
                previous = anchors[best_gap]
                pause = (min(previous[0], pause[0]), max(previous[1], pause[1]))
            anchors[best_gap] = pause
            last_gap = best_gap

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
        edges = _spread(np.array([run_start, *boundaries, run_end]), MIN_UNIT_SECONDS)
        new_starts[first : last + 1] = edges[:-1]
        new_ends[first : last + 1] = edges[1:]
    return new_starts, new_ends


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


def _phrases(starts: np.ndarray, ends: np.ndarray) -> list[Phrase]:
    phrases = []
    phrase_start = starts[0]
    for index in range(len(starts) - 1):
        if starts[index + 1] - ends[index] >= PHRASE_PAUSE_SECONDS:
            phrases.append(Phrase(float(phrase_start), float(ends[index])))
            phrase_start = starts[index + 1]
    phrases.append(Phrase(float(phrase_start), float(ends[-1])))
    return phrases


# ---------------------------------------------------------------------------------------------
# Public entry points


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
    samples = _load_samples(audio)
    duration = samples.size / SAMPLE_RATE
    whisper = _model_for(code, model)
    tokenizer = _tokenizer(whisper, code)

    chunks = [_Chunk(start, end) for start, end in _chunk_bounds(samples)]
    single = len(chunks) == 1
    transcripts = []
    for chunk in chunks:
        chunk.encoder_output, chunk.frame_count = _encode(whisper, samples[chunk.start : chunk.end])
        # Several chunks: a neutral transcript first, to share the text out between them.
        chunk.transcript_text = _quick_transcript(whisper, tokenizer, chunk, passage=text if single else None)
        chunk.transcript_tokens = _comparison_tokens(chunk.transcript_text, code)
        transcripts.append(chunk.transcript_text)
    transcript = ("" if _is_character_language(code) else " ").join(piece for piece in transcripts if piece)

    starts = np.zeros(len(units))
    ends = np.zeros(len(units))
    confidences = np.zeros(len(units))
    skipped = np.zeros(len(units), dtype=bool)
    for chunk, (first, last) in zip(chunks, _split_text_between_chunks(units, chunks, code), strict=True):
        if last <= first:
            continue
        offset = chunk.start / SAMPLE_RATE
        heard = chunk.transcript_text
        if not single:
            share = ("" if _is_character_language(code) else " ").join(unit.text for unit in units[first:last])
            heard = _quick_transcript(whisper, tokenizer, chunk, passage=share)
        plan = reading_plan(units[first:last], heard, code)
        if plan.skipped or len(plan.sequence) != last - first:
            # The passage-prompted transcript says the reading differs from the text: ask again without it.
            neutral = _quick_transcript(whisper, tokenizer, chunk) if single else chunk.transcript_text
            plan = reading_plan(units[first:last], heard, code, neutral=neutral)
        spoken = list(plan.sequence)
        spoken_units = [units[first + item] if isinstance(item, int) else item for item in spoken]
        chunk_starts, chunk_ends, chunk_probabilities = _dtw_times(whisper, tokenizer, chunk, spoken_units, code)
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

    _place_skipped(starts, ends, skipped)
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
        phrases=_phrases(starts[read], ends[read]) if read.any() else [Phrase(0.0, 0.0)],
        seconds=duration,
    )


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
    heard = _comparison_tokens(transcript, language)
    steps = compare.slide_gaps(compare.align_tokens(reference, heard, language=language), reference, breaks=breaks)
    agreement = _agreement(steps, owner, len(units))
    if not heard or float(np.mean(agreement)) < MIN_TRANSCRIPT_AGREEMENT:
        return ReadingPlan(sequence=list(range(len(units))), skipped=[], agreement=agreement)
    read = _units_heard(steps, owner, len(units))
    neutral_counts: collections.Counter[str] | None = None
    if neutral is not None:
        neutral_heard = _comparison_tokens(neutral, language)
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
    joiner = "" if _is_character_language(language) else " "
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
        keys = _comparison_tokens(unit.spoken, language) or [unit.spoken]
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


def _place_skipped(starts: np.ndarray, ends: np.ndarray, skipped: np.ndarray) -> None:
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


def _vtt_timestamp(seconds: float) -> str:
    milliseconds = round(max(seconds, 0.0) * 1000)
    hours, rest = divmod(milliseconds, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    whole, fraction = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{whole:02d}.{fraction:03d}"


def _vtt_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def alignment_to_webvtt(result: AlignmentResult | dict[str, Any]) -> str:
    """Karaoke subtitles: one cue per phrase, a <hh:mm:ss.mmm> tag before each unit after the first.

    Text the reader skipped stays in the cue where the reading passed over it, as <c.skipped>...</c>.
    """
    data = result.to_dict() if isinstance(result, AlignmentResult) else result
    joiner = "" if _is_character_language(str(data.get("language", ""))) else " "
    units = list(data["units"])
    lines = ["WEBVTT", ""]
    unit_index = 0
    for number, phrase in enumerate(data["phrases"], start=1):
        in_phrase = []
        while unit_index < len(units) and units[unit_index]["start"] <= phrase["end"] + 1e-6:
            in_phrase.append(units[unit_index])
            unit_index += 1
        if not in_phrase:
            continue
        parts: list[str] = []
        for position, unit in enumerate(in_phrase):
            text = _vtt_text(str(unit["text"]))
            if unit.get("skipped") and position and in_phrase[position - 1].get("skipped"):
                parts[-1] = parts[-1].removesuffix("</c>") + joiner + text + "</c>"  # one span per skipped run
                continue
            if unit.get("skipped"):
                text = f"<c.skipped>{text}</c>"
            parts.append(text if position == 0 else f"<{_vtt_timestamp(unit['start'])}>{text}")
        lines += [
            str(number),
            f"{_vtt_timestamp(phrase['start'])} --> {_vtt_timestamp(phrase['end'])}",
            joiner.join(parts),
            "",
        ]
    return "\n".join(lines)


def cli_align(args: argparse.Namespace) -> dict[str, Any]:
    """``python -m animation.engine align AUDIO --text TEXT --language LANG [--model M] [--vtt OUT]``."""
    result = align_text(Path(args.audio), text=args.text, language=args.language, model=args.model)
    data = result.to_dict()
    if getattr(args, "vtt", None):
        vtt_path = Path(args.vtt)
        vtt_path.parent.mkdir(parents=True, exist_ok=True)
        temporary = vtt_path.with_name(f".{vtt_path.name}.tmp")
        temporary.write_text(alignment_to_webvtt(data), encoding="utf-8")
        os.replace(temporary, vtt_path)
    return data
