"""Public catch-up API: what a page missed while its socket was down."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions
from rest_framework.response import Response
from rest_framework.views import APIView

from animation import selectors as animation_selectors
from catalogue.models import Event
from gallery import events, selectors


class EventAnimations(APIView):
    """The newest page of published films and the live counter, as the grid and the wall draw them."""

    permission_classes = [permissions.AllowAny]
    authentication_classes = []  # public and read-only: no session, so no CSRF or login involved

    @extend_schema(
        parameters=[OpenApiParameter("painting", str), OpenApiParameter("language", str)],
        responses={200: dict},
    )
    def get(self, request, event_id):
        event = get_object_or_404(Event, id=event_id)
        animations = selectors.published_animations(
            event=event,
            painting_id=request.query_params.get("painting"),
            language=request.query_params.get("language"),
        )[: selectors.PAGE_SIZE]
        return Response(
            {
                "in_progress": animation_selectors.animations_in_progress_count(event_id=event.id),
                "animations": [events.animation_card(animation) for animation in animations],
            }
        )
