from django.contrib import admin

from gallery.models import Event, Painting


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ("title", "slug", "starts_on", "ends_on", "publish_mode", "is_open")
    prepopulated_fields = {"slug": ("title",)}


@admin.register(Painting)
class PaintingAdmin(admin.ModelAdmin):
    list_display = ("title", "event", "artist", "face_status")
    list_filter = ("event", "face_status")
