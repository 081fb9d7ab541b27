"""Template helpers for reading a passage aloud."""

import functools
import re

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

HAN_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


@functools.lru_cache(maxsize=4096)
def han_run_pinyin(run: str) -> tuple[str, ...]:
    """Tone-marked pinyin of each character of RUN, a run of Chinese characters as HAN_RUN finds it.

    The whole run goes to pypinyin at once so that its phrase dictionary picks the right reading of
    characters with several (e.g. 长 in 长城 and 长大). Cached because the record and film pages ask
    for the same passage on every view; it is a pure function of the run, so an edited passage asks
    with new runs and gets new pinyin.
    """
    from pypinyin import Style, lazy_pinyin

    return tuple(lazy_pinyin(run, style=Style.TONE))


@register.filter
def pinyin_ruby(text: str) -> SafeString:
    """Chinese text with tone-marked pinyin above each character (<ruby>), hidden until asked for."""
    pieces = []
    position = 0
    for run in HAN_RUN.finditer(text):
        pieces.append(escape(text[position : run.start()]))
        for offset, (character, reading) in enumerate(zip(run.group(), han_run_pinyin(run.group()), strict=True)):
            # Chromium finds no line break between two <ruby>: one before each character but the first.
            pieces.append(("<wbr>" if offset else "") + f"<ruby>{escape(character)}<rt>{escape(reading)}</rt></ruby>")
        position = run.end()
    pieces.append(escape(text[position:]))
    return mark_safe("".join(pieces))  # noqa: S308 (every piece is escaped above)
