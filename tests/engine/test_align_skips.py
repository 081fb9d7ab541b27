"""Mandarin skips decided by the voice (issue 24): the syllable nuclei heard, shared out among the units
(align/skips.py), with the decoder placing each skip; the transcripts alone found 24 of 59 spliced skips."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from animation.engine import align
from animation.engine.align.skips import ReadingItem, skips_from_nuclei
from animation.engine.audio import decode_audio

RATE = 16000


def _items(count: int, *, low: set[int], plan_skipped: set[int] = frozenset(), step: float = 0.3) -> list[ReadingItem]:
    return [
        ReadingItem(
            syllables=1,
            start=0.5 + step * index,
            end=0.5 + step * (index + 1),
            log_probability=-8.0 if index in low else -0.5,
            plan_skipped=index in plan_skipped,
            clause_start=index in (0, 4, 8),
        )
        for index in range(count)
    ]


def test_units_with_no_nuclei_and_unlikely_tokens_are_skipped():
    # Twelve characters written, eight heard: the four of the second line have no nucleus.
    items = _items(12, low={4, 5, 6, 7})
    nuclei = np.array([0.6 + 0.3 * index for index in (0, 1, 2, 3, 8, 9, 10, 11)])
    evidence = skips_from_nuclei(items, nuclei)
    assert np.flatnonzero(evidence.skipped).tolist() == [4, 5, 6, 7]
    assert (evidence.support[~evidence.skipped] == 1.0).all()


def test_a_unit_the_transcripts_missed_is_read_when_the_voice_has_its_nucleus():
    # 奶奶: the transcripts did not hear the second 奶, but every character has its nucleus.
    items = _items(8, low={1}, plan_skipped={1})
    nuclei = np.array([0.6 + 0.3 * index for index in range(8)])
    evidence = skips_from_nuclei(items, nuclei)
    assert not evidence.skipped.any()


def test_a_syllable_run_into_the_next_is_not_a_skip_when_the_aligner_is_sure_of_it():
    # Real speech merges syllables: one nucleus fewer than characters, every token likely.
    items = _items(8, low=set())
    nuclei = np.array([0.6 + 0.3 * index for index in (0, 1, 2, 4, 5, 6, 7)])
    evidence = skips_from_nuclei(items, nuclei)
    assert not evidence.skipped.any()
    assert evidence.support.min() == 0.0  # the unit with no nucleus of its own is shown as unsure


def _mandarin(syllables: list[str], folder: Path, *, gaps: dict[int, float]) -> tuple[np.ndarray, list[float]]:
    """Each pinyin syllable said alone by espeak-ng (cmn-latn-pinyin), trimmed, joined with 60 ms, and
    GAPS[i] seconds before syllable i; and where each starts."""
    pieces = []
    for syllable in syllables:
        wav = folder / "syllable.wav"
        subprocess.run(["espeak-ng", "-v", "cmn-latn-pinyin", "-s", "160", "-w", str(wav), syllable], check=True)
        samples = decode_audio(wav, sample_rate=RATE)
        frames = samples[: samples.size // 80 * 80].reshape(-1, 80)
        levels = 10 * np.log10(np.mean(frames**2, axis=1) + 1e-12)
        voiced = np.flatnonzero(levels > levels.max() - 40)
        pieces.append(samples[voiced[0] * 80 : (voiced[-1] + 1) * 80])
    chunks, starts, cursor = [np.zeros(int(0.3 * RATE), np.float32)], [], int(0.3 * RATE)
    for index, piece in enumerate(pieces):
        gap = np.zeros(int(gaps.get(index, 0.06) * RATE), np.float32)
        chunks.append(gap)
        cursor += gap.size
        starts.append(cursor / RATE)
        chunks.append(piece)
        cursor += piece.size
    samples = np.concatenate([*chunks, np.zeros(int(0.4 * RATE), np.float32)])
    samples *= 0.5 / np.abs(samples).max()
    samples += np.random.default_rng(3).normal(0, 0.003, samples.size).astype(np.float32)
    return samples, starts


@pytest.mark.parametrize(
    ("lines", "skipped_line"),
    [
        # Not in the benchmark's sentences. Before: the passage-prompted transcript wrote the skipped
        # line anyway, nothing was marked, and the line after it started up to a second early.
        (["我们明天早上出发", "弟弟在房间里看书", "今天的晚饭很好吃"], 1),
        (["船在河上慢慢地走", "奶奶种了很多花", "两岸的灯火亮了"], 1),
    ],
)
def test_a_skipped_mandarin_line_is_found_by_its_missing_voice(tmp_path, lines, skipped_line):
    from pypinyin import Style, lazy_pinyin

    text = "，".join(lines[:2]) + "。" + lines[2] + "。"
    said = [line for number, line in enumerate(lines) if number != skipped_line]
    syllables = lazy_pinyin(list("".join(said)), style=Style.TONE3, neutral_tone_with_five=True)
    samples, said_at = _mandarin(syllables, tmp_path, gaps={len(said[0]): 0.5})
    result = align.align_text(samples, text=text, language="zh", model="base")
    first = sum(len(line) for line in lines[:skipped_line])
    expected = [first <= index < first + len(lines[skipped_line]) for index in range(len(result.units))]
    assert [unit.skipped for unit in result.units] == expected
    read = [unit for unit in result.units if not unit.skipped]
    errors = np.abs(np.array([unit.start for unit in read]) - said_at)
    assert errors.mean() < 0.05, np.round(errors, 3)
    assert all(unit.confidence == 0.0 for unit in result.units if unit.skipped)


def _in_a_noisy_room(samples: np.ndarray, others: list[np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """SAMPLES in a small reverberant room (RT60 0.3-0.6 s) with five of OTHERS talking at once, 10 dB
    under the voice: the benchmark's babble condition (bench/align_dataset.py), built here alone."""
    from scipy import signal

    length = int(0.6 * RATE)
    tail = rng.normal(0, 1, length) * np.exp(-6.9 * np.arange(length) / RATE / rng.uniform(0.3, 0.6))
    tail[: int(0.004 * RATE)] = 0.0
    tail *= 1.0 / np.sqrt(np.sum(tail**2))
    tail[0] = 1.0
    room = signal.fftconvolve(samples, tail)[: samples.size]
    babble = np.zeros(samples.size)
    for _ in range(5):
        voice = others[int(rng.integers(len(others)))]
        looped = np.tile(voice, samples.size // voice.size + 2)
        shift = int(rng.integers(voice.size))
        babble += looped[shift : shift + samples.size] * rng.uniform(0.5, 1.0)
    speech = samples[np.abs(samples) > 0.01]
    babble *= np.sqrt(np.mean(speech**2) / np.mean(babble**2) * 10 ** (-10 / 10))
    mixed = (room + babble).astype(np.float32)
    return mixed * (0.7 / np.abs(mixed).max())


@pytest.mark.parametrize(
    ("text", "seed"), [("老师让我们把门打开了", 1), ("孩子们在公园里玩", 0), ("两岸的灯火一下子亮了", 0)]
)
def test_no_character_read_in_a_noisy_room_is_marked_skipped(tmp_path, text, seed):
    # Before: in 10 dB babble a syllable drowned (师, 们, 灯), the nuclei missed it and it was marked
    # skipped though the transcripts heard it (bench_align, test split, noisy zh: false skips 2 -> 4).
    from pypinyin import Style, lazy_pinyin

    def reading(characters: str) -> np.ndarray:
        syllables = lazy_pinyin(list(characters), style=Style.TONE3, neutral_tone_with_five=True)
        return _mandarin(syllables, tmp_path, gaps={0: 0.0})[0]

    others = [reading(line) for line in ("我们明天早上出发", "秋天的树叶都变红了", "他唱歌唱得非常好听")]
    samples = _in_a_noisy_room(reading(text), others, np.random.default_rng(seed))
    result = align.align_text(samples, text=text + "。", language="zh", model="base")
    assert [unit.text for unit in result.units if unit.skipped] == []
