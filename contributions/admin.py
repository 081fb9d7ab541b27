from django.contrib import admin

from contributions.models import Consent, ModerationDecision, Recording


@admin.register(Recording)
class RecordingAdmin(admin.ModelAdmin):
    list_display = ("id", "passage", "contributor", "status", "duration_seconds", "match_score", "created_at")
    list_filter = ("status", "passage__event")
    readonly_fields = ("original", "speech_wav", "voice_wav", "audio_stats", "transcript")


@admin.register(ModerationDecision)
class ModerationDecisionAdmin(admin.ModelAdmin):
    list_display = ("recording", "moderator", "verdict", "reason", "created_at")


admin.site.register(Consent)
