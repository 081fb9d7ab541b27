"""Template helpers for the festival's pages: poems set phrase by phrase."""

from __future__ import annotations

import re

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from contributions.templatetags.reading import HAN_RUN, han_run_pinyin, pinyin_ruby

register = template.Library()

# A phrase ends after Chinese (full-width) punctuation, so "。" never starts a line and a line never
# breaks inside "低头思故乡".
PHRASE = re.compile(r"[^，。！？；：、\n]*[，。！？；：、]*[ \t]*|\n")


@register.filter
def poem_phrases(text: str, with_pinyin: bool = False) -> SafeString:
    """TEXT with each phrase in <span class="phrase"> (kept on one line), pinyin ruby when asked.

    For Chinese text only: Chinese phrases are short, an English clause can be wider than a phone.
    """
    pieces = []
    for match in PHRASE.finditer(text):
        phrase = match.group()
        if not phrase:
            continue
        if phrase == "\n":
            pieces.append("\n")
            continue
        inner = pinyin_ruby(phrase) if with_pinyin else escape(phrase)
        pieces.append(f'<span class="phrase">{inner}</span>')
    return mark_safe("".join(pieces))  # noqa: S308 (each piece is escaped above)


def _pinyin_by_position(text: str) -> dict[int, str]:
    """Tone-marked pinyin of each Chinese character of TEXT by its position, read run by run so that
    pypinyin's phrase dictionary picks the reading of a character with several (长城, 长大)."""
    readings = {}
    for run in HAN_RUN.finditer(text):
        for offset, reading in enumerate(han_run_pinyin(run.group())):
            readings[run.start() + offset] = reading
    return readings


@register.filter
def aligned_phrases(units: list, text: str) -> SafeString:
    """The aligned units (characters or words with their times) as karaoke spans, grouped in phrases
    with the passage's own punctuation put back, so a line breaks only between phrases.

    UNITS are dicts with text/start/end, in reading order; TEXT is the passage. A unit that cannot be
    found in the text (an alignment of another version of it) is still shown, in order.
    """
    pieces: list[str] = []
    phrase: list[str] = []
    position = 0
    readings = _pinyin_by_position(text)

    def close_phrase() -> None:
        if phrase:
            pieces.append('<span class="phrase">' + "".join(phrase) + "</span>")
            phrase.clear()

    for unit in units:
        unit_text = str(unit.get("text", ""))
        found = text.find(unit_text, position) if unit_text else -1
        if found >= 0:
            between = text[position:found]
            position = found + len(unit_text)
        else:
            between = ""
        for character in between:
            if character == "\n":
                close_phrase()
                pieces.append("\n")
            elif character.isspace():
                close_phrase()
                pieces.append(" ")
            else:
                phrase.append(escape(character))
                if character in "，。！？；：、":
                    close_phrase()
        shown = escape(unit_text)
        if found >= 0 and len(unit_text) == 1 and found in readings:
            # Pinyin above the character, hidden until the visitor asks (the film page's Pinyin button).
            shown = f"<ruby>{shown}<rt>{escape(readings[found])}</rt></ruby>"
            if phrase:
                # Chromium finds no line break between two <ruby>: a phrase wider than a phone would
                # widen the page. A break opportunity before each character (never before punctuation).
                phrase.append("<wbr>")
        phrase.append(
            f'<span class="unit" data-start="{float(unit.get("start", 0)):.3f}" '
            f'data-end="{float(unit.get("end", 0)):.3f}">{shown}</span>'
        )
    for character in text[position:]:
        if character.isspace():
            close_phrase()
            pieces.append("\n" if character == "\n" else " ")
        else:
            phrase.append(escape(character))
    close_phrase()
    return mark_safe("".join(pieces))  # noqa: S308 (each piece is escaped above)


@register.filter
def local_date(value) -> str:
    """A date (or an ISO date string, as the cards carry it) in the page language's date format, so that
    cards and film pages read the same ("November 29, 2026" / "2026年11月29日")."""
    import datetime

    from django.utils.formats import date_format

    if isinstance(value, str):
        try:
            value = datetime.date.fromisoformat(value[:10])
        except ValueError:
            return value
    if not value:
        return ""
    return date_format(value, "DATE_FORMAT")
