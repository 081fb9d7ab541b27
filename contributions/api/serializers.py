from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalogue.models import DialogueRole, Passage
from contributions.models import Consent, ModerationDecision, Recording


class PassageSerializer(serializers.ModelSerializer):
    painting_title = serializers.CharField(source="painting.title", read_only=True)
    painting_image = serializers.ImageField(source="painting.image", read_only=True)

    class Meta:
        model = Passage
        fields = [
            "id",
            "event",
            "painting",
            "painting_title",
            "painting_image",
            "title",
            "text",
            "language",
            "max_seconds",
        ]


class ConsentSerializer(serializers.ModelSerializer):
    public_animation = serializers.BooleanField()
    # Read only: each reading is given to the open dataset on its own (RecordingUploadSerializer.open_dataset).
    open_dataset = serializers.BooleanField(read_only=True)

    class Meta:
        model = Consent
        fields = ["public_animation", "open_dataset", "version", "agreed_at"]
        read_only_fields = ["version", "agreed_at"]


class RecordingUploadSerializer(serializers.Serializer):
    passage = serializers.PrimaryKeyRelatedField(queryset=Passage.objects.select_related("event"))
    # The role read, for a dialogue passage (recording_submit checks it is one of the passage's).
    role = serializers.PrimaryKeyRelatedField(queryset=DialogueRole.objects.all(), required=False, allow_null=True)
    audio = serializers.FileField(allow_empty_file=True)
    # The separate consent for the camera (issue 15): without it a picture in the file is never kept.
    video_consent = serializers.BooleanField(required=False, default=False)
    # The reader's opt-in for this reading to join the open dataset (issue 26): off unless sent.
    open_dataset = serializers.BooleanField(required=False, default=False)


class RecordingOpenDatasetSerializer(serializers.Serializer):
    """PATCH of a reader's own reading: opt it in or out of the open dataset's later releases."""

    open_dataset = serializers.BooleanField()


class AnimationBriefSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.CharField()
    progress = serializers.FloatField()
    error = serializers.CharField()
    url = serializers.SerializerMethodField()

    def get_url(self, animation) -> str:
        return f"/animations/{animation.id}/" if animation.status == "published" else ""


class RecordingSerializer(serializers.ModelSerializer):
    passage_title = serializers.CharField(source="passage.title", read_only=True)
    animations = AnimationBriefSerializer(many=True, read_only=True)
    audio_url = serializers.SerializerMethodField()

    class Meta:
        model = Recording
        fields = [
            "id",
            "passage",
            "passage_title",
            "status",
            "duration_seconds",
            "audio_stats",
            "rejection_reason",
            "rejection_note",
            "created_at",
            "animations",
            "audio_url",
            "video_consented_at",
            "motion_note",
            "motion_source",
            "open_dataset",
        ]
        read_only_fields = ["open_dataset"]

    def get_audio_url(self, recording) -> str:
        return f"/recordings/{recording.id}/audio/" if recording.original else ""


class ModerationItemSerializer(serializers.ModelSerializer):
    """A line of the queue. The resident's name is left out on purpose: a decision is about the reading."""

    passage_title = serializers.CharField(source="passage.title", read_only=True)
    language = serializers.CharField(source="passage.language", read_only=True)
    event = serializers.UUIDField(source="passage.event_id", read_only=True)
    event_title = serializers.CharField(source="passage.event.title", read_only=True)
    painting = serializers.UUIDField(source="passage.painting_id", read_only=True)
    painting_title = serializers.CharField(source="passage.painting.title", read_only=True)
    claimed_by = serializers.SerializerMethodField()

    class Meta:
        model = Recording
        fields = [
            "id",
            "event",
            "event_title",
            "painting",
            "painting_title",
            "passage_title",
            "language",
            "duration_seconds",
            "match_score",
            "created_at",
            "claimed_by",
        ]

    def get_claimed_by(self, recording) -> str:
        """The other moderator's name while their claim runs, empty otherwise."""
        from django.utils import timezone

        if recording.claimed_until is None or recording.claimed_until <= timezone.now():
            return ""
        return recording.claimed_by.public_name if recording.claimed_by else ""


class DiffOperationSerializer(serializers.Serializer):
    op = serializers.ChoiceField(choices=["equal", "replace", "delete", "insert"])
    ref = serializers.CharField(allow_blank=True)
    hyp = serializers.CharField(allow_blank=True)


class WarningSerializer(serializers.Serializer):
    code = serializers.CharField()
    text = serializers.CharField()


class UnitConfidenceSerializer(serializers.Serializer):
    text = serializers.CharField()
    confidence = serializers.FloatField(min_value=0, max_value=1)
    skipped = serializers.BooleanField()


class DialogueLineSerializer(serializers.Serializer):
    role = serializers.CharField()
    text = serializers.CharField()
    mine = serializers.BooleanField(help_text="a line of the role this reading is of")


class DialogueVoiceSerializer(serializers.Serializer):
    role = serializers.CharField()
    credited_as = serializers.CharField(allow_blank=True, help_text="empty while the role has no approved reading")
    audio_url = serializers.CharField(allow_blank=True)


class DialogueContextSerializer(serializers.Serializer):
    role = serializers.CharField()
    lines = DialogueLineSerializer(many=True)
    voices = DialogueVoiceSerializer(many=True)


class ReviewFactsSerializer(serializers.Serializer):
    unit = serializers.ChoiceField(choices=["character", "word"])
    separator = serializers.CharField(allow_blank=True, trim_whitespace=False)
    diff = DiffOperationSerializer(many=True)
    counts = serializers.DictField(child=serializers.IntegerField())
    error_rate = serializers.FloatField(allow_null=True)
    warnings = WarningSerializer(many=True)


class ModerationDetailSerializer(ModerationItemSerializer):
    # What the reader read: the passage, or their role's lines of a dialogue.
    passage_text = serializers.CharField(source="text_to_read", read_only=True)
    role = serializers.CharField(source="role.name", read_only=True, default="")
    max_seconds = serializers.IntegerField(source="passage.max_seconds", read_only=True)
    painting_image = serializers.ImageField(source="passage.painting.image", read_only=True)
    audio_url = serializers.SerializerMethodField()
    video_url = serializers.SerializerMethodField()
    transcript_ready = serializers.SerializerMethodField()
    claimed_until = serializers.DateTimeField(read_only=True)
    facts = serializers.SerializerMethodField()
    # How sure the alignment is of each unit of the text (0..1), skipped units marked; empty until aligned.
    unit_confidence = serializers.SerializerMethodField()
    # A role's reading of a dialogue: the whole script and the other roles' approved voices; else null.
    dialogue = serializers.SerializerMethodField()
    # The name the film will credit publicly: approved (or rejected, reason "name") with the reading.
    credited_as = serializers.CharField(source="credit", read_only=True)

    class Meta(ModerationItemSerializer.Meta):
        fields = [
            *ModerationItemSerializer.Meta.fields,
            "passage_text",
            "role",
            "max_seconds",
            "painting_image",
            "status",
            "audio_url",
            "audio_stats",
            "transcript",
            "transcript_language",
            "transcript_ready",
            "claimed_until",
            "facts",
            "unit_confidence",
            "dialogue",
            "video_url",
            "credited_as",
        ]

    def get_audio_url(self, recording) -> str:
        return f"/recordings/{recording.id}/audio/"

    def get_video_url(self, recording) -> str:
        # A camera reading's video while it is kept for this review (issue 15); empty otherwise.
        return f"/recordings/{recording.id}/video/" if recording.video and recording.status == "pending" else ""

    def get_transcript_ready(self, recording) -> bool:
        return recording.transcribed_at is not None

    @extend_schema_field(UnitConfidenceSerializer(many=True))
    def get_unit_confidence(self, recording) -> list[dict]:
        from contributions.selectors import recording_unit_confidence

        return recording_unit_confidence(recording=recording)

    @extend_schema_field(DialogueContextSerializer(allow_null=True))
    def get_dialogue(self, recording) -> dict | None:
        from contributions.selectors import recording_dialogue

        return recording_dialogue(recording=recording)

    @extend_schema_field(ReviewFactsSerializer)
    def get_facts(self, recording) -> dict:
        from contributions.selectors import recording_review_facts

        return recording_review_facts(recording=recording)


class ModerationFiltersSerializer(serializers.Serializer):
    event = serializers.UUIDField(required=False, allow_null=True)
    painting = serializers.UUIDField(required=False, allow_null=True)
    language = serializers.CharField(required=False, allow_blank=True, default="")


class ClaimNextSerializer(ModerationFiltersSerializer):
    after = serializers.UUIDField(required=False, allow_null=True, help_text="Continue from this recording.")
    direction = serializers.ChoiceField(choices=["next", "previous"], default="next")


class ApproveSerializer(serializers.Serializer):
    listened_seconds = serializers.FloatField(required=False, allow_null=True, min_value=0)


class RejectSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=Recording.RejectionReason.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    listened_seconds = serializers.FloatField(required=False, allow_null=True, min_value=0)


class FilmRejectSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=ModerationDecision.FilmRejectionReason.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class ReverseSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(
        choices=ModerationDecision.REASON_CHOICES, required=False, allow_blank=True, default=""
    )
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class DecisionSerializer(serializers.ModelSerializer):
    moderator_name = serializers.CharField(source="moderator.public_name", read_only=True)
    verdict_label = serializers.CharField(source="get_verdict_display", read_only=True)
    reason_label = serializers.CharField(source="get_reason_display", read_only=True)
    event = serializers.UUIDField(source="recording.passage.event_id", read_only=True)
    passage_title = serializers.CharField(source="recording.passage.title", read_only=True)
    undo_until = serializers.SerializerMethodField()

    class Meta:
        model = ModerationDecision
        fields = [
            "id",
            "subject",
            "recording",
            "animation",
            "event",
            "passage_title",
            "moderator",
            "moderator_name",
            "verdict",
            "verdict_label",
            "reason",
            "reason_label",
            "note",
            "listened_seconds",
            "reverses",
            "reversed_at",
            "created_at",
            "undo_until",
        ]

    def get_undo_until(self, decision) -> str | None:
        from datetime import timedelta

        from contributions.services import undo_seconds

        if decision.verdict not in ("approve", "reject") or decision.reversed_at or decision.reverses_id:
            return None
        return (decision.created_at + timedelta(seconds=undo_seconds())).isoformat()
