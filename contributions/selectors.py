"""Reads for residents and moderators."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from contributions.models import Consent, Passage, Recording


def recording_owned_by(*, recording_id: Any, user_id: Any) -> bool:
    return Recording.objects.filter(id=recording_id, contributor_id=user_id).exists()


def recordings_of(*, user) -> QuerySet[Recording]:
    return (
        Recording.objects.filter(contributor=user)
        .exclude(status=Recording.Status.WITHDRAWN)
        .select_related("passage__painting", "passage__event")
        .prefetch_related("animations")
    )


def consent_current(*, user) -> Consent | None:
    return Consent.objects.filter(user=user, withdrawn_at__isnull=True).order_by("-agreed_at").first()


def passages_open(*, event=None) -> QuerySet[Passage]:
    passages = Passage.objects.filter(is_open=True, event__is_open=True).select_related("painting", "event")
    if event is not None:
        passages = passages.filter(event=event)
    return passages


def moderation_queue(*, moderator, event_id: Any = None, language: str | None = None) -> QuerySet[Recording]:
    """Pending recordings the moderator may review, oldest first."""
    recordings = Recording.objects.filter(status=Recording.Status.PENDING).select_related(
        "passage__painting", "passage__event", "contributor"
    )
    if not moderator.is_superuser:
        # An event with assigned moderators is reviewed only by them; an event without is open to all.
        recordings = recordings.filter(
            passage__event__moderators__isnull=True
        ) | recordings.filter(passage__event__moderators=moderator)
    if event_id:
        recordings = recordings.filter(passage__event_id=event_id)
    if language:
        recordings = recordings.filter(passage__language=language)
    return recordings.distinct().order_by("created_at")


def moderator_may_review(*, moderator, recording: Recording) -> bool:
    if not moderator.is_authenticated or not moderator.is_moderator():
        return False
    if moderator.is_superuser:
        return True
    assigned = recording.passage.event.moderators
    return not assigned.exists() or assigned.filter(pk=moderator.pk).exists()
