"""Public reads: only published animations of existing events ever leave here.

Curator reads (every painting, passage and preview of an event) are at the end and are only called
from views that checked the user curates that festival.
"""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from animation.models import Alignment, Animation
from catalogue.models import Event, Painting, Passage
from catalogue.selectors import event_curated_by, events_curated_by
from gallery.models import FeaturedFilm, PassagePreview, ProgrammeItem

# The grid's page size; the catch-up API returns the same first page so a reconnect redraws it exactly.
PAGE_SIZE = 24


def event_exists(*, event_id: Any) -> bool:
    try:
        return Event.objects.filter(id=event_id).exists()
    except ValidationError:
        return False


def event_list() -> QuerySet[Event]:
    return Event.objects.annotate(
        published_count=Count("animations", filter=Q(animations__status=Animation.Status.PUBLISHED))
    )


def published_animations(
    *, event: Event | None = None, painting_id: Any = None, language: str | None = None
) -> QuerySet[Animation]:
    animations = (
        Animation.objects.filter(status=Animation.Status.PUBLISHED)
        .select_related("recording__passage__painting", "recording__contributor", "event")
        # A dialogue's card credits every voice (gallery.events.animation_card).
        .prefetch_related("voices__recording__contributor", "voices__role")
    )
    if event is not None:
        animations = animations.filter(event=event)
    if painting_id:
        try:
            painting_uuid = uuid.UUID(str(painting_id))
        except ValueError:
            # A malformed id in a shared link filters to nothing rather than failing the page.
            return animations.none()
        animations = animations.filter(recording__passage__painting_id=painting_uuid)
    if language:
        animations = animations.filter(recording__passage__language=language)
    # The id breaks ties between films published in the same instant, so pages never overlap.
    return animations.order_by("-published_at", "-id")


def published_animation(*, animation_id: Any) -> Animation | None:
    return published_animations().filter(id=animation_id).first()


def withdrawn_animation(*, animation_id: Any) -> Animation | None:
    """A film that was public once and is gone now (withdrawn by its reader or taken down), so that its
    old link can say so instead of a bare "not found". Nothing of the film itself is shown."""
    return (
        Animation.objects.filter(id=animation_id, status=Animation.Status.REMOVED)
        .select_related("event")
        .only("id", "event__slug", "event__title")
        .first()
    )


def animation_neighbours(*, animation: Animation) -> tuple[Animation | None, Animation | None]:
    """The next newer and next older published film of the same event, for the page's arrows."""
    same_event = published_animations(event=animation.event)
    newer = (
        same_event.filter(
            Q(published_at__gt=animation.published_at) | Q(published_at=animation.published_at, id__gt=animation.id)
        )
        .order_by("published_at", "id")
        .first()
    )
    older = same_event.filter(
        Q(published_at__lt=animation.published_at) | Q(published_at=animation.published_at, id__lt=animation.id)
    ).first()
    return newer, older


def animation_alignment(*, animation: Animation) -> Alignment | None:
    return Alignment.objects.filter(recording_id=animation.recording_id).first()


def painting_list(*, event: Event) -> QuerySet[Painting]:
    return event.paintings.all()


# Languages are shown in their own script whatever the page language, as language pickers do.
NATIVE_LANGUAGE_NAMES = {"zh": "中文", "zh-hans": "中文", "en": "English"}


def event_languages(*, event: Event) -> list[tuple[str, str]]:
    """(code, native name) of the event's passages: the grid's language filter offers only these."""
    codes = sorted(set(event.passages.values_list("language", flat=True)))
    return [(code, NATIVE_LANGUAGE_NAMES.get(code.lower(), code)) for code in codes]


# ---------------------------------------------------------------------------------------------------
# Curators


def curated_events(*, user) -> QuerySet[Event]:
    """The festivals USER curates, newest first, with their painting counts."""
    events = events_curated_by(user=user).annotate(painting_count=Count("paintings", distinct=True))
    return events.order_by("-created_at")


def curated_paintings(*, event: Event) -> QuerySet[Painting]:
    return event.paintings.annotate(passage_count=Count("passages")).order_by("title")


def curated_passages(*, painting: Painting):
    from catalogue.models import Passage

    return Passage.objects.filter(painting=painting).order_by("title")


def latest_preview(*, passage) -> PassagePreview | None:
    return PassagePreview.objects.filter(passage=passage).first()


def film_files_visible(*, folder: str, user) -> bool:
    """Whether USER may fetch the files of the film stored under media/animations/FOLDER/."""
    try:
        animation_id = uuid.UUID(folder)
    except ValueError:
        return False
    animation = Animation.objects.filter(id=animation_id).select_related("recording").first()
    if animation is None:
        return False
    if animation.status == Animation.Status.PUBLISHED:
        return True
    # Withdrawn by its reader (or the account deleted) or taken down: its files go after the commit, and
    # until they are gone (or if deleting them failed) nobody fetches them, its curators neither.
    if not user.is_authenticated or animation.status == Animation.Status.REMOVED:
        return False
    if event_curated_by(event_id=animation.event_id, user=user):
        return True
    # A film made before the approval is nobody's yet, not even its reader's: only the moderators below.
    if animation.recording.contributor_id == user.pk and animation.status not in Animation.BEFORE_APPROVAL:
        return True
    # Moderators see unpublished films of the events they moderate only, as with recordings.
    from contributions.selectors import moderator_may_review_event

    return moderator_may_review_event(moderator=user, event_id=animation.event_id)


def featured_event() -> Event | None:
    """The festival the front page opens on: the newest one open for recordings, else the newest."""
    return (
        event_list().filter(is_open=True).order_by("-starts_on", "-created_at").first()
        or event_list().order_by("-starts_on", "-created_at").first()
    )


def event_voices_count(*, event: Event) -> int:
    """Readings received for EVENT and still kept (waiting, approved): the festival's voices so far."""
    from contributions.models import Recording

    return Recording.objects.filter(
        passage__event=event, status__in=(Recording.Status.PENDING, Recording.Status.APPROVED)
    ).count()


# A painting this much wider than tall is a handscroll: its public page browses it from its tiles.
HANDSCROLL_ASPECT = 2.5


def painting_is_handscroll(*, painting: Painting) -> bool:
    return bool(painting.tiles) and painting.height > 0 and painting.width / painting.height >= HANDSCROLL_ASPECT


def painting_figure_guide(*, painting: Painting) -> list[dict]:
    """The figures a visitor sees marked on a handscroll, left to right: each figure that may speak
    ({"figure"}, numbered as on the curator's page) with the passages it speaks that are open for
    reading ({"passages"}) and the published films of them ({"films"}: id, title, language, reader).
    A passage cast to nobody (or to a hidden figure) is spoken by the first figure that may speak, as
    its films are (catalogue.selectors.speaking_figure); a dialogue by the figure of each of its roles."""
    from catalogue.selectors import painting_figures

    figures = painting_figures(painting=painting, visible_only=True)
    if not figures:
        return []
    visible = {figure.id for figure in figures}

    def speakers(passage: Passage) -> set:
        cast = {role.figure_id for role in passage.roles.all() if role.figure_id in visible}
        if cast:
            return cast
        return {passage.figure_id if passage.figure_id in visible else figures[0].id}

    guide: dict[Any, dict[str, Any]] = {
        figure.id: {"figure": figure, "passages": [], "films": []} for figure in figures
    }
    passages = Passage.objects.filter(painting=painting).prefetch_related("roles").order_by("title")
    speakers_of = {passage.id: speakers(passage) for passage in passages}
    for passage in passages:
        if passage.is_open and painting.event.is_open:
            for figure_id in speakers_of[passage.id]:
                guide[figure_id]["passages"].append(passage)
    for animation in published_animations(painting_id=painting.id)[:200]:
        passage = animation.recording.passage
        film = {
            "id": animation.id,
            "title": passage.title,
            "language": passage.language,
            "reader": animation.recording.credit,
        }
        for figure_id in speakers_of.get(passage.id, ()):
            guide[figure_id]["films"].append(film)
    return list(guide.values())


# ---------------------------------------------------------------------------------------------------
# The festival as an event (issue 26): its programme and its curators' choice, public reads.


def programme_items(*, event: Event) -> QuerySet[ProgrammeItem]:
    """EVENT's programme, soonest first, with what is read at each item."""
    return (
        ProgrammeItem.objects.filter(event=event)
        .prefetch_related("paintings", "passages")
        .order_by("starts_at", "title")
    )


def programme_sections(*, event: Event, now: datetime.datetime | None = None) -> dict[str, list[ProgrammeItem]]:
    """EVENT's programme as a visitor reads it: ``today`` (on today in the festival's time zone, or
    running now), ``upcoming`` (a later day, soonest first) and ``past`` (over, latest first)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    sections: dict[str, list[ProgrammeItem]] = {"today": [], "upcoming": [], "past": []}
    for item in programme_items(event=event):
        ends_at = item.ends_at or item.starts_at
        if timezone.localdate(item.starts_at) == today or item.starts_at <= now <= ends_at:
            sections["today"].append(item)
        elif item.starts_at > now:
            sections["upcoming"].append(item)
        else:
            sections["past"].append(item)
    sections["past"].reverse()
    return sections


def featured_films(*, event: Event) -> list[FeaturedFilm]:
    """EVENT's curators' choice in their order: only films published now (a film withdrawn or taken
    down is out of the selection from that moment), each with its ``animation`` ready for a card."""
    chosen = list(
        FeaturedFilm.objects.filter(event=event, animation__status=Animation.Status.PUBLISHED).order_by(
            "position", "created_at"
        )
    )
    films = published_animations(event=event).in_bulk([entry.animation_id for entry in chosen])
    for entry in chosen:
        entry.animation = films[entry.animation_id]
    return [entry for entry in chosen if entry.animation_id in films]


def curated_featured_films(*, event: Event) -> QuerySet[FeaturedFilm]:
    """Every entry of EVENT's selection, also those whose film is no longer public (curators only)."""
    return (
        FeaturedFilm.objects.filter(event=event)
        .select_related("animation__recording__passage__painting", "animation__recording__contributor")
        .order_by("position", "created_at")
    )


def featurable_films(*, event: Event) -> QuerySet[Animation]:
    """EVENT's published films not in its selection yet, newest first (curators choose among them)."""
    return published_animations(event=event).exclude(
        id__in=FeaturedFilm.objects.filter(event=event).values("animation_id")
    )
