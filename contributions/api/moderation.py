"""The moderation API the console page runs on: queue, claims, decisions, undo, the film gate, and
the audit log with reversal for curators. Thin: every rule lives in services and selectors."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, permissions, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from contributions import selectors, services
from contributions.api.serializers import (
    ApproveSerializer,
    ClaimNextSerializer,
    DecisionSerializer,
    ModerationDetailSerializer,
    ModerationItemSerializer,
    RecordingSerializer,
    RejectSerializer,
    ReverseSerializer,
)
from contributions.models import ModerationDecision, Recording
from core.query_params import int_param, uuid_param

FILTER_PARAMETERS = [
    OpenApiParameter("event", str, description="event id"),
    OpenApiParameter("painting", str, description="painting id"),
    OpenApiParameter("language", str, description="passage language, e.g. zh or en"),
]


class IsModerator(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        return bool(request.user.is_authenticated and request.user.is_moderator())


class IsCurator(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        return bool(request.user.is_authenticated and request.user.is_curator())


def conflict(error: Exception) -> Response:
    code = "claimed" if isinstance(error, services.RecordingClaimed) else "conflict"
    return Response({"detail": str(error), "code": code}, status=status.HTTP_409_CONFLICT)


def _detail(recording: Recording) -> dict:
    return ModerationDetailSerializer(selectors.moderation_recording(recording_id=recording.id)).data


class ModerationQueue(generics.ListAPIView):
    """Pending recordings in the moderator's events, oldest first; ``claimed_by`` names who has one open."""

    permission_classes = [IsModerator]
    serializer_class = ModerationItemSerializer

    @extend_schema(parameters=FILTER_PARAMETERS)
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        params = self.request.query_params
        return selectors.moderation_queue(
            moderator=self.request.user,
            event_id=uuid_param(params, "event"),
            painting_id=uuid_param(params, "painting"),
            language=params.get("language") or None,
        )


class ClaimNext(APIView):
    """Open the next (or previous) recording in queue order and hold it for a few minutes."""

    permission_classes = [IsModerator]

    @extend_schema(request=ClaimNextSerializer, responses={200: ModerationDetailSerializer, 204: None})
    def post(self, request):
        serializer = ClaimNextSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        recording = services.recording_claim_next(
            moderator=request.user,
            event_id=data.get("event"),
            painting_id=data.get("painting"),
            language=data.get("language") or None,
            after_id=data.get("after"),
            backwards=data["direction"] == "previous",
        )
        if recording is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(ModerationDetailSerializer(recording).data)


class _RecordingView(APIView):
    permission_classes = [IsModerator]

    def get_recording(self, request, recording_id) -> Recording:
        recording = get_object_or_404(Recording.objects.select_related("passage__event"), id=recording_id)
        if not selectors.moderator_may_review(moderator=request.user, recording=recording):
            raise PermissionDenied(_("You do not moderate this event."))
        return recording


class RecordingReview(_RecordingView):
    """Everything the console shows about one recording (without claiming it)."""

    @extend_schema(responses=ModerationDetailSerializer)
    def get(self, request, recording_id):
        return Response(_detail(self.get_recording(request, recording_id)))


class ClaimRecording(_RecordingView):
    """Claim this recording, or renew the claim while it stays open."""

    @extend_schema(request=None, responses={200: ModerationDetailSerializer, 409: None})
    def post(self, request, recording_id):
        recording = self.get_recording(request, recording_id)
        if not services.recording_claim(recording=recording, moderator=request.user):
            current = selectors.moderation_recording(recording_id=recording.id)
            if current.status != Recording.Status.PENDING:
                return conflict(services.InvalidTransition(_("This recording has already been decided.")))
            if current.claimed_by is None:  # released between the two reads: the next try takes it
                return conflict(services.RecordingClaimed(_("This recording could not be claimed; try again.")))
            return conflict(
                services.RecordingClaimed(
                    _("%(name)s is reviewing this recording right now.") % {"name": current.claimed_by.public_name}
                )
            )
        return Response(_detail(recording))


class ReleaseRecording(_RecordingView):
    @extend_schema(request=None, responses={204: None})
    def post(self, request, recording_id):
        services.recording_release(recording=self.get_recording(request, recording_id), moderator=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _decided(recording: Recording) -> Response:
    decision = recording.decisions.order_by("-created_at", "-id").first()
    return Response({**RecordingSerializer(recording).data, "decision": DecisionSerializer(decision).data})


class ApproveRecording(_RecordingView):
    @extend_schema(request=ApproveSerializer, responses=RecordingSerializer)
    def post(self, request, recording_id):
        recording = self.get_recording(request, recording_id)
        serializer = ApproveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            recording = services.recording_approve(
                recording=recording,
                moderator=request.user,
                listened_seconds=serializer.validated_data.get("listened_seconds"),
            )
        except services.InvalidTransition as error:
            return conflict(error)
        return _decided(recording)


class RejectRecording(_RecordingView):
    @extend_schema(request=RejectSerializer, responses=RecordingSerializer)
    def post(self, request, recording_id):
        recording = self.get_recording(request, recording_id)
        serializer = RejectSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            recording = services.recording_reject(
                recording=recording,
                moderator=request.user,
                **serializer.validated_data,
            )
        except services.InvalidTransition as error:
            return conflict(error)
        return _decided(recording)


class UndoDecision(APIView):
    """Take back your own decision within the undo window; the recording reopens, claimed by you."""

    permission_classes = [IsModerator]

    @extend_schema(request=None, responses={200: DecisionSerializer, 409: None})
    def post(self, request, decision_id):
        decision = get_object_or_404(ModerationDecision.objects.select_related("recording__passage"), id=decision_id)
        if not selectors.moderator_may_review(moderator=request.user, recording=decision.recording):
            raise PermissionDenied(_("You do not moderate this event."))
        try:
            undo = services.decision_undo(decision=decision, moderator=request.user)
        except services.InvalidTransition as error:
            return conflict(error)
        body = {"decision": DecisionSerializer(undo).data}
        if decision.subject == ModerationDecision.Subject.RECORDING:
            body["recording"] = _detail(decision.recording)
        return Response(body)


class AuditLog(generics.ListAPIView):
    """Every decision on the festivals the curator curates, newest first."""

    permission_classes = [IsCurator]
    serializer_class = DecisionSerializer

    @extend_schema(parameters=[*FILTER_PARAMETERS[:1], OpenApiParameter("moderator", int)])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        params = self.request.query_params
        return selectors.moderation_audit(
            curator=self.request.user, event_id=uuid_param(params, "event"), moderator_id=int_param(params, "moderator")
        )


class ReverseDecision(APIView):
    """A curator turns a decision still in force into its opposite (rejection needs a reason)."""

    permission_classes = [IsCurator]

    @extend_schema(request=ReverseSerializer, responses={200: DecisionSerializer, 409: None})
    def post(self, request, decision_id):
        serializer = ReverseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        decision = get_object_or_404(ModerationDecision, id=decision_id)
        try:
            reversal = services.decision_reverse(decision=decision, curator=request.user, **serializer.validated_data)
        except ValueError as error:
            return Response({"detail": str(error), "code": "reason_required"}, status=status.HTTP_400_BAD_REQUEST)
        except services.InvalidTransition as error:
            return conflict(error)
        return Response(DecisionSerializer(reversal).data)
