"""Texts in both languages (issue 26): the main text first (Chinese, for this festival), English beside it.

``{% both painting "title" %}`` shows both, the English one marked lang="en" and styled as the second
voice; ``{% both passage "title" lang=passage.language %}`` marks the main text with its language too
(a passage may be Chinese or English). ``{{ painting|in_language:"title" }}`` gives the one the visitor
reads (for a page title, a share card, an alt text), falling back to the main text when there is no
English one.
"""

from __future__ import annotations

from django import template
from django.utils.html import format_html, linebreaks
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

register = template.Library()


def _texts(item, field: str) -> tuple[str, str]:
    return str(getattr(item, field, "") or ""), str(getattr(item, f"{field}_en", "") or "")


@register.filter
def in_language(item, field: str) -> str:
    main, english = _texts(item, field)
    if english and not (get_language() or "").startswith("zh"):
        return english
    return main or english


@register.simple_tag
def both(item, field: str, paragraphs: bool = False, lang: str = ""):
    """FIELD of ITEM and its English companion, the main text first; PARAGRAPHS for a story or a
    description. LANG is the main text's language (a passage's ``language``): given, the main text is
    marked with it, so that a passage in English or Chinese is read and styled as what it is."""
    main, english = _texts(item, field)
    main_lang = format_html(' lang="{}"', lang) if lang else ""
    if paragraphs:
        # linebreaks(autoescape=True) escapes the text itself and adds only <p> and <br>.
        main_html = mark_safe(linebreaks(main, autoescape=True))  # noqa: S308
        english_html = mark_safe(linebreaks(english, autoescape=True))  # noqa: S308
        parts = [format_html('<div class="text-main"{}>{}</div>', main_lang, main_html)] if main else []
        if english and english != main:
            parts.append(format_html('<div class="text-other" lang="en">{}</div>', english_html))
        return mark_safe("".join(parts))  # noqa: S308 (each part is built by format_html)
    if lang:
        if not main:
            return format_html('<span lang="en">{}</span>', english) if english else ""
        main_span = format_html("<span{}>{}</span>", main_lang, main)
        if not english or english == main:
            return main_span
        return format_html('{}<span class="text-other" lang="en">{}</span>', main_span, english)
    if not english or english == main:
        return main or english
    return format_html('{}<span class="text-other" lang="en">{}</span>', main, english)
