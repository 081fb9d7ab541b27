"""A festival's programme as an iCalendar file (RFC 5545), so a visitor can put a reading in their own
calendar. Written by hand: a handful of properties, escaped and folded as the RFC says."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.utils import timezone

PRODUCT = "-//Shuohua//Festival programme//EN"


def _text(value: str) -> str:
    return (
        value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\r\n", "\\n").replace("\n", "\\n")
    )


def _utc(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")


def _fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next one after a space (never inside a character)."""
    parts, current = [], ""
    for character in line:
        limit = 75 if not parts else 74
        if len((current + character).encode()) > limit:
            parts.append(current)
            current = character
        else:
            current += character
    parts.append(current)
    return "\r\n ".join(parts)


def programme_calendar(items: Iterable, *, name: str, texts, url_of, host: str) -> str:
    """ITEMS (gallery.ProgrammeItem) as one calendar called NAME. TEXTS(item, field) gives a field in the
    visitor's language; URL_OF(item) its page's absolute address; HOST makes each item's stable UID."""
    stamp = _utc(timezone.now())
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODUCT}", "CALSCALE:GREGORIAN", "METHOD:PUBLISH"]
    lines.append(f"X-WR-CALNAME:{_text(name)}")
    for item in items:
        ends_at = item.ends_at or item.starts_at + datetime.timedelta(hours=1)
        lines += [
            "BEGIN:VEVENT",
            f"UID:programme-{item.id}@{host}",
            f"DTSTAMP:{stamp}",
            f"DTSTART:{_utc(item.starts_at)}",
            f"DTEND:{_utc(ends_at)}",
            f"SUMMARY:{_text(texts(item, 'title'))}",
            f"LOCATION:{_text(texts(item, 'venue'))}",
        ]
        description = texts(item, "description")
        if description:
            lines.append(f"DESCRIPTION:{_text(description)}")
        lines += [f"URL:{url_of(item)}", "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"
