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
