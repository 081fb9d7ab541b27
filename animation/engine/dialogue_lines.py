"""Where each line of a dialogue is in its reader's recording (no Django).

A role's reader reads all of that role's lines in one take, one after another; the aligner times the
whole take against the role's text (its lines joined by newlines). The film needs each line on its own,
to place it in the dialogue's order between the other roles' lines: this module cuts the take at the
line boundaries the alignment gives.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from animation.engine.align.text import split_units
from animation.engine.errors import EngineInputError

# Room kept around a line's first and last syllable: the breath before it, the fall of the last one.
LEAD_SECONDS = 0.12
TAIL_SECONDS = 0.25
# A line the reader skipped still takes a moment in the film, so that the other figure's answer does
# not come before the question's silence.
SILENT_LINE_SECONDS = 0.5


@dataclass(frozen=True)
class LineCut:
    """Line INDEX (of the role's lines) is [start, end) of the take; UNITS are its units, in the take's times."""

    index: int
    start: float
    end: float
    units: list[dict[str, Any]] = field(default_factory=list)

    @property
    def phrases(self) -> list[dict[str, float]]:
        heard = [unit for unit in self.units if not unit.get("skipped")]
        if not heard:
            return []
        return [{"start": float(heard[0]["start"]), "end": float(heard[-1]["end"])}]


def line_cuts(lines: Sequence[str], alignment: Mapping[str, Any], *, language: str, duration: float) -> list[LineCut]:
    """The cut of each of LINES (a role's lines, in order) in a take of DURATION seconds aligned as ALIGNMENT
    (units in text order, one per unit of the joined lines).

    Raises EngineInputError when the alignment is not of these lines (the text changed since).
    """
    counts = [len(split_units(line, language)) for line in lines]
    units = list(alignment.get("units", []))
    if sum(counts) != len(units):
        raise EngineInputError(
            f"the reading's alignment has {len(units)} units, the role's {len(lines)} lines {sum(counts)}: "
            "the text changed since it was read"
        )
    slices, first = [], 0
    for count in counts:
        slices.append(units[first : first + count])
        first += count
    spans = []
    for own in slices:
        heard = [unit for unit in own if not unit.get("skipped") and float(unit["end"]) > float(unit["start"])]
        if heard:
            spans.append((float(heard[0]["start"]), float(heard[-1]["end"])))
        else:
            at = float(own[0]["start"]) if own else (spans[-1][1] if spans else 0.0)
            spans.append((at, at))
    cuts = []
    for index, (own, (start, end)) in enumerate(zip(slices, spans, strict=True)):
        previous_end = spans[index - 1][1] if index else 0.0
        next_start = spans[index + 1][0] if index + 1 < len(spans) else duration
        cut_start = max(previous_end, start - LEAD_SECONDS, 0.0) if index else max(0.0, start - LEAD_SECONDS)
        cut_end = min(next_start, end + TAIL_SECONDS, duration)
        if cut_end - cut_start < SILENT_LINE_SECONDS:
            # A line the reader skipped (or a very short one): a moment of its take, inside the take.
            cut_start = max(0.0, min(cut_start, duration - SILENT_LINE_SECONDS))
            cut_end = min(duration, cut_start + SILENT_LINE_SECONDS)
        cuts.append(LineCut(index=index, start=round(cut_start, 3), end=round(cut_end, 3), units=list(own)))
    return cuts
