from django.urls import path

from contributions.api import funnel, moderation, views

urlpatterns = [
    path("passages/", views.PassageList.as_view(), name="api-passages"),
    path("consent/", views.ConsentView.as_view(), name="api-consent"),
    path("recordings/", views.RecordingListCreate.as_view(), name="api-recordings"),
    path("recordings/<uuid:recording_id>/", views.RecordingDetail.as_view(), name="api-recording"),
    path("funnel/", funnel.funnel_step, name="api-funnel"),
    path("moderation/queue/", moderation.ModerationQueue.as_view(), name="api-moderation-queue"),
    path("moderation/claim/", moderation.ClaimNext.as_view(), name="api-moderation-claim-next"),
    path("moderation/recordings/<uuid:recording_id>/", moderation.RecordingReview.as_view(), name="api-review"),
    path("moderation/recordings/<uuid:recording_id>/claim/", moderation.ClaimRecording.as_view(), name="api-claim"),
    path(
        "moderation/recordings/<uuid:recording_id>/release/", moderation.ReleaseRecording.as_view(), name="api-release"
    ),
    path(
        "moderation/recordings/<uuid:recording_id>/approve/", moderation.ApproveRecording.as_view(), name="api-approve"
    ),
    path("moderation/recordings/<uuid:recording_id>/reject/", moderation.RejectRecording.as_view(), name="api-reject"),
    path("moderation/decisions/", moderation.AuditLog.as_view(), name="api-audit"),
    path("moderation/decisions/<int:decision_id>/undo/", moderation.UndoDecision.as_view(), name="api-undo"),
    path("moderation/decisions/<int:decision_id>/reverse/", moderation.ReverseDecision.as_view(), name="api-reverse"),
]
