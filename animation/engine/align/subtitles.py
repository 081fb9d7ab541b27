"""Karaoke subtitles (WebVTT) from an alignment: one cue per phrase, a timestamp before each unit."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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


def _cues(data: Mapping[str, Any]) -> list[tuple[int, float, float, str]]:
    """(phrase number, start, end, text) of each phrase's cue: a <hh:mm:ss.mmm> tag before each unit
    after the first. A phrase without units has no cue (and its number is not reused)."""
    joiner = "" if is_character_language(str(data.get("language", ""))) else " "
    units = list(data["units"])
    cues = []
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
        cues.append((number, float(phrase["start"]), float(phrase["end"]), joiner.join(parts)))
    return cues


def _webvtt(cues: Sequence[tuple[int, float, float, str]]) -> str:
    lines = ["WEBVTT", ""]
    for number, start, end, text in cues:
        lines += [str(number), f"{_vtt_timestamp(start)} --> {_vtt_timestamp(end)}", text, ""]
    return "\n".join(lines)


def alignment_to_webvtt(result: AlignmentResult | dict[str, Any]) -> str:
    """Karaoke subtitles: one cue per phrase, a <hh:mm:ss.mmm> tag before each unit after the first.

    Text the reader skipped stays in the cue where the reading passed over it, as <c.skipped>...</c>.
    """
    data = result.to_dict() if isinstance(result, AlignmentResult) else result
    return _webvtt(_cues(data))


def dialogue_to_webvtt(lines: Sequence[tuple[str, Mapping[str, Any]]]) -> str:
    """Karaoke subtitles of several voices, each line a (speaker's name, alignment dict) pair with its
    times on the film's clock: every cue of a line (one per phrase, as ``alignment_to_webvtt``) is a
    WebVTT voice span, ``<v 宝玉>...</v>``, so players and ``::cue(v[voice=...])`` styles can tell who
    speaks; cues are numbered on through the film. A line whose alignment has no units but has "text",
    "start" and "end" (a line not aligned) gets one plain cue of that text over that span.
    """
    cues: list[tuple[float, float, str]] = []
    for name, data in lines:
        # The annotation ends at the first ">" and may not break the line: keep the name to one plain run.
        voice = " ".join(_vtt_text(name).split())
        own = [(start, end, text) for _, start, end, text in _cues(data)] if data.get("units") else []
        if not own and str(data.get("text", "")).strip() and "start" in data and "end" in data:
            own = [(float(data["start"]), float(data["end"]), " ".join(_vtt_text(str(data["text"])).split()))]
        cues += [(start, end, f"<v {voice}>{text}</v>" if voice else text) for start, end, text in own]
    return _webvtt([(number, *cue) for number, cue in enumerate(cues, start=1)])
