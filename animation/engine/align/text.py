"""The passage as it is spoken: language codes, units (characters or words) with their punctuation,
numbers spelt out as they are said, and the text compared with what Whisper heard (by sound, see
``compare``) for the moderators' score and diff.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
import unicodedata

from animation.engine import compare
from animation.engine.errors import EngineInputError

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


def is_character_language(language: str) -> bool:
    return language in CHARACTER_LANGUAGES


def _is_punctuation(character: str) -> bool:
    return unicodedata.category(character)[0] in "PSZ" and character not in "%$€£¥#&+@"


# ---------------------------------------------------------------------------------------------
# Numbers as they are said


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


# ---------------------------------------------------------------------------------------------
# Units


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
    if is_character_language(language):
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


def comparison_tokens(text: str, language: str) -> list[str]:
    """Text reduced to what is said: no punctuation or case, simplified characters, numbers as words.

    Characters for zh/ja (so word segmentation never matters), words otherwise.
    """
    units = split_units(text, language)
    tokens: list[str] = []
    for unit in units:
        spoken = unicodedata.normalize("NFKC", unit.spoken).lower()
        spoken = "".join(" " if _is_punctuation(character) else character for character in spoken)
        if is_character_language(language):
            tokens.extend(character for character in spoken if not character.isspace())
        else:
            tokens.extend(spoken.split())
    return tokens


# ---------------------------------------------------------------------------------------------
# Heard against written


def match_score(reference_text: str, hypothesis_text: str, *, language: str) -> float:
    """1 - error rate of what was heard against the passage, clipped to 0..1.

    Words for most languages; characters compared by sound for Mandarin (compare.py: a homophone is
    no error, another tone a quarter of one), so Whisper's spelling of a faithful reading scores high.
    """
    language = normalise_language(language)
    reference = comparison_tokens(reference_text, language)
    hypothesis = comparison_tokens(hypothesis_text, language)
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
        reference_tokens.extend(comparison_tokens(unit.spoken, language))
        if unit.ends_clause:
            breaks.add(len(reference_tokens))
    hypothesis_tokens = comparison_tokens(hypothesis, language)
    steps = compare.align_tokens(reference_tokens, hypothesis_tokens, language=language)
    steps = compare.slide_gaps(steps, reference_tokens, breaks=breaks)
    joiner = "" if is_character_language(language) else " "
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
