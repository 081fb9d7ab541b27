"""Template helpers for reading a passage aloud."""

import re

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

HAN_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


@register.filter
def pinyin_ruby(text: str) -> SafeString:
    """Chinese text with tone-marked pinyin above each character (<ruby>), hidden until asked for.

    Whole runs of characters go to pypinyin at once so that its phrase dictionary picks the right
    reading of characters with several (e.g. 长 in 长城 and 长大).
    """
    from pypinyin import Style, lazy_pinyin

    pieces = []
    position = 0
    for run in HAN_RUN.finditer(text):
        pieces.append(escape(text[position : run.start()]))
        readings = lazy_pinyin(run.group(), style=Style.TONE)
        for offset, (character, reading) in enumerate(zip(run.group(), readings, strict=True)):
            # Chromium finds no line break between two <ruby>: one before each character but the first.
            pieces.append(("<wbr>" if offset else "") + f"<ruby>{escape(character)}<rt>{escape(reading)}</rt></ruby>")
        position = run.end()
    pieces.append(escape(text[position:]))
    return mark_safe("".join(pieces))  # noqa: S308 (every piece is escaped above)
