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
    description = models.TextField(_("description"), blank=True)
    starts_on = models.DateField(_("starts on"), null=True, blank=True)
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    publish_mode = models.CharField(max_length=10, choices=PublishMode.choices, default=PublishMode.AUTO)
    is_open = models.BooleanField(_("open for recordings"), default=True)
    moderators = models.ManyToManyField(
        "accounts.User", blank=True, related_name="moderated_events", help_text=_("Empty: every moderator.")
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
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
    artist = models.CharField(_("artist"), max_length=200, blank=True)
    era = models.CharField(_("era"), max_length=100, blank=True)
    source = models.CharField(_("source and licence"), max_length=300, blank=True)
    story = models.TextField(_("story"), blank=True)
    image = models.ImageField(upload_to=painting_image_path, width_field="width", height_field="height")
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    face_status = models.CharField(max_length=10, choices=FaceStatus.choices, default=FaceStatus.PENDING)
    faces = models.JSONField(default=list, blank=True, help_text="Detected faces, as the engine reports them.")
    landmarks_override = models.JSONField(
        null=True, blank=True, help_text="Key points placed by a curator; they win over detection."
    )
    face_error = models.TextField(blank=True, help_text="Why detection found nothing or failed, for the curator.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
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
    passage = models.ForeignKey("contributions.Passage", on_delete=models.CASCADE, related_name="previews")
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
