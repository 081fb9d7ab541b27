"""How the organisers' dashboard shows its figures: words in the page's language and chart geometry.

Presentation only: the figures come from gallery.dashboard.event_figures. Charts are inline SVG drawn by
the templates from the geometry made here, in percent of the width so that they fit a 390 px phone and a
1366 px laptop alike. Bar charts are lists (label, bar, number: they read as text); the per-day columns
are an image with a sentence saying what they show; every chart also has a table of its numbers.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

# The per-day columns: plot height, and the room above (numbers) and below (days).
COLUMN_TOP = 18
COLUMN_PLOT_HEIGHT = 110
COLUMN_CHART_HEIGHT = COLUMN_TOP + COLUMN_PLOT_HEIGHT + 26
DAY_LABELS_AT_MOST = 7
COLUMN_NUMBERS_UP_TO = 14  # days; with more, each column's number is in its tooltip and the table


def duration(seconds: float | None) -> str:
    """SECONDS as a person says it: "45 s", "3 min 05 s", "2 h 10 min", "1 d 4 h"; a dash for none."""
    if seconds is None:
        return "—"
    seconds = max(0, round(seconds))
    if seconds < 60:
        return _("%(seconds)d s") % {"seconds": seconds}
    if seconds < 3600:
        return _("%(minutes)d min %(seconds)02d s") % {"minutes": seconds // 60, "seconds": seconds % 60}
    if seconds < 86400:
        return _("%(hours)d h %(minutes)02d min") % {"hours": seconds // 3600, "minutes": seconds % 3600 // 60}
    return _("%(days)d d %(hours)d h") % {"days": seconds // 86400, "hours": seconds % 86400 // 3600}


def hours_of_voice(seconds: float) -> str:
    """Recorded voice in hours ("12.5 h"), or in minutes while under an hour ("25 min")."""
    if seconds < 60:
        return duration(seconds)
    if seconds < 3600:
        return _("%(minutes)d min") % {"minutes": round(seconds / 60)}
    return _("%(hours)s h") % {"hours": f"{seconds / 3600:.1f}"}


def percent(share: float | None) -> str:
    return "—" if share is None else f"{round(share * 100)} %"


def short_day(day: date) -> str:
    return _("%(month)d/%(day)d") % {"month": day.month, "day": day.day}


def bars(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """A horizontal bar chart of ROWS ({"key", "label", "value"}, optionally "note" under the label): each
    bar's length in percent of the longest. Labels and numbers are HTML beside an SVG bar, so they wrap
    on a phone and read as text."""
    longest = max((row["value"] for row in rows), default=0) or 1
    drawn = [{**row, "width": f"{100 * row['value'] / longest:.2f}"} for row in rows]
    return {"rows": drawn}


def _anchor(middle: float, left: float, right: float) -> tuple[str, str]:
    """Where a label under or over a column starts: centred, but kept inside the chart at its two ends."""
    if middle < 12:
        return "start", f"{left:.2f}"
    if middle > 88:
        return "end", f"{right:.2f}"
    return "middle", f"{middle:.2f}"


def columns(days: list[dict[str, Any]]) -> dict[str, Any]:
    """Geometry of the readings-per-day column chart."""
    highest = max((day["received"] for day in days), default=0) or 1
    count = max(1, len(days))
    slot = 100 / count
    every = max(1, math.ceil(count / DAY_LABELS_AT_MOST))
    drawn = []
    for index, day in enumerate(days):
        height = COLUMN_PLOT_HEIGHT * day["received"] / highest
        the_day = date.fromisoformat(day["day"])
        label = short_day(the_day)
        left, middle, right = index * slot + slot * 0.15, index * slot + slot / 2, index * slot + slot * 0.85
        anchor, text_x = _anchor(middle, left, right)
        drawn.append(
            {
                "x": f"{left:.2f}",
                "width": f"{slot * 0.7:.2f}",
                "anchor": anchor,
                "text_x": text_x,
                "y": f"{COLUMN_TOP + COLUMN_PLOT_HEIGHT - height:.1f}",
                "height": f"{height:.1f}",
                "number_y": f"{COLUMN_TOP + COLUMN_PLOT_HEIGHT - height - 4:.1f}",
                "value": day["received"],
                "label": label,
                "show_label": index % every == 0,
                "title": ngettext("%(day)s: %(count)d reading", "%(day)s: %(count)d readings", day["received"])
                % {"day": label, "count": day["received"]},
            }
        )
    total = sum(day["received"] for day in days)
    summary = (
        ngettext(
            "%(count)d reading over %(days)d days; the busiest day had %(most)d.",
            "%(count)d readings over %(days)d days; the busiest day had %(most)d.",
            total,
        )
        % {"count": total, "days": len(days), "most": max((day["received"] for day in days), default=0)}
        if days
        else _("No reading yet.")
    )
    return {
        "columns": drawn,
        "height": COLUMN_CHART_HEIGHT,
        "baseline": COLUMN_TOP + COLUMN_PLOT_HEIGHT,
        "label_y": COLUMN_TOP + COLUMN_PLOT_HEIGHT + 18,
        "numbers": len(days) <= COLUMN_NUMBERS_UP_TO,
        "summary": summary,
    }


def page(figures: dict[str, Any]) -> dict[str, Any]:
    """Everything the template shows, from FIGURES (gallery.dashboard.event_figures)."""
    readings = figures["readings"]
    films = figures["films"]
    queue = figures["queue"]
    render = figures["render"]
    voice = figures["voice_seconds"]

    status_rows = [
        {"key": "pending", "label": _("Waiting for review"), "value": readings["pending"]},
        {"key": "approved", "label": _("Approved"), "value": readings["approved"]},
        {"key": "rejected", "label": _("Rejected"), "value": readings["rejected"]},
        {"key": "withdrawn", "label": _("Withdrawn by the reader"), "value": readings["withdrawn"]},
    ]
    reason_rows = [
        {
            "key": f"reason-{row['reason'] or 'unknown'}",
            "label": row["label"] or _("No reason recorded"),
            "value": row["count"],
        }
        for row in figures["rejections"]
    ]
    film_rows = [
        {"key": "in_progress", "label": _("Being made"), "value": films["in_progress"]},
        {"key": "held", "label": _("Held for review"), "value": films["held"]},
        {"key": "published", "label": _("Published"), "value": films["published"]},
        {"key": "failed", "label": _("Failed"), "value": films["failed"]},
        {"key": "removed", "label": _("Withdrawn or taken down"), "value": films["removed"]},
    ]
    funnel_rows = [
        {
            "key": "funnel",
            "label": step["label"],
            "value": step["count"],
            "dropped": percent(step["dropped"]),
            "note": _("%(dropped)s dropped out") % {"dropped": percent(step["dropped"])}
            if step["dropped"] is not None
            else "",
        }
        for step in figures["funnel"]
    ]
    headline = [
        {"key": "received", "label": _("Readings received"), "value": str(readings["received"])},
        {"key": "waiting", "label": _("Waiting for review"), "value": str(readings["pending"])},
        {"key": "approved", "label": _("Approved"), "value": str(readings["approved"])},
        {"key": "rejected", "label": _("Rejected"), "value": str(readings["rejected"])},
        {"key": "voice-approved", "label": _("Voice approved"), "value": hours_of_voice(voice["approved"])},
        {"key": "voice-total", "label": _("Voice received"), "value": hours_of_voice(voice["total"])},
        {"key": "films-made", "label": _("Films made"), "value": str(films["made"])},
        {"key": "films-published", "label": _("Films published"), "value": str(films["published"])},
    ]
    queue_facts = [
        {"key": "queue-waiting", "label": _("Readings waiting"), "value": str(queue["waiting"])},
        {"key": "queue-oldest", "label": _("Oldest waiting for"), "value": duration(queue["oldest_seconds"])},
        {"key": "queue-median", "label": _("Median wait so far"), "value": duration(queue["median_wait_seconds"])},
        {
            "key": "queue-decision",
            "label": _("Median time to a decision"),
            "value": duration(queue["median_decision_seconds"]),
        },
    ]
    render_facts = [
        {"key": "render-median", "label": _("Render time, median"), "value": duration(render["median_seconds"])},
        {"key": "render-p90", "label": _("Render time, 90th percentile"), "value": duration(render["p90_seconds"])},
        {
            "key": "publish-median",
            "label": _("Approval to publication, median"),
            "value": duration(render["to_publish_median_seconds"]),
        },
        {
            "key": "publish-p90",
            "label": _("Approval to publication, 90th percentile"),
            "value": duration(render["to_publish_p90_seconds"]),
        },
    ]
    return {
        "headline": headline,
        "statuses": bars(status_rows),
        "reasons": bars(reason_rows),
        "films": bars(film_rows),
        "funnel": bars(funnel_rows),
        "per_day": columns(figures["per_day"]),
        "per_day_rows": [
            {"label": short_day(date.fromisoformat(day["day"])), "value": day["received"]} for day in figures["per_day"]
        ],
        "queue": queue_facts,
        "render": render_facts,
        "render_counts": ngettext("From %(count)d finished film.", "From %(count)d finished films.", render["films"])
        % {"count": render["films"]},
        "funnel_total": sum(step["count"] for step in figures["funnel"]),
    }
