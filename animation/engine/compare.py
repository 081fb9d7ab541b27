"""What was heard against what was written, by sound.

Whisper writes homophones: a faithful reading of 疑是 comes back as 一世 (yí shì / yī shì), 思故乡
as 丝骨箱. Comparing characters would call those misread, so Mandarin is compared by pinyin: the same
syllable is a match, a different tone costs a quarter of an error, a near syllable (shi/si, an/ang,
n/l: what a regional accent or the model blurs) half of one. Other languages compare lowercase words.

``align_tokens`` is a weighted edit distance with its path: used for the moderators' score and diff
and by the aligner, to find which units of the passage were read, skipped, or joined by extra words.
No Django here (engine code).
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Sequence

import numpy as np

TONE_COST = 0.25  # same syllable, another tone
NEAR_SOUND_COST = 0.5  # syllables a listener (or Whisper) easily confuses
SUBSTITUTION_COST = 1.0
GAP_COST = 1.0  # a token skipped or added
# A substitution this cheap or cheaper is the same sound: shown as equal, not as a misreading.
SAME_SOUND_COST = TONE_COST

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ebef]")
# Initials and finals that are heard (and transcribed) interchangeably often enough that the
# difference should not count as a full misreading.
_NEAR_INITIALS = [("zh", "z"), ("ch", "c"), ("sh", "s"), ("n", "l"), ("f", "h"), ("r", "l")]
_NEAR_FINALS = [("ang", "an"), ("eng", "en"), ("ing", "in"), ("iang", "ian"), ("uang", "uan"), ("ong", "eng")]
_INITIALS = ("zh", "ch", "sh", "b", "p", "m", "f", "d", "t", "n", "l", "g", "k", "h", "j", "q", "x", "r", "z", "c", "s")


@functools.lru_cache(maxsize=20000)
def _character_readings(character: str) -> tuple[tuple[str, str], ...]:
    """(syllable, tone) of each reading of a Han character, most common first."""
    from pypinyin import Style, pinyin

    readings = pinyin(character, style=Style.TONE3, heteronym=True, neutral_tone_with_five=True)[0]
    result = []
    for reading in readings:
        match = re.fullmatch(r"([a-zü]+?)([1-5]?)", reading.replace("v", "ü"))
        if match:
            result.append((match.group(1), match.group(2) or "5"))
    return tuple(result) or ((character, ""),)


def sound_of(token: str, language: str) -> list[tuple[str, str]]:
    """The readings of TOKEN as (syllable, tone) pairs; one pair with tone '' when it has no pinyin."""
    if language in ("zh", "yue") and len(token) == 1 and _HAN.match(token):
        return list(_character_readings(token))
    return [(token.lower(), "")]


def _split_syllable(syllable: str) -> tuple[str, str]:
    for initial in _INITIALS:
        if syllable.startswith(initial) and len(syllable) > len(initial):
            return initial, syllable[len(initial) :]
    return "", syllable


def _near(first: str, second: str, pairs: Sequence[tuple[str, str]]) -> bool:
    return first == second or (first, second) in pairs or (second, first) in pairs


@functools.lru_cache(maxsize=200000)
def _syllable_cost(first: tuple[str, str], second: tuple[str, str]) -> float:
    (base_a, tone_a), (base_b, tone_b) = first, second
    if base_a == base_b:
        return 0.0 if tone_a == tone_b or not tone_a or not tone_b else TONE_COST
    if not tone_a or not tone_b:
        return SUBSTITUTION_COST  # no pinyin on one side: letters, digits, other scripts
    initial_a, final_a = _split_syllable(base_a)
    initial_b, final_b = _split_syllable(base_b)
    if _near(initial_a, initial_b, _NEAR_INITIALS) and _near(final_a, final_b, _NEAR_FINALS):
        return NEAR_SOUND_COST
    return SUBSTITUTION_COST


def substitution_cost(reference: str, heard: str, language: str) -> float:
    """0 (same sound) .. 1 (different) for one token of the passage against one heard token.

    The passage's character may be read in any of its readings (行 xíng or háng); the heard one in
    its usual reading only, since that is why Whisper chose it (已 is yǐ, not its rare sì).
    """
    if reference == heard:
        return 0.0
    return min(_syllable_cost(first, sound_of(heard, language)[0]) for first in sound_of(reference, language))


@dataclasses.dataclass(frozen=True)
class Step:
    """One step of the alignment path: ref/hyp index or None (a gap), and what the step cost."""

    ref: int | None
    hyp: int | None
    cost: float

    @property
    def op(self) -> str:
        if self.ref is None:
            return "insert"
        if self.hyp is None:
            return "delete"
        return "equal" if self.cost <= SAME_SOUND_COST + 1e-9 else "replace"


def _cost_matrix(reference: Sequence[str], hypothesis: Sequence[str], language: str) -> np.ndarray:
    ref_vocabulary = {token: index for index, token in enumerate(dict.fromkeys(reference))}
    hyp_vocabulary = {token: index for index, token in enumerate(dict.fromkeys(hypothesis))}
    table = np.array(
        [[substitution_cost(a, b, language) for b in hyp_vocabulary] for a in ref_vocabulary], dtype=np.float64
    ).reshape(len(ref_vocabulary), len(hyp_vocabulary))
    ref_ids = np.array([ref_vocabulary[token] for token in reference], dtype=np.int64)
    hyp_ids = np.array([hyp_vocabulary[token] for token in hypothesis], dtype=np.int64)
    return table[np.ix_(ref_ids, hyp_ids)]


def align_tokens(reference: Sequence[str], hypothesis: Sequence[str], *, language: str) -> list[Step]:
    """The cheapest path of substitutions, deletions (in REFERENCE, not heard) and insertions.

    Weighted Levenshtein over sounds, filled one numpy row at a time. Among paths of equal cost the
    backtrace keeps matches late and gaps early, so a repeated phrase leaves its first reading as the
    addition and the second, which flows on into the text, as the match.
    """
    n, m = len(reference), len(hypothesis)
    if n == 0 or m == 0:
        return [Step(index, None, GAP_COST) for index in range(n)] + [Step(None, index, GAP_COST) for index in range(m)]
    costs = _cost_matrix(reference, hypothesis, language)
    table = np.empty((n + 1, m + 1), dtype=np.float64)
    table[0] = np.arange(m + 1) * GAP_COST
    positions = np.arange(m + 1) * GAP_COST
    for i in range(1, n + 1):
        previous = table[i - 1]
        candidate = np.empty(m + 1)
        candidate[0] = previous[0] + GAP_COST
        candidate[1:] = np.minimum(previous[:-1] + costs[i - 1], previous[1:] + GAP_COST)
        # Insertions chain along the row: table[i, j] = min over k <= j of candidate[k] + (j - k).
        table[i] = np.minimum.accumulate(candidate - positions) + positions
    steps: list[Step] = []
    i, j = n, m
    while i > 0 or j > 0:
        here = table[i, j]
        if i > 0 and j > 0 and abs(table[i - 1, j - 1] + costs[i - 1, j - 1] - here) < 1e-9:
            steps.append(Step(i - 1, j - 1, float(costs[i - 1, j - 1])))
            i, j = i - 1, j - 1
        elif j > 0 and abs(table[i, j - 1] + GAP_COST - here) < 1e-9:
            steps.append(Step(None, j - 1, GAP_COST))
            j -= 1
        else:
            steps.append(Step(i - 1, None, GAP_COST))
            i -= 1
    steps.reverse()
    return steps


def distance(reference: Sequence[str], hypothesis: Sequence[str], *, language: str) -> float:
    return float(sum(step.cost for step in align_tokens(reference, hypothesis, language=language)))


def slide_gaps(steps: list[Step], reference: Sequence[str], *, breaks: set[int]) -> list[Step]:
    """Move each run of deletions to start at a break of the text (index in BREAKS: a line or clause
    start) when an equally cheap placement allows it: with 明月 twice in a poem, a skipped line that
    begins or ends with it could otherwise be drawn a few characters early or late at the same cost."""
    steps = list(steps)
    index = 0
    while index < len(steps):
        if steps[index].op != "delete":
            index += 1
            continue
        end = index
        while end < len(steps) and steps[end].op == "delete":
            end += 1
        candidates = [(steps, index, end)]
        for shift in (_shift_left, _shift_right):
            current, start, stop = steps, index, end
            while (moved := shift(current, start, stop, reference)) is not None:
                current, start, stop = moved
                candidates.append(moved)
        chosen = next((c for c in candidates if c[0][c[1]].ref in breaks), candidates[0])
        steps, index = chosen[0], chosen[2]
    return steps


def _exact(step: Step) -> bool:
    return step.ref is not None and step.hyp is not None and step.cost == 0.0


def _renumbered(steps: list[Step], low: int, high: int) -> list[Step]:
    references = sorted(step.ref for step in steps[low:high] if step.ref is not None)
    window = [Step(ref, step.hyp, step.cost) for ref, step in zip(references, steps[low:high], strict=True)]
    return steps[:low] + window + steps[high:]


def _shift_left(
    steps: list[Step], start: int, stop: int, reference: Sequence[str]
) -> tuple[list[Step], int, int] | None:
    """The deletion run [START, STOP) one token earlier, if the token before it equals its last one."""
    if start == 0 or not _exact(steps[start - 1]):
        return None
    before, last = steps[start - 1].ref, steps[stop - 1].ref
    if before is None or last is None or reference[before] != reference[last]:
        return None
    moved = steps[: start - 1] + steps[start:stop] + [steps[start - 1]] + steps[stop:]
    return _renumbered(moved, start - 1, stop), start - 1, stop - 1


def _shift_right(
    steps: list[Step], start: int, stop: int, reference: Sequence[str]
) -> tuple[list[Step], int, int] | None:
    """The deletion run one token later, if the token after it equals its first one."""
    if stop >= len(steps) or not _exact(steps[stop]):
        return None
    after, first = steps[stop].ref, steps[start].ref
    if after is None or first is None or reference[after] != reference[first]:
        return None
    moved = [*steps[:start], steps[stop], *steps[start:stop], *steps[stop + 1 :]]
    return _renumbered(moved, start, stop + 1), start + 1, stop + 1
