"""Curation writes of the gallery: test films of passages, and opening a passage once its film is right.

The catalogue's own writes (events, paintings, faces, passages) are catalogue.services; this module
adds what needs the films: a passage opens only after a test film came out right, and a change to what
the film shows fails its test films (catalogue.signals.passage_needs_new_test_film).
"""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from catalogue import services as catalogue_services
from catalogue.services import CurationError
from core import storage
from gallery import page_cache
from gallery.models import FeaturedFilm, PassagePreview, ProgrammeItem

PREVIEW_VOICE_MAX_BYTES = 25 * 1024 * 1024


def passage_previews_outdated(*, passage) -> None:
    """What a test film showed changed: its films no longer vouch for the passage."""
    PassagePreview.objects.filter(
        passage=passage,
        status__in=(PassagePreview.Status.QUEUED, PassagePreview.Status.RUNNING, PassagePreview.Status.READY),
    ).update(
        status=PassagePreview.Status.FAILED,
        error=_("The passage changed after this test film: make a new one before opening it."),
    )


def painting_test_films_delete(*, painting_id: Any) -> None:
    """The test films of the passages of the painting PAINTING_ID, which is being deleted (their rows go
    with it): their files (previews/<id>/: sample voice, film, poster, subtitles) are deleted once that
    deletion is committed, through the storage API."""
    folders = [
        f"previews/{preview_id}"
        for preview_id in PassagePreview.objects.filter(passage__painting_id=painting_id).values_list("id", flat=True)
    ]
    if folders:
        transaction.on_commit(lambda: [storage.delete_prefix(folder) for folder in folders])


def sample_voice_format(head: bytes) -> str | None:
    """The audio container HEAD (a file's first bytes) starts, from an allow-list; None for anything else.

    A sample voice is stored as ``voice.<this>``, never under its uploaded name: a name like ``x.m3u8``
    would choose ffmpeg's playlist reader, which opens other files named inside it.
    """
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"fLaC":
        return "flac"
    if head[:4] == b"OggS":
        return "ogg"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "webm"
    if head[4:8] == b"ftyp":
        return "m4a"
    if head[:3] == b"ID3" or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "mp3"
    return None


@transaction.atomic
def passage_preview_request(*, passage, sample_voice: UploadedFile, requested_by) -> PassagePreview:
    if sample_voice.size is not None and sample_voice.size > PREVIEW_VOICE_MAX_BYTES:
        raise CurationError(_("The sample voice is larger than 25 MB."), code="too_large")
    sample_voice.seek(0)
    container = sample_voice_format(sample_voice.read(16))
    sample_voice.seek(0)
    if container is None:
        raise CurationError(
            _("The sample voice must be a WAV, FLAC, Ogg, WebM, MP3 or M4A recording."), code="not_audio"
        )
    preview = PassagePreview(passage=passage, requested_by=requested_by)
    preview.sample_voice.save(f"voice.{container}", sample_voice, save=False)
    preview.save()
    from gallery import tasks

    transaction.on_commit(lambda: tasks.passage_preview_render.delay(str(preview.id)))
    return preview


def passage_preview_claim(*, preview_id: Any) -> bool:
    """One conditional UPDATE: a duplicated task finds nothing to claim."""
    return bool(
        PassagePreview.objects.filter(id=preview_id, status=PassagePreview.Status.QUEUED).update(
            status=PassagePreview.Status.RUNNING
        )
    )


def passage_preview_record(*, preview_id: Any, files: dict[str, str]) -> None:
    PassagePreview.objects.filter(id=preview_id, status=PassagePreview.Status.RUNNING).update(
        status=PassagePreview.Status.READY,
        video=files["video"],
        poster=files["poster"],
        subtitles=files["subtitles"],
        finished_at=timezone.now(),
        error="",
    )


def passage_preview_fail(*, preview_id: Any, reason: str) -> None:
    PassagePreview.objects.filter(id=preview_id).update(
        status=PassagePreview.Status.FAILED, error=reason[:2000], finished_at=timezone.now()
    )


def passage_open(*, passage):
    """Open a passage for recordings; only after its latest test film came out right."""
    latest = PassagePreview.objects.filter(passage=passage).first()
    if latest is None or latest.status != PassagePreview.Status.READY:
        raise CurationError(
            _("Make a test film with a sample voice and watch it before opening the passage."), code="no_preview"
        )
    catalogue_services.dialogue_check_cast(passage=passage)
    return catalogue_services.passage_update(passage=passage, is_open=True)


def passage_close(*, passage):
    return catalogue_services.passage_update(passage=passage, is_open=False)


# ---------------------------------------------------------------------------------------------------
# The festival as an event (issue 26): its programme and its curators' choice. Each write retires the
# cached public pages (gallery.page_cache), which show both.

PROGRAMME_FIELDS = ("title", "title_en", "description", "description_en", "venue", "venue_en", "starts_at", "ends_at")


def _programme_check(*, event, starts_at, ends_at, paintings, passages) -> None:
    if ends_at is not None and ends_at < starts_at:
        raise CurationError(_("The item ends before it starts."), code="ends_before_start")
    if any(painting.event_id != event.id for painting in paintings) or any(
        passage.event_id != event.id for passage in passages
    ):
        raise CurationError(_("Only this festival's paintings and passages can be read here."), code="other_event")


@transaction.atomic
def programme_item_create(*, event, paintings=(), passages=(), **fields: Any) -> ProgrammeItem:
    """A new item on EVENT's programme; FIELDS are PROGRAMME_FIELDS (times aware, any time zone)."""
    values = {name: fields.get(name) for name in PROGRAMME_FIELDS}
    values = {
        name: ("" if value is None and name not in ("starts_at", "ends_at") else value)
        for name, value in values.items()
    }
    _programme_check(
        event=event, starts_at=values["starts_at"], ends_at=values["ends_at"], paintings=paintings, passages=passages
    )
    item = ProgrammeItem.objects.create(event=event, **values)
    item.paintings.set(paintings)
    item.passages.set(passages)
    page_cache.pages_changed()
    return item


@transaction.atomic
def programme_item_update(*, item: ProgrammeItem, paintings=(), passages=(), **fields: Any) -> ProgrammeItem:
    for name in PROGRAMME_FIELDS:
        if name in fields:
            value = fields[name]
            setattr(item, name, "" if value is None and name not in ("starts_at", "ends_at") else value)
    _programme_check(
        event=item.event, starts_at=item.starts_at, ends_at=item.ends_at, paintings=paintings, passages=passages
    )
    item.save()
    item.paintings.set(paintings)
    item.passages.set(passages)
    page_cache.pages_changed()
    return item


def programme_item_delete(*, item: ProgrammeItem) -> None:
    item.delete()
    page_cache.pages_changed()


@transaction.atomic
def featured_film_add(*, event, animation, note: str = "", note_en: str = "", featured_by=None) -> FeaturedFilm:
    """ANIMATION joins EVENT's curators' choice, last. Only a film of EVENT published now may."""
    from animation.models import Animation

    if animation.event_id != event.id or animation.status != Animation.Status.PUBLISHED:
        raise CurationError(_("Only a published film of this festival can be featured."), code="not_published")
    if FeaturedFilm.objects.filter(event=event, animation=animation).exists():
        raise CurationError(_("This film is featured already."), code="already_featured")
    last = FeaturedFilm.objects.filter(event=event).order_by("-position").values_list("position", flat=True).first()
    entry = FeaturedFilm.objects.create(
        event=event,
        animation=animation,
        note=note or "",
        note_en=note_en or "",
        position=0 if last is None else last + 1,
        featured_by=featured_by,
    )
    page_cache.pages_changed()
    return entry


def featured_film_update(*, entry: FeaturedFilm, note: str, note_en: str) -> FeaturedFilm:
    entry.note, entry.note_en = note or "", note_en or ""
    entry.save(update_fields=["note", "note_en"])
    page_cache.pages_changed()
    return entry


@transaction.atomic
def featured_film_move(*, entry: FeaturedFilm, offset: int) -> None:
    """ENTRY goes OFFSET places earlier (negative) or later in its festival's selection."""
    entries = list(
        FeaturedFilm.objects.select_for_update().filter(event_id=entry.event_id).order_by("position", "created_at")
    )
    index = next(number for number, other in enumerate(entries) if other.id == entry.id)
    target = max(0, min(len(entries) - 1, index + offset))
    entries.insert(target, entries.pop(index))
    for position, other in enumerate(entries):
        if other.position != position:
            FeaturedFilm.objects.filter(id=other.id).update(position=position)
    page_cache.pages_changed()


def featured_film_remove(*, entry: FeaturedFilm) -> None:
    entry.delete()
    page_cache.pages_changed()
