"""Karaoke subtitles (WebVTT) from an alignment: one cue per phrase, a timestamp before each unit."""

from __future__ import annotations

from typing import Any

from animation.engine.align.results import AlignmentResult
from animation.engine.align.text import is_character_language


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
    joiner = "" if is_character_language(str(data.get("language", ""))) else " "
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
