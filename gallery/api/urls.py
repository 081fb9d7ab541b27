from django.urls import path

from gallery.api import views

urlpatterns = [
    path("events/<uuid:event_id>/animations/", views.EventAnimations.as_view(), name="api-event-animations"),
]
