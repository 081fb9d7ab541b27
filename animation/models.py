import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


class Alignment(models.Model):
    """Where every word (or Chinese character) of the approved text falls in the recording."""

    id = models.BigAutoField(primary_key=True)
    recording = models.OneToOneField("contributions.Recording", on_delete=models.CASCADE, related_name="alignment")
    language = models.CharField(max_length=16)
    # The passage's text as it was aligned: an edit since means the alignment no longer applies.
    text = models.TextField(blank=True)
    model_name = models.CharField(max_length=200)
    transcript = models.TextField(blank=True)
    match_score = models.FloatField(default=0)
    units = models.JSONField(default=list)
    phrases = models.JSONField(default=list)
    webvtt = models.TextField()
    seconds = models.FloatField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Alignment of {self.recording_id} ({len(self.units)} units)"


class Animation(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        ALIGNING = "aligning", _("Aligning the words")
        RENDERING = "rendering", _("Animating the painting")
        READY = "ready", _("Ready for review")
        PUBLISHED = "published", _("Published")
        FAILED = "failed", _("Failed")
        REMOVED = "removed", _("Removed")

    IN_PROGRESS = (Status.QUEUED, Status.ALIGNING, Status.RENDERING)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    recording = models.ForeignKey("contributions.Recording", on_delete=models.CASCADE, related_name="animations")
    event = models.ForeignKey("catalogue.Event", on_delete=models.CASCADE, related_name="animations")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED, db_index=True)
    progress = models.FloatField(default=0)
    video = models.FileField(max_length=300, blank=True)
    poster = models.FileField(max_length=300, blank=True)
    subtitles = models.FileField(max_length=300, blank=True)
    curves = models.FileField(max_length=300, blank=True)
    frame_count = models.PositiveIntegerField(default=0)
    fps = models.PositiveSmallIntegerField(default=25)
    stage_seconds = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # The claim: a fresh token per claim, refreshed heartbeat while the worker lives, who holds it.
    claim_token = models.CharField(max_length=32, blank=True, default="")
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=200, blank=True, default="")
    # When the broker accepted the message of the stage the job now waits for (empty: not yet).
    enqueued_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-published_at", "-created_at"]

    def __str__(self) -> str:
        return f"Animation {self.id} ({self.status})"


class DialogueVoice(models.Model):
    """One role's reading in a dialogue film (issue 22): the film speaks every role with its reading.
    The film's own ``recording`` is the first role's; withdrawing any voice takes the film down."""

    animation = models.ForeignKey(Animation, on_delete=models.CASCADE, related_name="voices")
    role = models.ForeignKey("catalogue.DialogueRole", on_delete=models.CASCADE, related_name="voices")
    recording = models.ForeignKey("contributions.Recording", on_delete=models.CASCADE, related_name="dialogue_voices")

    class Meta:
        ordering = ["animation", "role__order"]
        constraints = [models.UniqueConstraint(fields=["animation", "role"], name="one_voice_per_role")]

    def __str__(self) -> str:
        return f"{self.role} in {self.animation_id}"
