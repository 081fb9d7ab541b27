from django.urls import path

from gallery.consumers import EventConsumer, ModerationConsumer, RecordingConsumer

websocket_urlpatterns = [
    path("ws/events/<uuid:event_id>/", EventConsumer.as_asgi()),
    path("ws/recordings/<uuid:recording_id>/", RecordingConsumer.as_asgi()),
    path("ws/moderation/", ModerationConsumer.as_asgi()),
]
