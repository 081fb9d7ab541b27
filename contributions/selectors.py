"""Reads for residents and moderators."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from catalogue.models import Passage
from catalogue.selectors import events_curated_by
from contributions.models import Consent, ModerationDecision, Recording

# The films a reader is shown of their own readings. The animation layer (above: never imported here)
# registers at start-up which they are: a film made ahead of the moderator's decision is not theirs yet.
_films_shown_to_readers: Callable[[], QuerySet] | None = None


def films_shown_to_readers_register(films: Callable[[], QuerySet]) -> None:
    """Hook for the layer that makes films: FILMS() is the queryset of films a reader may see listed."""
    global _films_shown_to_readers
    _films_shown_to_readers = films


# Per-unit confidence of a reading's alignment, for the console (issue 24). The animation layer, which
# keeps the alignments, registers the lookup at start-up: RECORDING -> its units, or None when there is
# no alignment of the text it reads yet.
_unit_confidence_lookup: Callable[[Recording], list[dict[str, Any]] | None] | None = None


def unit_confidence_register(lookup: Callable[[Recording], list[dict[str, Any]] | None]) -> None:
    """Hook for the layer that aligns readings: LOOKUP(recording) gives its aligned units
    (dicts with text, confidence 0..1, skipped) or None."""
    global _unit_confidence_lookup
    _unit_confidence_lookup = lookup


def recording_unit_confidence(*, recording: Recording) -> list[dict[str, Any]]:
    """Each unit of the text RECORDING reads, with how sure the alignment is of it (0..1) and whether
    the reader skipped it; empty until the reading is aligned."""
    if _unit_confidence_lookup is None:
        return []
    units = _unit_confidence_lookup(recording) or []
    return [
        {"text": unit["text"], "confidence": float(unit.get("confidence", 0.0)), "skipped": bool(unit.get("skipped"))}
        for unit in units
    ]


def _readers_films() -> str | Prefetch:
    if _films_shown_to_readers is None:
        return "animations"
    return Prefetch("animations", queryset=_films_shown_to_readers())


def recording_owned_by(*, recording_id: Any, user_id: Any) -> bool:
    return Recording.objects.filter(id=recording_id, contributor_id=user_id).exists()


def account_data(*, user) -> dict:
    """Everything the platform keeps about USER, as they may download it (their own readings' audio
    files are listed by storage name; the download adds the files)."""
    readings = (
        Recording.objects.filter(contributor=user)
        .select_related("passage__painting", "passage__event")
        .prefetch_related(_readers_films())
        .order_by("created_at")
    )
    return {
        "account": {
            "username": user.username,
            "display_name": user.display_name,
            "email": user.email,
            "joined": user.date_joined.isoformat(),
        },
        "consents": [
            {
                "version": consent.version,
                "public_animation": consent.public_animation,
                "open_dataset": consent.open_dataset,
                "agreed_at": consent.agreed_at.isoformat(),
                "withdrawn_at": consent.withdrawn_at.isoformat() if consent.withdrawn_at else None,
            }
            for consent in user.consents.order_by("agreed_at")
        ],
        "readings": [
            {
                "id": str(recording.id),
                "festival": recording.passage.event.title,
                "painting": recording.passage.painting.title,
                "passage": recording.passage.title,
                "text": recording.text_to_read,
                "language": recording.passage.language,
                "status": recording.status,
                "recorded_at": recording.created_at.isoformat(),
                "seconds": recording.duration_seconds,
                "credited_as": recording.credited_as,
                # Given to the open dataset (issue 26), and when that was last changed.
                "open_dataset": recording.open_dataset,
                "open_dataset_changed_at": (
                    recording.open_dataset_changed_at.isoformat() if recording.open_dataset_changed_at else None
                ),
                "transcript": recording.transcript,
                "rejection_reason": recording.rejection_reason,
                "rejection_note": recording.rejection_note,
                "camera_video_consent": bool(recording.video_consented_at),
                "audio_file": recording.original.name or None,
                "films": [
                    {"status": film.status, "url": f"/animations/{film.id}/" if film.status == "published" else ""}
                    for film in recording.animations.all()
                ],
            }
            for recording in readings
        ],
    }


def recordings_of(*, user) -> QuerySet[Recording]:
    return (
        Recording.objects.filter(contributor=user)
        .exclude(status=Recording.Status.WITHDRAWN)
        .select_related("passage__painting", "passage__event")
        .prefetch_related(_readers_films())
    )


def consent_current(*, user) -> Consent | None:
    return Consent.objects.filter(user=user, withdrawn_at__isnull=True).order_by("-agreed_at").first()


def passages_open(*, event=None) -> QuerySet[Passage]:
    passages = Passage.objects.filter(is_open=True, event__is_open=True).select_related("painting", "event", "figure")
    if event is not None:
        passages = passages.filter(event=event)
    return passages


# ---------------------------------------------------------------------------------------------
# Moderation


def moderated_events(*, moderator) -> QuerySet:
    """Events MODERATOR may review: those a curator assigned them to (superusers: all). An event with
    nobody assigned is reviewed by nobody until a curator assigns someone: scoping fails closed."""
    from catalogue.models import Event

    if not moderator.is_authenticated or not moderator.is_moderator():
        return Event.objects.none()
    if moderator.is_superuser:
        return Event.objects.all()
    return Event.objects.filter(moderators=moderator).distinct()


def _pending_in_scope(*, moderator, event_id: Any = None, painting_id: Any = None, language: str | None = None):
    # A subquery on event ids keeps the M2M join out of the recording query: no duplicates, no DISTINCT.
    recordings = Recording.objects.filter(
        status=Recording.Status.PENDING, passage__event_id__in=moderated_events(moderator=moderator).values("id")
    ).exclude(contributor=moderator)  # nobody moderates their own reading
    if event_id:
        recordings = recordings.filter(passage__event_id=event_id)
    if painting_id:
        recordings = recordings.filter(passage__painting_id=painting_id)
    if language:
        recordings = recordings.filter(passage__language=language)
    return recordings


def moderation_queue(
    *, moderator, event_id: Any = None, language: str | None = None, painting_id: Any = None
) -> QuerySet[Recording]:
    """Pending recordings the moderator may review, oldest first (claimed ones included, marked)."""
    return (
        _pending_in_scope(moderator=moderator, event_id=event_id, painting_id=painting_id, language=language)
        .select_related("passage__painting", "passage__event", "claimed_by")
        .order_by("created_at", "id")
    )


def moderation_claimable(
    *,
    moderator,
    event_id: Any = None,
    painting_id: Any = None,
    language: str | None = None,
    after: Recording | None = None,
    backwards: bool = False,
) -> QuerySet[Recording]:
    """Recordings MODERATOR could claim now, in queue order from AFTER (exclusive), oldest first or,
    BACKWARDS, newest first: unclaimed, claimed by them, or whose claim has expired."""
    now = timezone.now()
    recordings = _pending_in_scope(
        moderator=moderator, event_id=event_id, painting_id=painting_id, language=language
    ).filter(Q(claimed_until__isnull=True) | Q(claimed_until__lte=now) | Q(claimed_by=moderator))
    if after is not None:
        if backwards:
            recordings = recordings.filter(
                Q(created_at__lt=after.created_at) | Q(created_at=after.created_at, id__lt=after.id)
            )
        else:
            recordings = recordings.filter(
                Q(created_at__gt=after.created_at) | Q(created_at=after.created_at, id__gt=after.id)
            )
    order = ("-created_at", "-id") if backwards else ("created_at", "id")
    return recordings.order_by(*order)


def moderation_recording(*, recording_id: Any) -> Recording | None:
    return (
        Recording.objects.select_related("passage__painting", "passage__event", "claimed_by")
        .filter(id=recording_id)
        .first()
    )


def moderator_may_review(*, moderator, recording: Recording) -> bool:
    """Whether MODERATOR may open RECORDING: a reading on an event they moderate, never their own."""
    if recording.contributor_id == moderator.pk:
        return False
    return moderator_may_review_event(moderator=moderator, event_id=recording.passage.event_id)


def moderator_may_review_event(*, moderator, event_id: Any) -> bool:
    return moderated_events(moderator=moderator).filter(id=event_id).exists()


def moderation_filters(*, moderator) -> dict[str, list]:
    """Choices for the console's filters: the moderator's events, their paintings, their languages."""
    from catalogue.models import Painting

    events = list(moderated_events(moderator=moderator).order_by("title").values("id", "title", "slug"))
    event_ids = [event["id"] for event in events]
    paintings = list(
        Painting.objects.filter(event_id__in=event_ids).order_by("title").values("id", "title", "event_id")
    )
    languages = sorted(set(Passage.objects.filter(event_id__in=event_ids).values_list("language", flat=True)))
    return {"events": events, "paintings": paintings, "languages": languages}


CHARACTER_LANGUAGES = ("zh", "ja", "yue")
# Figures beyond which the console flags a recording: a hint for the moderator, never a decision.
QUIET_LUFS = -35.0
CLIPPED_RATIO = 0.001
SILENCE_RATIO = 0.6
LOW_MATCH = 0.7
CUT_OFF_MARGIN_SECONDS = 0.5


def _is_character_language(language: str) -> bool:
    return language.lower().split("-")[0] in CHARACTER_LANGUAGES


def recording_dialogue(*, recording: Recording) -> dict[str, Any] | None:
    """For a reading of one role of a dialogue, what the moderator needs around it: the whole script
    (whose line each is, this role's marked) and the other roles' approved voices (the latest of each),
    to hear whether the two readings will sit together in one film. None for a plain passage."""
    if recording.role_id is None:
        return None
    from catalogue.models import DialogueLine, DialogueRole

    lines = DialogueLine.objects.filter(passage_id=recording.passage_id).select_related("role").order_by("order")
    voices = []
    for role in DialogueRole.objects.filter(passage_id=recording.passage_id).exclude(id=recording.role_id):
        approved = (
            Recording.objects.filter(passage_id=recording.passage_id, role=role, status=Recording.Status.APPROVED)
            .select_related("contributor")
            .order_by("-created_at")  # the one the dialogue film takes (animation.services.dialogue_voices_latest)
            .first()
        )
        voices.append(
            {
                "role": role.name,
                "credited_as": approved.credit if approved else "",
                "audio_url": f"/recordings/{approved.id}/audio/" if approved else "",
            }
        )
    return {
        "role": recording.role.name if recording.role else "",
        "lines": [
            {"role": line.role.name, "text": line.text, "mine": line.role_id == recording.role_id} for line in lines
        ],
        "voices": voices,
    }


def recording_review_facts(*, recording: Recording) -> dict[str, Any]:
    """What the console shows beside the audio: the diff of passage and transcript, the error rate,
    and warnings on level, clipping, silence, language and length."""
    passage = recording.passage
    character_based = _is_character_language(passage.language)
    facts: dict[str, Any] = {
        "unit": "character" if character_based else "word",
        "separator": "" if character_based else " ",
        "diff": [],
        "counts": {"misread": 0, "skipped": 0, "added": 0},
        "error_rate": None,
        "warnings": [],
    }
    if recording.transcribed_at is not None or recording.transcript:
        from animation.engine import align
        from animation.engine.errors import EngineInputError

        try:
            diff = align.text_diff(recording.text_to_read, recording.transcript, language=passage.language)
        except EngineInputError:
            diff = []
        facts["diff"] = diff

        def size(text: str) -> int:
            return len(text) if character_based else len(text.split())

        for operation in diff:
            if operation["op"] == "replace":
                facts["counts"]["misread"] += max(size(operation["ref"]), size(operation["hyp"]))
            elif operation["op"] == "delete":
                facts["counts"]["skipped"] += size(operation["ref"])
            elif operation["op"] == "insert":
                facts["counts"]["added"] += size(operation["hyp"])
    if recording.match_score is not None:
        facts["error_rate"] = round(1.0 - recording.match_score, 4)
    facts["warnings"] = _warnings(recording)
    return facts


def _warnings(recording: Recording) -> list[dict[str, str]]:
    from django.utils.translation import gettext as _

    stats = recording.audio_stats or {}
    warnings = []
    if stats.get("loudness_lufs", 0.0) < QUIET_LUFS:
        warnings.append({"code": "quiet", "text": _("Quiet: %(lufs).0f LUFS") % {"lufs": stats["loudness_lufs"]}})
    if stats.get("clipped_ratio", 0.0) > CLIPPED_RATIO:
        share = 100 * stats["clipped_ratio"]
        warnings.append({"code": "clipped", "text": _("Clipped: %(share).1f%% of samples") % {"share": share}})
    if stats.get("silence_ratio", 0.0) > SILENCE_RATIO:
        warnings.append(
            {"code": "silence", "text": _("Mostly silence: %(share).0f%%") % {"share": 100 * stats["silence_ratio"]}}
        )
    expected = recording.passage.language.lower().split("-")[0]
    detected = recording.transcript_language.lower().split("-")[0]
    if detected and detected != expected:
        warnings.append(
            {
                "code": "language",
                "text": _("Whisper heard %(detected)s, the passage is %(expected)s")
                % {"detected": detected, "expected": expected},
            }
        )
    if recording.match_score is not None and recording.match_score < LOW_MATCH:
        warnings.append({"code": "match", "text": _("Low match with the text")})
    if recording.duration_seconds >= recording.passage.max_seconds - CUT_OFF_MARGIN_SECONDS:
        warnings.append({"code": "cut_off", "text": _("Reaches the time limit: it may be cut off")})
    return warnings


def moderation_audit(*, curator, event_id: Any = None, moderator_id: Any = None) -> QuerySet[ModerationDecision]:
    """Every decision on the readings of the festivals CURATOR curates, newest first."""
    decisions = (
        ModerationDecision.objects.filter(recording__passage__event_id__in=events_curated_by(user=curator).values("id"))
        .select_related(
            "moderator", "recording__passage__event", "recording__passage__painting", "animation", "reverses"
        )
        .prefetch_related("reversals__moderator")
    )
    if event_id:
        decisions = decisions.filter(recording__passage__event_id=event_id)
    if moderator_id:
        decisions = decisions.filter(moderator_id=moderator_id)
    return decisions.order_by("-created_at", "-id")


def passage_find(*, passage_id: Any) -> Passage | None:
    """The passage with PASSAGE_ID, or None (also for an id that is not a UUID)."""
    try:
        return Passage.objects.filter(id=uuid.UUID(str(passage_id))).first()
    except (ValueError, TypeError, AttributeError):
        return None
