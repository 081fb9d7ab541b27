from django.contrib import admin

from animation.models import Alignment, Animation


@admin.register(Animation)
class AnimationAdmin(admin.ModelAdmin):
    list_display = ("id", "event", "status", "progress", "attempts", "published_at", "error")
    list_filter = ("status", "event")


admin.site.register(Alignment)
