from django.urls import path

from contributions.api import views

urlpatterns = [
    path("passages/", views.PassageList.as_view(), name="api-passages"),
    path("consent/", views.ConsentView.as_view(), name="api-consent"),
    path("recordings/", views.RecordingListCreate.as_view(), name="api-recordings"),
    path("recordings/<uuid:recording_id>/", views.RecordingDetail.as_view(), name="api-recording"),
    path("moderation/queue/", views.ModerationQueue.as_view(), name="api-moderation-queue"),
    path("moderation/recordings/<uuid:recording_id>/approve/", views.ApproveRecording.as_view(), name="api-approve"),
    path("moderation/recordings/<uuid:recording_id>/reject/", views.RejectRecording.as_view(), name="api-reject"),
]
