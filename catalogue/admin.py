from django.contrib import admin

from catalogue.models import Event, Painting, Passage


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ("title", "slug", "starts_on", "ends_on", "publish_mode", "is_open")
    prepopulated_fields = {"slug": ("title",)}


@admin.register(Painting)
class PaintingAdmin(admin.ModelAdmin):
    list_display = ("title", "event", "artist", "face_status")
    list_filter = ("event", "face_status")


@admin.register(Passage)
class PassageAdmin(admin.ModelAdmin):
    list_display = ("title", "painting", "language", "max_seconds", "is_open")
    list_filter = ("event", "language", "is_open")
