from django.contrib import admin

from contributions.models import Consent, ModerationDecision, Recording, RecordingFunnelCount


@admin.register(Recording)
class RecordingAdmin(admin.ModelAdmin):
    list_display = ("id", "passage", "contributor", "status", "duration_seconds", "match_score", "created_at")
    list_filter = ("status", "passage__event")
    readonly_fields = ("original", "speech_wav", "voice_wav", "audio_stats", "transcript")


@admin.register(ModerationDecision)
class ModerationDecisionAdmin(admin.ModelAdmin):
    list_display = ("recording", "moderator", "verdict", "reason", "created_at")


admin.site.register(Consent)


@admin.register(RecordingFunnelCount)
class RecordingFunnelCountAdmin(admin.ModelAdmin):
    """Read only: the counts are what the recording pages reported, nothing to correct by hand."""

    list_display = ("day", "event", "passage", "step", "count")
    list_filter = ("event", "step")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
