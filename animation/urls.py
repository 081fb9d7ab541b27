from django.urls import path

from animation import api

urlpatterns = [
    path("moderation/films/", api.FilmQueue.as_view(), name="api-film-queue"),
    path("moderation/films/<uuid:animation_id>/publish/", api.PublishFilm.as_view(), name="api-film-publish"),
    path("moderation/films/<uuid:animation_id>/reject/", api.RejectFilm.as_view(), name="api-film-reject"),
]
