"""The film gate of the moderation API: finished films waiting for review, published or held back.

Thin: the rules live in animation.services and animation.selectors.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from animation import selectors as animation_selectors
from animation import services
from animation.models import Animation
from contributions import selectors as contribution_selectors
from contributions import services as contribution_services
from contributions.api.moderation import FILTER_PARAMETERS, IsModerator, conflict
from contributions.api.serializers import DecisionSerializer, FilmRejectSerializer
from core.media import served_url
from core.query_params import uuid_param


class FilmSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    recording = serializers.UUIDField(source="recording_id")
    event = serializers.UUIDField(source="event_id")
    event_title = serializers.CharField(source="event.title")
    passage_title = serializers.CharField(source="recording.passage.title")
    passage_text = serializers.CharField(source="recording.passage.text")
    language = serializers.CharField(source="recording.passage.language")
    painting_title = serializers.CharField(source="recording.passage.painting.title")
    video_url = serializers.SerializerMethodField()
    poster_url = serializers.SerializerMethodField()
    subtitles_url = serializers.SerializerMethodField()
    status = serializers.CharField()

    def get_video_url(self, animation) -> str:
        return served_url(animation.video)

    def get_poster_url(self, animation) -> str:
        return served_url(animation.poster)

    def get_subtitles_url(self, animation) -> str:
        return served_url(animation.subtitles)


class FilmQueue(generics.ListAPIView):
    """Finished films waiting for the second gate, in events that ask for it."""

    permission_classes = [IsModerator]
    serializer_class = FilmSerializer

    @extend_schema(parameters=FILTER_PARAMETERS[:1])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        return animation_selectors.films_for_review(
            moderator=self.request.user, event_id=uuid_param(self.request.query_params, "event")
        )


class _FilmView(APIView):
    permission_classes = [IsModerator]

    def get_film(self, request, animation_id):
        animation = get_object_or_404(Animation.objects.select_related("recording"), id=animation_id)
        if not contribution_selectors.moderator_may_review_event(moderator=request.user, event_id=animation.event_id):
            raise PermissionDenied(_("You do not moderate this event."))
        return animation


class PublishFilm(_FilmView):
    @extend_schema(request=None, responses=DecisionSerializer)
    def post(self, request, animation_id):
        try:
            decision = services.film_publish(animation=self.get_film(request, animation_id), moderator=request.user)
        except contribution_services.InvalidTransition as error:
            return conflict(error)
        return Response(DecisionSerializer(decision).data)


class RejectFilm(_FilmView):
    @extend_schema(request=FilmRejectSerializer, responses=DecisionSerializer)
    def post(self, request, animation_id):
        animation = self.get_film(request, animation_id)
        serializer = FilmRejectSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            decision = services.film_reject(animation=animation, moderator=request.user, **serializer.validated_data)
        except contribution_services.InvalidTransition as error:
            return conflict(error)
        return Response(DecisionSerializer(decision).data)
