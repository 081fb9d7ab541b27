"""The festival as an event on its public pages (issue 26): what is on (today, upcoming, past) and
the curators' choice of films. Inclusion tags, so that a page shows them with one line."""

from __future__ import annotations

import datetime

from django import template
from django.utils import timezone
from django.utils.formats import date_format, time_format
from django.utils.translation import get_language

from gallery import events, selectors

register = template.Library()

# The festival page shows the next few; the programme page shows everything.
UPCOMING_ON_EVENT_PAGE = 3
PAST_ON_EVENT_PAGE = 3


@register.filter
def programme_when(item) -> str:
    """When ITEM is on, in the festival's time zone and the page's language:
    "Saturday, December 5, 2026, 7 p.m. – 8:30 p.m." / "2026年12月5日 星期六 19:00–20:30"."""
    chinese = (get_language() or "").startswith("zh")
    starts = timezone.localtime(item.starts_at)
    ends = timezone.localtime(item.ends_at) if item.ends_at else None

    def clock(moment: datetime.datetime) -> str:
        # "11:30 p.m." never breaks inside itself.
        return time_format(moment, "TIME_FORMAT").replace(" ", "\u00a0")

    def day(moment: datetime.datetime) -> str:
        if chinese:
            return f"{date_format(moment, 'DATE_FORMAT')} {date_format(moment, 'l')}"
        return f"{date_format(moment, 'l')}, {date_format(moment, 'DATE_FORMAT')}"

    def moment_text(moment: datetime.datetime) -> str:
        return f"{day(moment)}{' ' if chinese else ', '}{clock(moment)}"

    start_text = moment_text(starts)
    if ends is None:
        return start_text
    end_text = clock(ends) if ends.date() == starts.date() else moment_text(ends)
    return f"{start_text}–{end_text}" if chinese else f"{start_text} – {end_text}"


@register.inclusion_tag("gallery/_whats_on.html")
def festival_whats_on(event):
    """EVENT's programme in short: today's items, the next few, the last few; nothing when it has none."""
    sections = selectors.programme_sections(event=event)
    return {
        "event": event,
        "today": sections["today"],
        "upcoming": sections["upcoming"][:UPCOMING_ON_EVENT_PAGE],
        "more_upcoming": max(0, len(sections["upcoming"]) - UPCOMING_ON_EVENT_PAGE),
        "past": sections["past"][:PAST_ON_EVENT_PAGE],
        "any": any(sections.values()),
    }


@register.inclusion_tag("gallery/_curators_choice.html")
def curators_choice(event):
    """EVENT's featured films, in the curators' order, each card with its note; nothing when none."""
    chosen = selectors.featured_films(event=event) if event is not None else []
    return {"event": event, "chosen": [(entry, events.animation_card(entry.animation)) for entry in chosen]}
