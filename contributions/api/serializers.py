from rest_framework import serializers

from contributions.models import Consent, Passage, Recording


class PassageSerializer(serializers.ModelSerializer):
    painting_title = serializers.CharField(source="painting.title", read_only=True)
    painting_image = serializers.ImageField(source="painting.image", read_only=True)

    class Meta:
        model = Passage
        fields = ["id", "event", "painting", "painting_title", "painting_image", "title", "text", "language",
                  "max_seconds"]


class ConsentSerializer(serializers.ModelSerializer):
    public_animation = serializers.BooleanField()
    open_dataset = serializers.BooleanField(default=False)

    class Meta:
        model = Consent
        fields = ["public_animation", "open_dataset", "version", "agreed_at"]
        read_only_fields = ["version", "agreed_at"]


class RecordingUploadSerializer(serializers.Serializer):
    passage = serializers.PrimaryKeyRelatedField(queryset=Passage.objects.select_related("event"))
    audio = serializers.FileField(allow_empty_file=True)


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
        fields = ["id", "passage", "passage_title", "status", "duration_seconds", "audio_stats", "rejection_reason",
                  "rejection_note", "created_at", "animations", "audio_url"]

    def get_audio_url(self, recording) -> str:
        return f"/recordings/{recording.id}/audio/" if recording.original else ""


class ModerationItemSerializer(serializers.ModelSerializer):
    passage_title = serializers.CharField(source="passage.title", read_only=True)
    passage_text = serializers.CharField(source="passage.text", read_only=True)
    language = serializers.CharField(source="passage.language", read_only=True)
    event = serializers.UUIDField(source="passage.event_id", read_only=True)
    audio_url = serializers.SerializerMethodField()

    class Meta:
        model = Recording
        fields = ["id", "event", "passage_title", "passage_text", "language", "duration_seconds", "audio_stats",
                  "transcript", "transcript_language", "match_score", "created_at", "audio_url"]

    def get_audio_url(self, recording) -> str:
        return f"/recordings/{recording.id}/audio/"


class RejectSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=Recording.RejectionReason.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="")
