"""Thin DRF views over contributions.services and selectors."""

import re

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, permissions, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from contributions import selectors, services
from contributions.api.serializers import (
    ConsentSerializer,
    PassageSerializer,
    RecordingOpenDatasetSerializer,
    RecordingSerializer,
    RecordingUploadSerializer,
)
from contributions.models import Recording


class PassageList(generics.ListAPIView):
    permission_classes = [permissions.AllowAny]
    serializer_class = PassageSerializer

    def get_queryset(self):
        return selectors.passages_open()


class ConsentView(APIView):
    @extend_schema(responses=ConsentSerializer)
    def get(self, request):
        consent = selectors.consent_current(user=request.user)
        if consent is None:
            return Response({"detail": _("No consent given yet.")}, status=status.HTTP_404_NOT_FOUND)
        return Response(ConsentSerializer(consent).data)

    @extend_schema(request=ConsentSerializer, responses={201: ConsentSerializer})
    def post(self, request):
        serializer = ConsentSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        consent = services.consent_give(user=request.user, **serializer.validated_data)
        return Response(ConsentSerializer(consent).data, status=status.HTTP_201_CREATED)


IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9_-]{1,64}")


class RecordingListCreate(APIView):
    parser_classes = [MultiPartParser, FormParser]
    throttle_scope = "uploads"

    def get_throttles(self):
        return [ScopedRateThrottle()] if self.request.method == "POST" else []

    @extend_schema(responses=RecordingSerializer(many=True))
    def get(self, request):
        return Response(RecordingSerializer(selectors.recordings_of(user=request.user), many=True).data)

    @extend_schema(
        request=RecordingUploadSerializer,
        responses={201: RecordingSerializer, 200: RecordingSerializer},
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                str,
                OpenApiParameter.HEADER,
                description="the page's name for this take: a retry with it answers 200 with the reading kept",
            )
        ],
    )
    def post(self, request):
        serializer = RecordingUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        key = request.headers.get("Idempotency-Key", "")
        if not IDEMPOTENCY_KEY.fullmatch(key or "x"):
            return Response(
                {"detail": _("Idempotency-Key must be 1 to 64 letters, digits, - or _."), "code": "idempotency_key"},
                status=status.HTTP_400_BAD_REQUEST,
            )
        try:
            recording = services.recording_submit(
                contributor=request.user,
                passage=serializer.validated_data["passage"],
                upload=serializer.validated_data["audio"],
                video_consent=serializer.validated_data["video_consent"],
                idempotency_key=key,
                role=serializer.validated_data.get("role"),
                open_dataset=serializer.validated_data["open_dataset"],
            )
        except services.RecordingRejected as rejection:
            return Response({"detail": rejection.message, "code": rejection.code}, status=rejection.status)
        # A retry of a take already kept answers with that reading: 200, nothing new was made.
        replayed = getattr(recording, "replayed", False)
        return Response(
            RecordingSerializer(recording).data, status=status.HTTP_200_OK if replayed else status.HTTP_201_CREATED
        )


class RecordingDetail(APIView):
    def get_object(self, request, recording_id) -> Recording:
        # Another resident's recording is "not found", never "forbidden": ids must not leak.
        return get_object_or_404(selectors.recordings_of(user=request.user), id=recording_id)

    @extend_schema(responses=RecordingSerializer)
    def get(self, request, recording_id):
        return Response(RecordingSerializer(self.get_object(request, recording_id)).data)

    @extend_schema(request=RecordingOpenDatasetSerializer, responses={200: RecordingSerializer, 409: None})
    def patch(self, request, recording_id):
        """Opt the reading in or out of the open dataset's later releases (not a withdrawn one: 409)."""
        recording = self.get_object(request, recording_id)
        serializer = RecordingOpenDatasetSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        wanted = serializer.validated_data["open_dataset"]
        if not services.recording_set_open_dataset(recording=recording, open_dataset=wanted):
            return Response(
                {"detail": _("A withdrawn recording cannot join the open dataset."), "code": "withdrawn"},
                status=status.HTTP_409_CONFLICT,
            )
        return Response(RecordingSerializer(self.get_object(request, recording_id)).data)

    @extend_schema(responses={204: None})
    def delete(self, request, recording_id):
        services.recording_withdraw(recording=self.get_object(request, recording_id))
        return Response(status=status.HTTP_204_NO_CONTENT)
