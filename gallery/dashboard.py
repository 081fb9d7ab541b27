"""Reads for the organisers' dashboard of one festival (issue 26): the figures, and who may see them.

Selectors only: nothing here writes. The page, its JSON (polled by the page) and the CSV export are all
made from ``event_figures``, so the three can never disagree. Figures are about readings and films,
never about people: no name, e-mail or user id leaves this module.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from django.db.models import Count, Sum
from django.utils import timezone

from animation.models import Animation
from catalogue.models import Event
from catalogue.selectors import event_curated_by
from contributions.models import ModerationDecision, Recording, RecordingFunnelCount
from contributions.selectors import moderator_may_review_event

# The per-day chart shows at most this many days (the latest ones): beyond, columns get too thin to read.
PER_DAY_LIMIT = 60

# Plain values (str() of a TextChoices member is its value): the counts' keys are the database's strings.
READING_STATUSES: list[str] = [
    str(status)
    for status in (
        Recording.Status.PENDING,
        Recording.Status.APPROVED,
        Recording.Status.REJECTED,
        Recording.Status.WITHDRAWN,
    )
]
FILM_GROUPS: dict[str, list[str]] = {
    "in_progress": [str(status) for status in Animation.IN_PROGRESS],
    "held": [str(Animation.Status.READY)],  # rendered, waiting for a moderator (events that review films)
    "published": [str(Animation.Status.PUBLISHED)],
    "failed": [str(Animation.Status.FAILED)],
    "removed": [str(Animation.Status.REMOVED)],  # withdrawn by the reader or taken down
}
FUNNEL_STEPS = RecordingFunnelCount.Step.choices  # (value, label), in the order readers meet them


def dashboard_visible(*, event: Event, user) -> bool:
    """Whether USER may see EVENT's dashboard: the event's own curators and moderators."""
    if not user.is_authenticated:
        return False
    return event_curated_by(event_id=event.id, user=user) or moderator_may_review_event(
        moderator=user, event_id=event.id
    )


def percentile(values: list[float], share: float) -> float | None:
    """The SHARE (0-1) quantile of VALUES by linear interpolation between ranks (numpy's default); None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * share
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def render_seconds(stage_seconds: dict) -> float | None:
    """The workers' time on one film: preparing the voice and aligning it, then the render task (which
    includes fetching inputs and storing files). Older rows without a render_task total: their stages."""
    numbers = {key: float(value) for key, value in (stage_seconds or {}).items() if isinstance(value, int | float)}
    if not numbers:
        return None
    if "render_task" in numbers:
        return numbers.get("prepare_voice", 0.0) + numbers.get("align", 0.0) + numbers["render_task"]
    return sum(numbers.values())


class Decision(NamedTuple):
    verdict: str
    decided_at: datetime
    submitted_at: datetime


def _decisions(*, event: Event) -> dict[Any, Decision]:
    """Each reading's decision in force (approve or reject, not undone or reversed), by reading id."""
    rows = (
        ModerationDecision.objects.filter(
            recording__passage__event=event,
            subject=ModerationDecision.Subject.RECORDING,
            verdict__in=(ModerationDecision.Verdict.APPROVE, ModerationDecision.Verdict.REJECT),
            reversed_at__isnull=True,
        )
        .order_by("created_at", "id")
        .values_list("recording_id", "verdict", "created_at", "recording__created_at")
    )
    return {recording_id: Decision(*rest) for recording_id, *rest in rows}  # the latest wins


def _films(*, event: Event) -> dict[Any, Animation]:
    """Each reading's latest film, by reading id."""
    films = (
        Animation.objects.filter(event=event)
        .order_by("created_at", "id")
        .only("recording", "status", "published_at", "created_at")
    )
    return {film.recording_id: film for film in films}


def _counts(queryset, field: str) -> dict[str, int]:
    return dict(queryset.values_list(field).annotate(count=Count("id")).order_by())


def _reading_figures(recordings) -> dict[str, Any]:
    by_status = _counts(recordings, "status")
    readings = {status: by_status.get(status, 0) for status in READING_STATUSES}
    readings["received"] = sum(by_status.values())
    by_reason = _counts(recordings.filter(status=Recording.Status.REJECTED), "rejection_reason")
    rejections = [
        {"reason": reason, "label": str(label), "count": by_reason.get(reason, 0)}
        for reason, label in Recording.RejectionReason.choices
    ]
    # A rejection without a known reason (none recorded, or one no longer offered): counted, unnamed.
    unexplained = sum(count for reason, count in by_reason.items() if reason not in Recording.RejectionReason.values)
    if unexplained:
        rejections.append({"reason": "", "label": "", "count": unexplained})
    total = recordings.aggregate(seconds=Sum("duration_seconds"))["seconds"] or 0.0
    approved = (
        recordings.filter(status=Recording.Status.APPROVED).aggregate(seconds=Sum("duration_seconds"))["seconds"] or 0.0
    )
    return {"readings": readings, "rejections": rejections, "voice_seconds": {"approved": approved, "total": total}}


def _film_figures(*, event: Event) -> dict[str, int]:
    by_status = _counts(Animation.objects.filter(event=event), "status")
    films = {group: sum(by_status.get(status, 0) for status in statuses) for group, statuses in FILM_GROUPS.items()}
    films["made"] = films["held"] + films["published"]
    return films


def _queue_figures(recordings, decisions: dict[Any, Decision], now: datetime) -> dict[str, Any]:
    waiting_since = recordings.filter(status=Recording.Status.PENDING).values_list("created_at", flat=True)
    waits = [(now - created).total_seconds() for created in waiting_since]
    to_decision = [(decision.decided_at - decision.submitted_at).total_seconds() for decision in decisions.values()]
    return {
        "waiting": len(waits),
        "oldest_seconds": max(waits) if waits else None,
        "median_wait_seconds": percentile(waits, 0.5),
        "decided": len(to_decision),
        "median_decision_seconds": percentile(to_decision, 0.5),
    }


def _render_figures(*, event: Event, decisions: dict[Any, Decision]) -> dict[str, Any]:
    finished = Animation.objects.filter(
        event=event, status__in=(Animation.Status.READY, Animation.Status.PUBLISHED)
    ).values_list("recording_id", "stage_seconds", "created_at", "published_at", "status")
    work: list[float] = []
    to_publish: list[float] = []
    for recording_id, stage_seconds, created_at, published_at, status in finished:
        seconds = render_seconds(stage_seconds)
        if seconds is not None:
            work.append(seconds)
        if status == Animation.Status.PUBLISHED and published_at is not None:
            # The approval in force; a film from before the audit log counts from its job's creation.
            decision = decisions.get(recording_id)
            approved = (
                decision.decided_at
                if decision and decision.verdict == ModerationDecision.Verdict.APPROVE
                else created_at
            )
            to_publish.append(max(0.0, (published_at - approved).total_seconds()))
    return {
        "films": len(work),
        "median_seconds": percentile(work, 0.5),
        "p90_seconds": percentile(work, 0.9),
        "published": len(to_publish),
        "to_publish_median_seconds": percentile(to_publish, 0.5),
        "to_publish_p90_seconds": percentile(to_publish, 0.9),
    }


def _per_day(recordings, *, event: Event, now: datetime) -> list[dict[str, Any]]:
    """Readings received per day (in the site's time zone), every day from the first to the last shown."""
    received: dict[date, int] = {}
    for created in recordings.values_list("created_at", flat=True):
        day = timezone.localdate(created)
        received[day] = received.get(day, 0) + 1
    if not received:
        return []
    today = timezone.localdate(now)
    last = max(received)
    if event.ends_on is None or event.ends_on >= today:
        last = max(last, today)  # a festival still running: the chart runs up to today
    first = max(min(received), last - timedelta(days=PER_DAY_LIMIT - 1))
    days = [first + timedelta(days=offset) for offset in range((last - first).days + 1)]
    return [{"day": day.isoformat(), "received": received.get(day, 0)} for day in days]


def _funnel(*, event: Event) -> list[dict[str, Any]]:
    totals = dict(
        RecordingFunnelCount.objects.filter(event=event).values_list("step").annotate(total=Sum("count")).order_by()
    )
    funnel = []
    previous: int | None = None
    for step, label in FUNNEL_STEPS:
        count = totals.get(step, 0)
        # The share of the step before that never got here; none for the first step or after a zero.
        dropped = None if not previous else max(0.0, 1 - count / previous)
        funnel.append({"step": step, "label": str(label), "count": count, "dropped": dropped})
        previous = count
    return funnel


def event_figures(*, event: Event, now: datetime | None = None) -> dict[str, Any]:
    """Every figure of EVENT's dashboard, as plain JSON-ready values (seconds as numbers, days as ISO dates).

    Readings count whatever their status now; "waiting" is the moderators' queue. Durations of voice
    are the recordings' measured lengths. Render seconds come from the films' stage_seconds
    (``render_seconds``), approval to publication from the decision in force to the film's published_at.
    """
    now = now or timezone.now()
    recordings = Recording.objects.filter(passage__event=event)
    decisions = _decisions(event=event)
    return {
        "event": {"slug": event.slug, "title": event.title},
        "generated_at": now.isoformat(),
        **_reading_figures(recordings),
        "films": _film_figures(event=event),
        "queue": _queue_figures(recordings, decisions, now),
        "render": _render_figures(event=event, decisions=decisions),
        "per_day": _per_day(recordings, event=event, now=now),
        "funnel": _funnel(event=event),
    }


CSV_HEADER = [
    "reading",
    "status",
    "rejection_reason",
    "rejection_reason_label",
    "duration_seconds",
    "submitted_at",
    "decided_at",
    "film_status",
    "published_at",
    "passage",
    "painting",
    "language",
]


def _when(moment: datetime | None) -> str:
    return timezone.localtime(moment).isoformat(timespec="seconds") if moment else ""


def event_reading_rows(*, event: Event) -> Iterator[list[str]]:
    """One row per reading of EVENT (oldest first) in CSV_HEADER's order: what happened to it, never who read it."""
    decisions = _decisions(event=event)
    films = _films(event=event)
    recordings = (
        Recording.objects.filter(passage__event=event)
        .select_related("passage__painting")
        .only(
            "id",
            "status",
            "rejection_reason",
            "duration_seconds",
            "created_at",
            "passage__title",
            "passage__language",
            "passage__painting__title",
        )
        .order_by("created_at", "id")
    )
    for recording in recordings.iterator(chunk_size=500):
        decision = decisions.get(recording.id)
        film = films.get(recording.id)
        yield [
            str(recording.id),
            recording.status,
            recording.rejection_reason,
            recording.get_rejection_reason_display() if recording.rejection_reason else "",
            f"{recording.duration_seconds:.2f}",
            _when(recording.created_at),
            _when(decision.decided_at if decision else None),
            film.status if film else "",
            _when(film.published_at if film and film.status == Animation.Status.PUBLISHED else None),
            recording.passage.title,
            recording.passage.painting.title,
            recording.passage.language,
        ]
