from django.contrib import admin

from catalogue import services
from catalogue.models import Event, Painting, Passage


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ("title", "slug", "starts_on", "ends_on", "publish_mode", "is_open")
    prepopulated_fields = {"slug": ("title",)}

    # Through the service, so the paintings' stored files go too once the deletion is committed.
    def delete_model(self, request, obj):
        services.event_delete(event=obj)

    def delete_queryset(self, request, queryset):
        for event in queryset:
            services.event_delete(event=event)


@admin.register(Painting)
class PaintingAdmin(admin.ModelAdmin):
    list_display = ("title", "event", "artist", "face_status")
    list_filter = ("event", "face_status")

    # Through the service, so the stored files (image, copies, tiles, figure crops) go too after the commit.
    def delete_model(self, request, obj):
        services.painting_delete(painting=obj)

    def delete_queryset(self, request, queryset):
        for painting in queryset:
            services.painting_delete(painting=painting)


@admin.register(Passage)
class PassageAdmin(admin.ModelAdmin):
    list_display = ("title", "painting", "language", "max_seconds", "is_open")
    list_filter = ("event", "language", "is_open")
