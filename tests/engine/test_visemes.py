"""Mouth shapes from aligned English and Mandarin: what a viewer reads on the lips."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from animation.engine.motion import controls_from_alignment
from animation.engine.visemes import (
    VISEME_NAMES,
    VISEMES,
    dominant_visemes,
    english_phonemes,
    in_pronouncing_dictionary,
    language_family,
    letters_to_phonemes,
    mandarin_syllables,
    viseme_segments,
    viseme_track,
)

FPS = 25.0


def spoken(texts, *, start=0.5, duration=0.4, gap=0.1):
    """Units back to back, DURATION each, GAP apart, starting at START."""
    units = []
    for text in texts:
        units.append({"text": text, "start": start, "end": start + duration, "confidence": 0.9})
        start += duration + gap
    return units


def controls_for(units, language, *, seconds=None, envelope_level=0.7, fps=FPS):
    end = max(unit["end"] for unit in units) if units else 0.0
    frame_count = int(np.ceil((seconds or end + 1.0) * fps))
    envelope = np.full(frame_count, envelope_level)
    return controls_from_alignment(
        units=units, phrases=[], language=language, envelope=envelope, fps=fps, frame_count=frame_count
    )


def frames_of(unit, fps=FPS):
    return slice(int(unit["start"] * fps), int(np.ceil(unit["end"] * fps)) + 1)


def test_the_table_covers_the_documented_shapes_within_control_ranges():
    assert {"rest", "closed", "lip_teeth", "wide", "open", "round"} <= set(VISEME_NAMES)
    assert all(value == 0 for value in VISEMES["rest"].values())
    for shape in VISEMES.values():
        assert 0 <= shape["mouth_open"] <= 1 and -1 <= shape["mouth_width"] <= 1
        assert 0 <= shape["mouth_round"] <= 1 and 0 <= shape["lips_pressed"] <= 1 and 0 <= shape["teeth"] <= 1


@pytest.mark.parametrize("word", ["mama", "bob", "Pam"])
def test_english_bilabials_close_the_lips(word):
    unit = spoken([word])[0]
    controls = controls_for([unit], "en")
    during = frames_of(unit)
    pressed = controls["lips_pressed"][during]
    assert pressed.max() > 0.8
    assert controls["mouth_open"][during][pressed > 0.8].max() < 0.05
    # The mouth also opens for the vowel in between: it is speaking, not just shut.
    assert controls["mouth_open"][during].max() > 0.3


def test_every_closure_in_mama_shows_even_when_spoken_fast():
    unit = {"text": "mama", "start": 0.5, "end": 0.8}
    pressed = controls_for([unit], "en")["lips_pressed"][frames_of(unit)]
    closed_runs = np.flatnonzero(np.diff((pressed > 0.6).astype(int)) == 1)
    assert closed_runs.size + (pressed[0] > 0.6) == 2


@pytest.mark.parametrize("character", ["妈", "爸", "不"])
def test_mandarin_b_p_m_initials_close_the_lips(character):
    unit = {"text": character, "start": 0.5, "end": 0.8}
    controls = controls_for([unit], "zh")
    during = frames_of(unit)
    assert controls["lips_pressed"][during].max() > 0.8
    assert controls["mouth_open"][during].min() < 0.05
    track = dominant_visemes(viseme_track([unit], "zh", FPS, 30))
    assert "closed" in track[int(0.5 * FPS) : int(0.8 * FPS)]


@pytest.mark.parametrize(("text", "language"), [("father", "en"), ("啊", "zh"), ("妈", "zh")])
def test_open_vowels_drop_the_jaw(text, language):
    unit = {"text": text, "start": 0.5, "end": 0.9}
    controls = controls_for([unit], language)
    assert controls["mouth_open"][frames_of(unit)].max() > 0.6
    assert "open" in dominant_visemes(viseme_track([unit], language, FPS, 40))


@pytest.mark.parametrize(("text", "language"), [("who", "en"), ("我", "zh"), ("五", "zh"), ("鱼", "zh")])
def test_rounded_vowels_round_and_narrow_the_lips(text, language):
    unit = {"text": text, "start": 0.5, "end": 0.9}
    controls = controls_for([unit], language)
    during = frames_of(unit)
    most_round = np.argmax(controls["mouth_round"][during])
    assert controls["mouth_round"][during][most_round] > 0.7
    assert controls["mouth_width"][during][most_round] < -0.3


def test_wide_vowels_spread_the_lips():
    unit = {"text": "see", "start": 0.5, "end": 0.9}
    controls = controls_for([unit], "en")
    assert controls["mouth_width"][frames_of(unit)].max() > 0.5
    assert controls["mouth_round"][frames_of(unit)].max() < 0.1


def test_mouth_rests_in_silence_and_between_phrases():
    first, second = spoken(["father", "was"], duration=0.5, gap=0.0), spoken(["away"], start=3.0)
    units = first + second
    controls = controls_for(units, "en", seconds=5.0)
    before = slice(0, int(0.4 * FPS))
    between = slice(int(1.7 * FPS), int(2.8 * FPS))
    after = slice(int(4.0 * FPS), None)
    for quiet in (before, between, after):
        for name in ("mouth_open", "lips_pressed", "mouth_round", "teeth"):
            assert np.abs(controls[name][quiet]).max() < 0.02, name
    weights = viseme_track(units, "en", FPS, int(5 * FPS))
    assert set(dominant_visemes(weights[between])) == {"rest"}


def test_short_pause_between_words_keeps_lips_parted_and_long_pause_closes_them():
    short_gap = spoken(["father", "father"], duration=0.5, gap=0.18)
    long_gap = spoken(["father", "father"], duration=0.5, gap=0.6)
    short_track = viseme_track(short_gap, "en", FPS, 60)
    long_track = viseme_track(long_gap, "en", FPS, 80)
    short_middle = int((short_gap[0]["end"] + 0.09) * FPS)
    long_middle = int((long_gap[0]["end"] + 0.3) * FPS)
    rest = VISEME_NAMES.index("rest")
    assert 0.3 < short_track[short_middle, rest] < 1.0
    assert long_track[long_middle, rest] == 1.0


def test_a_consonant_already_takes_the_shape_of_the_next_vowel():
    # The t of "two" is made with rounded lips, the t of "tea" with spread ones.
    two = next(
        s for s in viseme_segments([{"text": "two", "start": 0.5, "end": 0.9}], "en", FPS) if s.kind == "consonant"
    )
    tea = next(
        s for s in viseme_segments([{"text": "tea", "start": 0.5, "end": 0.9}], "en", FPS) if s.kind == "consonant"
    )
    pucker, wide = VISEME_NAMES.index("pucker"), VISEME_NAMES.index("wide")
    assert two.weights[pucker] > 0.3 and two.weights[wide] == 0
    assert tea.weights[wide] > 0.3 and tea.weights[pucker] == 0


@pytest.mark.parametrize("fps", [12.0, 25.0, 60.0])
def test_closures_last_long_enough_to_be_filmed(fps):
    # An aligner can give "bob" 150 ms, which leaves each b a few milliseconds.
    segments = viseme_segments([{"text": "bob", "start": 0.5, "end": 0.65}], "en", fps)
    closures = [segment for segment in segments if segment.kind == "closure"]
    assert len(closures) == 2
    assert all(segment.duration >= max(0.08, 1.9 / fps) - 1e-9 for segment in closures)
    for earlier, later in itertools.pairwise(segments):
        assert earlier.end <= later.start + 1e-9


def test_low_frame_rates_get_an_in_between_shape_from_shut_to_wide_open():
    segments = viseme_segments([{"text": "ma", "start": 0.5, "end": 1.0}], "en", 12.0)
    kinds = [segment.kind for segment in segments]
    assert kinds[:3] == ["closure", "tween", "vowel"]
    tween = segments[1]
    assert tween.weights[VISEME_NAMES.index("closed")] == pytest.approx(0.5)


def test_unknown_word_is_spelled_out_by_letter_rules():
    assert not in_pronouncing_dictionary("Xqzlorp")
    phonemes = english_phonemes("Xqzlorp")
    assert phonemes == letters_to_phonemes("xqzlorp")
    assert phonemes[-1] == "P" and "AO1" in phonemes
    unit = {"text": "Xqzlorp", "start": 0.5, "end": 1.1}
    names = dominant_visemes(viseme_track([unit], "en", FPS, 40))[int(0.5 * FPS) : int(1.2 * FPS)]
    assert "round" in names
    # The final p closes the lips after the rounded vowel.
    assert names.index("closed") > names.index("round")


def test_dictionary_lookup_ignores_attached_punctuation_and_case():
    assert english_phonemes("ones,") == ["W", "AH1", "N", "Z"]
    assert english_phonemes("“Father!”") == english_phonemes("father")
    assert english_phonemes("Wisconsin's")[-1] == "Z"


def test_punctuation_units_change_nothing():
    words = spoken(["床", "前"], duration=0.3, gap=0.0)
    with_comma = [words[0], {"text": "，", "start": 0.8, "end": 0.8}, words[1]]
    assert np.array_equal(viseme_track(words, "zh", FPS, 40), viseme_track(with_comma, "zh", FPS, 40))


def test_mandarin_syllables_come_from_pypinyin_with_punctuation_attached():
    syllables = mandarin_syllables(["我", "，", "五", "鱼。", "是", "明月"])
    assert syllables[1] == []
    assert [one.final for one in syllables[0] + syllables[2] + syllables[3]] == ["uo", "u", "v"]
    assert (syllables[4][0].initial, syllables[4][0].tone) == ("sh", "4")
    assert [one.initial for one in syllables[5]] == ["m", ""]


def test_a_character_with_its_punctuation_still_shapes_the_mouth():
    plain = viseme_track([{"text": "光", "start": 0.5, "end": 0.9}], "zh", FPS, 30)
    attached = viseme_track([{"text": "光，", "start": 0.5, "end": 0.9}], "zh", FPS, 30)
    assert np.array_equal(plain, attached)
    assert "open" in dominant_visemes(attached)


def test_language_tags_choose_the_phonetic_model():
    assert language_family("en-GB") == "en"
    assert language_family("zh-Hans-CN") == "zh"
    assert language_family("cmn") == "zh"
    assert language_family("fr") is None


def test_track_rows_are_weights_summing_to_one():
    units = spoken(["The", "holidays", "are", "a", "time", "of", "celebrating"], duration=0.3, gap=0.02)
    weights = viseme_track(units, "en", FPS, 100)
    assert weights.shape == (100, len(VISEME_NAMES))
    assert np.all(weights >= 0)
    assert np.allclose(weights.sum(axis=1), 1.0)


def test_overlapping_or_unsorted_units_are_tolerated_but_broken_spans_are_not():
    units = [{"text": "bob", "start": 0.9, "end": 1.2}, {"text": "mama", "start": 0.5, "end": 1.0}]
    segments = viseme_segments(units, "en", FPS)
    assert all(a.end <= b.start + 1e-9 for a, b in itertools.pairwise(segments))
    with pytest.raises(ValueError, match="invalid time span"):
        viseme_track([{"text": "bob", "start": 1.0, "end": 0.5}], "en", FPS, 10)
