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
        # Made while the reading waits for its moderator (issue 25), so that the approval only publishes
        # the film: nobody but the event's moderators and curators can see these, and they never count
        # as in progress. A rejection, a withdrawal or a passage changed since deletes the row and its files.
        RENDERING_PRIVATE = "rendering_private", _("Rendering before approval")
        RENDERED_PRIVATE = "rendered_private", _("Ready, waiting for approval")
        FAILED_PRIVATE = "failed_private", _("Failed before approval")

    IN_PROGRESS = (Status.QUEUED, Status.ALIGNING, Status.RENDERING)
    # Not the reader's film yet: the approval turns it into one (animation.services.animation_start).
    BEFORE_APPROVAL = (Status.RENDERING_PRIVATE, Status.RENDERED_PRIVATE, Status.FAILED_PRIVATE)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    recording = models.ForeignKey("contributions.Recording", on_delete=models.CASCADE, related_name="animations")
    event = models.ForeignKey("catalogue.Event", on_delete=models.CASCADE, related_name="animations")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED, db_index=True)
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
    # What moved the figure in a film made before the approval ("video" or "voice") and why: told to the
    # reader (Recording.motion_source) only once the approval makes the film theirs.
    motion_source = models.CharField(max_length=10, blank=True, default="")
    motion_note = models.TextField(blank=True, default="")
    # What the film was made of (services.film_inputs_digest): a film made before the approval is
    # published only if the text, its alignment, the painting and the speaking face are still the same.
    inputs_digest = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-published_at", "-created_at"]
        constraints = [
            # One film made ahead per reading, whichever worker or message started it.
            models.UniqueConstraint(
                fields=["recording"],
                condition=models.Q(status__in=["rendering_private", "rendered_private", "failed_private"]),
                name="one_film_before_approval_per_recording",
            )
        ]

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


class DatasetRelease(models.Model):
    """One versioned release of the open dataset (issue 26): the approved readings whose readers opted
    in, with their text, timings and a datasheet, as one zip in storage (``datasets/...``).

    Versions count per scope: a festival's releases (``event``) or, with no event, the releases of all
    festivals (superusers only). Nothing here points at a reading, and the zip names readings only by ids
    drawn afresh for that release, so no release can be joined to the accounts. ``reading_keys`` (each a
    salted hash of a reading's id, the salt the release's own) only answers "does this release hold that
    reading?": a release holding a reading withdrawn or taken out since is retired, its zip deleted.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting for a worker")
        BUILDING = "building", _("Being built")
        READY = "ready", _("Ready to download")
        FAILED = "failed", _("Failed")
        RETIRED = "retired", _("Deleted: a reading in it was taken out since")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    event = models.ForeignKey(
        "catalogue.Event", null=True, blank=True, on_delete=models.CASCADE, related_name="dataset_releases"
    )
    version = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    archive = models.FileField(max_length=300, blank=True)
    archive_bytes = models.BigIntegerField(default=0)
    archive_sha256 = models.CharField(max_length=64, blank=True, default="")
    # {"readings", "seconds", "speakers", "texts", "languages": {code: {"readings", "seconds", "speakers"}},
    #  "without_timings"}
    counts = models.JSONField(default=dict, blank=True)
    licence = models.CharField(max_length=40, blank=True, default="")
    error = models.TextField(blank=True, default="")
    claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    reading_salt = models.CharField(max_length=32, blank=True, default="")
    reading_keys = models.JSONField(default=list, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "version"], condition=models.Q(event__isnull=False), name="dataset_version_per_event"
            ),
            models.UniqueConstraint(
                fields=["version"], condition=models.Q(event__isnull=True), name="dataset_version_all_events"
            ),
        ]

    def __str__(self) -> str:
        return f"Dataset v{self.version} ({self.event_id or 'all events'}, {self.status})"
