"""Animation reads: films in progress, the films waiting at the second gate."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from animation.models import Animation
from catalogue.models import Event
from contributions.selectors import moderated_events


def animations_in_progress_count(*, event_id: Any) -> int:
    return Animation.objects.filter(event_id=event_id, status__in=Animation.IN_PROGRESS).count()


def films_for_review(*, moderator, event_id: Any = None) -> QuerySet:
    """Finished films waiting for the second gate (events whose publish_mode is "review"), oldest first."""
    films = Animation.objects.filter(
        status=Animation.Status.READY,
        event_id__in=moderated_events(moderator=moderator).filter(publish_mode=Event.PublishMode.REVIEW).values("id"),
    ).select_related("recording__passage__painting", "event")
    if event_id:
        films = films.filter(event_id=event_id)
    return films.order_by("updated_at", "id")
