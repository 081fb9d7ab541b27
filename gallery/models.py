import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


def preview_voice_path(preview: "PassagePreview", filename: str) -> str:
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"previews/{preview.id}/voice.{extension[:8]}"


class PassagePreview(models.Model):
    """A test film of a passage read by a sample voice, made before residents may record it.

    Lives under media/previews/, which is never served publicly: only curators watch it.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Being made")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    passage = models.ForeignKey("catalogue.Passage", on_delete=models.CASCADE, related_name="previews")
    requested_by = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, related_name="+")
    sample_voice = models.FileField(upload_to=preview_voice_path, max_length=300)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    video = models.FileField(max_length=300, blank=True)
    poster = models.FileField(max_length=300, blank=True)
    subtitles = models.FileField(max_length=300, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Preview of {self.passage_id} ({self.status})"


class ProgrammeItem(models.Model):
    """One thing on a festival's programme (issue 26): a reading in one of the library's reading rooms,
    at a time in the festival's time zone (settings.TIME_ZONE), optionally naming the paintings and
    passages read there. Every visitor-facing text has its English companion."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    event = models.ForeignKey("catalogue.Event", on_delete=models.CASCADE, related_name="programme_items")
    title = models.CharField(_("title"), max_length=200)
    title_en = models.CharField(_("title in English"), max_length=200, blank=True)
    description = models.TextField(_("description"), blank=True)
    description_en = models.TextField(_("description in English"), blank=True)
    venue = models.CharField(_("venue"), max_length=200, help_text=_("The reading room, as visitors find it."))
    venue_en = models.CharField(_("venue in English"), max_length=200, blank=True)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"), null=True, blank=True)
    paintings = models.ManyToManyField("catalogue.Painting", blank=True, related_name="+", verbose_name=_("paintings"))
    passages = models.ManyToManyField("catalogue.Passage", blank=True, related_name="+", verbose_name=_("passages"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["starts_at", "title"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__isnull=True) | models.Q(ends_at__gte=models.F("starts_at")),
                name="programme_item_ends_after_it_starts",
            )
        ]

    def __str__(self) -> str:
        return self.title


class FeaturedFilm(models.Model):
    """A film a festival's curators chose to show first ("Curators' choice"), in their order, with an
    optional note. Only a published film is shown: one withdrawn or taken down leaves the selection."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    event = models.ForeignKey("catalogue.Event", on_delete=models.CASCADE, related_name="featured_films")
    animation = models.ForeignKey("animation.Animation", on_delete=models.CASCADE, related_name="+")
    note = models.TextField(_("curator's note"), blank=True)
    note_en = models.TextField(_("curator's note in English"), blank=True)
    position = models.PositiveIntegerField(default=0)
    featured_by = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "created_at"]
        constraints = [models.UniqueConstraint(fields=["event", "animation"], name="featured_film_once_per_event")]

    def __str__(self) -> str:
        return f"Featured {self.animation_id} in {self.event_id}"
