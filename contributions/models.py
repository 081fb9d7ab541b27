import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

CONSENT_VERSION = 1


def recording_original_path(recording: "Recording", filename: str) -> str:
    return f"recordings/{recording.id}/original.{recording.original_extension or 'bin'}"


class Consent(models.Model):
    """What a resident agreed to, and when. A new row for every change keeps the history."""

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="consents")
    version = models.PositiveSmallIntegerField(default=CONSENT_VERSION)
    public_animation = models.BooleanField(default=False)
    # The history only: before issue 26 a general wish; readings now join one by one (Recording.open_dataset).
    open_dataset = models.BooleanField(default=False)
    agreed_at = models.DateTimeField(auto_now_add=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-agreed_at"]

    def __str__(self) -> str:
        return f"Consent v{self.version} of {self.user_id} at {self.agreed_at:%Y-%m-%d}"


class Recording(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for a moderator")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    class RejectionReason(models.TextChoices):
        MISREAD = "misread", _("The text was misread")
        NOISE = "noise", _("Too much background noise")
        LEVEL = "level", _("Too quiet or clipped")
        LANGUAGE = "language", _("Wrong language")
        OFFENSIVE = "offensive", _("Offensive content")
        CUT_OFF = "cut_off", _("The reading is cut off")
        OTHER = "other", _("Other")
        # Last, so the console's number keys 1-7 keep their meaning for the moderators who learnt them.
        NAME = "name", _("The name shown with the reading cannot be published")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    passage = models.ForeignKey("catalogue.Passage", on_delete=models.PROTECT, related_name="recordings")
    # The role read, for a dialogue passage (its lines only); none for a passage read by one voice.
    role = models.ForeignKey(
        "catalogue.DialogueRole", null=True, blank=True, on_delete=models.PROTECT, related_name="recordings"
    )
    contributor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recordings")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING, db_index=True)
    original = models.FileField(upload_to=recording_original_path, max_length=300)
    original_extension = models.CharField(max_length=10, blank=True)
    speech_wav = models.FileField(max_length=300, blank=True)
    voice_wav = models.FileField(max_length=300, blank=True)
    codec = models.CharField(max_length=40, blank=True)
    duration_seconds = models.FloatField(default=0)
    audio_stats = models.JSONField(default=dict, blank=True)
    consent = models.ForeignKey(Consent, on_delete=models.PROTECT, related_name="recordings")
    transcript = models.TextField(blank=True)
    transcript_language = models.CharField(max_length=16, blank=True)
    match_score = models.FloatField(null=True, blank=True)
    transcribed_at = models.DateTimeField(null=True, blank=True)
    # The hand-off to the workers is an outbox: the row is committed first, then the messages are sent.
    # handoff_sent_at stays empty while the broker has not taken them (Redis down), and a worker sets
    # transcribe_started_at when it takes the transcription; contributions.services.recording_sweep
    # sends again whatever never started, so a broker outage delays a reading but never loses it.
    handoff_sent_at = models.DateTimeField(null=True, blank=True)
    handoff_attempts = models.PositiveSmallIntegerField(default=0)
    # Chosen by the page for each take (the Idempotency-Key header): a retried upload whose answer was
    # lost finds this reading instead of making a second one.
    idempotency_key = models.CharField(max_length=64, blank=True, default="")
    # The name the gallery credits, as it was when the reading arrived: the moderator approves it with
    # the voice, so a name changed later never reaches the public unreviewed.
    credited_as = models.CharField(max_length=80, blank=True, default="")
    transcribe_started_at = models.DateTimeField(null=True, blank=True)
    # Set once every voice-derived file and field of a withdrawn recording is gone (withdrawal is retried
    # by the sweep until then).
    erased_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.CharField(max_length=12, choices=RejectionReason.choices, blank=True)
    rejection_note = models.TextField(blank=True)
    # A soft lock: the moderator who opened the recording has it until claimed_until, so two people
    # never review the same clip; an abandoned claim simply expires.
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="claimed_recordings"
    )
    claimed_until = models.DateTimeField(null=True, blank=True)
    # Reading with the camera (issue 15): the video is private (never served to the public, played only
    # to the event's moderators while pending) and deleted once the motion curves are extracted, unless
    # settings.RECORDING_VIDEO_KEEP_FOR_REVIEW keeps it until the moderator decides. Its own consent.
    video = models.FileField(max_length=300, blank=True)
    video_consented_at = models.DateTimeField(null=True, blank=True)
    # capture.MotionCurves.to_dict() of the video; empty until extracted (or when there was no video).
    motion_curves = models.JSONField(default=dict, blank=True)
    # Shown to the resident: why the video could not drive the figure, or what the film used.
    motion_note = models.TextField(blank=True)
    # "video" or "voice": what moved the figure in the latest film (pipeline.animate's result).
    motion_source = models.CharField(max_length=10, blank=True)
    # The reader's own opt-in, per reading and apart from the film (issue 26): only readings with it
    # join a release of the festival's open dataset (animation.datasets); taking it back (or withdrawing
    # the reading) leaves it out of every later release. Earlier downloads cannot be recalled.
    open_dataset = models.BooleanField(default=False)
    open_dataset_changed_at = models.DateTimeField(null=True, blank=True)
    motion_started_at = models.DateTimeField(null=True, blank=True)
    motion_extracted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "created_at"], name="recording_queue_idx"),
            models.Index(fields=["handoff_sent_at", "transcribed_at"], name="recording_handoff_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["contributor", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="recording_one_per_idempotency_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.passage} by {self.contributor}"

    @property
    def text_to_read(self) -> str:
        """The text this reading is of: its role's lines in a dialogue, else the whole passage."""
        return self.role.text() if self.role_id else self.passage.text

    @property
    def credit(self) -> str:
        """The reader's name as the gallery shows it (readings from before credited_as: their name now)."""
        return self.credited_as or self.contributor.public_name


class ModerationDecision(models.Model):
    """One entry of the audit trail curators read: who decided what, when and why.

    Rows are never edited except to mark them superseded (``reversed_at``). An undo by the moderator
    is a row of its own (verdict "undo"); a curator's reversal is the opposite verdict, by the
    curator, with ``reverses`` pointing at the decision it overturns (and can itself be reversed).
    """

    class Subject(models.TextChoices):
        RECORDING = "recording", _("Recording")
        ANIMATION = "animation", _("Film")

    class Verdict(models.TextChoices):
        APPROVE = "approve", _("Approve")
        REJECT = "reject", _("Reject")
        UNDO = "undo", _("Undone by the moderator")

    class FilmRejectionReason(models.TextChoices):
        UNCANNY_MOUTH = "uncanny_mouth", _("The mouth looks uncanny")
        WRONG_FACE = "wrong_face", _("The wrong face moves")
        SYNC_OFF = "sync_off", _("The lips are out of sync")
        OTHER = "other", _("Other")

    REASON_CHOICES = [
        *Recording.RejectionReason.choices,
        *[choice for choice in FilmRejectionReason.choices if choice[0] != "other"],
    ]

    id = models.BigAutoField(primary_key=True)
    subject = models.CharField(max_length=10, choices=Subject.choices, default=Subject.RECORDING)
    recording = models.ForeignKey(Recording, on_delete=models.CASCADE, related_name="decisions")
    animation = models.ForeignKey(
        "animation.Animation", on_delete=models.CASCADE, null=True, blank=True, related_name="reviews"
    )
    moderator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="decisions")
    verdict = models.CharField(max_length=10, choices=Verdict.choices)
    reason = models.CharField(max_length=20, choices=REASON_CHOICES, blank=True)
    note = models.TextField(blank=True)
    # How much of the clip the moderator had played when deciding (client-reported, for the record).
    listened_seconds = models.FloatField(null=True, blank=True)
    reverses = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversals")
    reversed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_verdict_display()} {self.subject} {self.recording_id} by {self.moderator_id}"


class RecordingFunnelCount(models.Model):
    """How many page views of a passage's recording page reached each step of the flow, per day.

    Anonymous by construction: a count per (passage, step, day) and nothing else, no user, no address,
    no session. The organisers' dashboard reads where readers dropped out from these rows.
    """

    class Step(models.TextChoices):
        # In the order a reader meets them: the dashboard's drop-out figures depend on it.
        OPENED = "opened", _("Opened the recording page")
        MICROPHONE_READY = "microphone_ready", _("Microphone ready")
        RECORDING_STARTED = "recording_started", _("Started recording")
        TAKE_RECORDED = "take_recorded", _("Recorded a take")
        SUBMITTED = "submitted", _("Sent the reading")

    id = models.BigAutoField(primary_key=True)
    event = models.ForeignKey("catalogue.Event", on_delete=models.CASCADE, related_name="funnel_counts")
    passage = models.ForeignKey("catalogue.Passage", on_delete=models.CASCADE, related_name="funnel_counts")
    step = models.CharField(max_length=20, choices=Step.choices)
    day = models.DateField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["passage", "step", "day"], name="funnel_one_row_per_passage_step_day")
        ]
        indexes = [models.Index(fields=["event", "day"], name="funnel_event_day_idx")]

    def __str__(self) -> str:
        return f"{self.passage_id} {self.step} {self.day}: {self.count}"
