from django.contrib import admin

from contributions.models import Consent, ModerationDecision, Passage, Recording


@admin.register(Passage)
class PassageAdmin(admin.ModelAdmin):
    list_display = ("title", "painting", "language", "max_seconds", "is_open")
    list_filter = ("event", "language", "is_open")


@admin.register(Recording)
class RecordingAdmin(admin.ModelAdmin):
    list_display = ("id", "passage", "contributor", "status", "duration_seconds", "match_score", "created_at")
    list_filter = ("status", "passage__event")
    readonly_fields = ("original", "speech_wav", "voice_wav", "audio_stats", "transcript")


@admin.register(ModerationDecision)
class ModerationDecisionAdmin(admin.ModelAdmin):
    list_display = ("recording", "moderator", "verdict", "reason", "created_at")


admin.site.register(Consent)
