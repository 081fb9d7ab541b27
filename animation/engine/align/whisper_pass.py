"""Whisper's part: the model for a language, transcripts, and the alignment heads' unit times.

Audio longer than Whisper's 30 s window is cut at pauses (``chunk_bounds``); each chunk is encoded
once, transcribed greedily from that encoder output (``quick_transcript``, prompted with the passage
or not), given its share of the passage (``split_text_between_chunks``), and its units timed by the
cross-attention alignment heads on a 20 ms grid (``dtw_times``, CTranslate2's ``Whisper.align``).
"""

from __future__ import annotations

import dataclasses
import difflib
import os
from typing import TYPE_CHECKING, Any

import numpy as np

from animation.engine import audio as audio_io
from animation.engine.align.results import Transcript
from animation.engine.align.text import TextUnit, comparison_tokens, is_character_language, normalise_language
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


def model_for(language: str, model: str | os.PathLike[str] | None) -> WhisperModel:
    path = resolve_model_path(model, language=language)
    whisper = load_model(path)
    if not whisper.model.is_multilingual and language != "en":
        name = ENGLISH_MODEL if model is None else str(model)
        raise EngineInputError(f"the Whisper model {name} only knows English; use --model base for {language}")
    return whisper


def tokenizer_for(whisper: WhisperModel, language: str) -> Tokenizer:
    from faster_whisper.tokenizer import Tokenizer

    return Tokenizer(whisper.hf_tokenizer, whisper.model.is_multilingual, task="transcribe", language=language)


def load_samples(audio: str | os.PathLike[str] | np.ndarray) -> np.ndarray:
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
    whisper = load_model(resolve_model_path(model, language=None)) if code is None else model_for(code, model)
    samples = load_samples(audio)
    segments, info = whisper.transcribe(
        samples,
        language=code if whisper.model.is_multilingual else None,
        vad_filter=True,
        beam_size=5,
        condition_on_previous_text=False,
    )
    pieces = [segment.text.strip() for segment in segments]
    detected = info.language
    joiner = "" if is_character_language(detected) else " "
    return Transcript(
        text=joiner.join(piece for piece in pieces if piece),
        language=detected,
        language_probability=float(info.language_probability),
        duration_seconds=samples.size / SAMPLE_RATE,
    )


@dataclasses.dataclass
class Chunk:
    start: int  # samples
    end: int
    encoder_output: Any = None
    frame_count: int = 0
    transcript_tokens: list[str] = dataclasses.field(default_factory=list)
    transcript_text: str = ""


def chunk_bounds(samples: np.ndarray) -> list[tuple[int, int]]:
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


def encode(whisper: WhisperModel, samples: np.ndarray) -> tuple[Any, int]:
    features = whisper.feature_extractor(samples)
    frame_count = min(features.shape[-1], WINDOW_FRAMES)
    context = min(WINDOW_FRAMES, max(MIN_CONTEXT_FRAMES, frame_count + CONTEXT_PADDING_FRAMES))
    context += context % 2  # the encoder halves the frame rate
    padded = np.zeros((features.shape[0], context), dtype=np.float32)
    padded[:, :frame_count] = features[:, :frame_count]
    return whisper.encode(padded), frame_count


def quick_transcript(whisper: WhisperModel, tokenizer: Tokenizer, chunk: Chunk, *, passage: str | None = None) -> str:
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
    space = "" if is_character_language(language) else " "
    leading = tokenizer.encode(space + unit.leading) if unit.leading else []
    core = tokenizer.encode(("" if unit.leading else space) + unit.spoken)
    trailing = tokenizer.encode(unit.trailing.strip()) if unit.trailing.strip() else []
    return leading + core + trailing, len(leading), len(leading) + len(core)


def split_text_between_chunks(units: list[TextUnit], chunks: list[Chunk], language: str) -> list[tuple[int, int]]:
    """Which units each chunk holds, from where the chunks' transcripts match the passage."""
    if len(chunks) == 1:
        return [(0, len(units))]
    unit_keys = [comparison_tokens(unit.spoken, language) for unit in units]
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


def dtw_times(
    whisper: WhisperModel,
    tokenizer: Tokenizer,
    chunk: Chunk,
    units: list[TextUnit],
    language: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Start, end (seconds from the chunk's start), confidence (mean token probability) and mean
    token log probability of each unit from the alignment heads."""
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
    log_probabilities = np.log(np.maximum(probabilities, 1e-9))
    mean_log_probabilities = np.array(
        [float(np.mean(log_probabilities[start:end])) if end > start else 0.0 for start, end in core_spans]
    )
    return starts, np.maximum(ends, starts), confidences, mean_log_probabilities


def text_log_probability(
    whisper: WhisperModel, tokenizer: Tokenizer, chunk: Chunk, units: list[TextUnit], language: str
) -> float:
    """How likely the decoder finds UNITS, then the end of the text, said in CHUNK (its tokens forced,
    no prompt): the sum of the log probabilities of the units' spoken tokens and of the end token.
    Punctuation is given to the decoder but not counted, so texts that differ only in what was left
    out compare fairly (bench_align: placing a skip)."""
    token_ids: list[int] = []
    counted: list[int] = []
    for unit in units:
        ids, core_start, core_end = _unit_tokens(tokenizer, unit, language=language)
        counted.extend(range(len(token_ids) + core_start, len(token_ids) + core_end))
        token_ids.extend(ids)
    token_ids.append(tokenizer.eot)
    counted.append(len(token_ids) - 1)
    if len(token_ids) + len(tokenizer.sot_sequence) >= MAX_DECODER_TOKENS:
        return float("-inf")
    result = whisper.model.align(
        chunk.encoder_output, tokenizer.sot_sequence, [token_ids], chunk.frame_count, median_filter_width=7
    )[0]
    log_probabilities = np.log(np.maximum(np.asarray(result.text_token_probs, dtype=np.float64), 1e-9))
    return float(sum(log_probabilities[index] for index in counted if index < log_probabilities.size))
