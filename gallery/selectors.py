"""Public reads: only published animations of existing events ever leave here."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from animation.models import Animation
from gallery.models import Event, Painting


def event_exists(*, event_id: Any) -> bool:
    return Event.objects.filter(id=event_id).exists()


def event_list() -> QuerySet[Event]:
    return Event.objects.all()


def published_animations(
    *, event: Event | None = None, painting_id: Any = None, language: str | None = None
) -> QuerySet[Animation]:
    animations = Animation.objects.filter(status=Animation.Status.PUBLISHED).select_related(
        "recording__passage__painting", "recording__contributor", "event"
    )
    if event is not None:
        animations = animations.filter(event=event)
    if painting_id:
        animations = animations.filter(recording__passage__painting_id=painting_id)
    if language:
        animations = animations.filter(recording__passage__language=language)
    return animations.order_by("-published_at")


def animations_in_progress_count(*, event_id: Any) -> int:
    return Animation.objects.filter(event_id=event_id, status__in=Animation.IN_PROGRESS).count()


def painting_list(*, event: Event) -> QuerySet[Painting]:
    return event.paintings.all()
