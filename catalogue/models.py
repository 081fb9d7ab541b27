"""The festival's catalogue: its events, their paintings and the passages residents read beside them.

The layer under contributions, animation and the public gallery: it imports none of them. The tables
keep the names they had before these models moved here (gallery_event, gallery_painting,
contributions_passage): the move changed Django's state, not the data.
"""

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


def painting_image_path(painting: "Painting", filename: str) -> str:
    # Never keep the uploaded name: it is user input and may collide or leak.
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "jpg"
    return f"paintings/{painting.id}/image.{extension}"


class Event(models.Model):
    """A festival: its paintings, passages and the public gallery of animations."""

    class PublishMode(models.TextChoices):
        AUTO = "auto", _("Publish as soon as the animation is ready")
        REVIEW = "review", _("A moderator reviews the animation first")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    slug = models.SlugField(unique=True)
    title = models.CharField(_("title"), max_length=200)
    # Every text a visitor reads comes in both languages (issue 26): the main field first (Chinese for
    # this festival), its English companion beside it; an empty companion shows the main text alone.
    title_en = models.CharField(_("title in English"), max_length=200, blank=True)
    description = models.TextField(_("description"), blank=True)
    description_en = models.TextField(_("description in English"), blank=True)
    starts_on = models.DateField(_("starts on"), null=True, blank=True)
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    publish_mode = models.CharField(max_length=10, choices=PublishMode.choices, default=PublishMode.AUTO)
    is_open = models.BooleanField(_("open for recordings"), default=True)
    moderators = models.ManyToManyField(
        "accounts.User",
        blank=True,
        related_name="moderated_events",
        help_text=_("Only these moderators review the festival's readings; with none, readings wait."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "gallery_event"  # the table from before the model moved to this app
        ordering = ["-starts_on", "title"]

    def __str__(self) -> str:
        return self.title


class Painting(models.Model):
    class FaceStatus(models.TextChoices):
        PENDING = "pending", _("Not looked for yet")
        FOUND = "found", _("Faces found")
        NONE = "none", _("No face found: place the key points by hand")
        MANUAL = "manual", _("Placed by hand")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="paintings")
    title = models.CharField(_("title"), max_length=200)
    title_en = models.CharField(_("title in English"), max_length=200, blank=True)
    artist = models.CharField(_("artist"), max_length=200, blank=True)
    era = models.CharField(_("era"), max_length=100, blank=True)
    source = models.CharField(_("source and licence"), max_length=300, blank=True)
    story = models.TextField(_("story"), blank=True)
    story_en = models.TextField(_("story in English"), blank=True)
    image = models.ImageField(upload_to=painting_image_path, width_field="width", height_field="height")
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    # Smaller copies for pages (catalogue.images): [{"width", "height", "name"}], narrowest first.
    renditions = models.JSONField(default=list, blank=True)
    face_status = models.CharField(max_length=10, choices=FaceStatus.choices, default=FaceStatus.PENDING)
    faces = models.JSONField(default=list, blank=True, help_text="Detected faces, as the engine reports them.")
    landmarks_override = models.JSONField(
        null=True, blank=True, help_text="Key points placed by a curator; they win over detection."
    )
    face_error = models.TextField(blank=True, help_text="Why detection found nothing or failed, for the curator.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "gallery_painting"
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title

    def speaking_landmarks(self) -> dict | None:
        """The key points the editor starts from: the curator's override, else the first detected face."""
        if self.landmarks_override:
            return self.landmarks_override
        if self.faces:
            return self.faces[0]
        return None


class Passage(models.Model):
    """A text residents read aloud beside a painting: a poem, a line of a classic."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="passages")
    painting = models.ForeignKey(Painting, on_delete=models.CASCADE, related_name="passages")
    title = models.CharField(_("title"), max_length=200)
    title_en = models.CharField(_("title in English"), max_length=200, blank=True)
    text = models.TextField(_("text"))
    language = models.CharField(_("language"), max_length=16, help_text="BCP-47 code, e.g. zh or en")
    # Beside a Chinese poem on the film page: its English translation (or, for an English text, a
    # Chinese one), and the curator's note on it, in both languages.
    translation = models.TextField(_("translation"), blank=True)
    note = models.TextField(_("note"), blank=True)
    note_en = models.TextField(_("note in English"), blank=True)
    speaking_face = models.PositiveSmallIntegerField(_("face that speaks"), default=0)
    max_seconds = models.PositiveSmallIntegerField(_("longest recording in seconds"), default=60)
    is_open = models.BooleanField(_("open for recordings"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "contributions_passage"
        ordering = ["painting__title", "title"]

    def __str__(self) -> str:
        return self.title
