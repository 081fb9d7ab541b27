from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from contributions import moderation_views
from contributions import views as contribution_views
from gallery import media_views as gallery_media
from gallery import programme_views
from gallery import views as gallery_views

urlpatterns = [
    path("", gallery_views.home, name="home"),
    path("events/<slug:slug>/", gallery_views.event_detail, name="event"),
    path("events/<slug:slug>/wall/", gallery_views.wall, name="wall"),
    path("events/<slug:slug>/programme/", programme_views.programme, name="event-programme"),
    path("events/<slug:slug>/programme.ics", programme_views.programme_calendar, name="event-programme-ics"),
    path("programme/<uuid:item_id>.ics", programme_views.programme_item_calendar, name="programme-item-ics"),
    path("animations/<uuid:animation_id>/", gallery_views.animation_detail, name="animation"),
    path("paintings/<uuid:painting_id>/", gallery_views.painting_detail, name="painting"),
    # Deep-zoom tiles where the storage signs each object's URL (gallery.media_views.painting_tile).
    path(
        "paintings/<uuid:painting_id>/tiles/<slug:folder>/<int:level>/<int:column>_<int:row>.<slug:extension>",
        gallery_media.painting_tile,
        name="painting-tile",
    ),
    path("curation/", include("gallery.curation.urls")),
    path("passages/", contribution_views.passages, name="passages"),
    path("record/<uuid:passage_id>/", contribution_views.record, name="record"),
    path("consent/", contribution_views.consent, name="consent"),
    path("consent/withdraw/", contribution_views.consent_withdraw, name="consent-withdraw"),
    path("me/recordings/", contribution_views.my_recordings, name="my-recordings"),
    path("me/account/", contribution_views.account, name="account"),
    path("me/account/data.zip", contribution_views.account_download, name="account-download"),
    path("me/recordings/<uuid:recording_id>/withdraw/", contribution_views.withdraw, name="withdraw"),
    path(
        "me/recordings/<uuid:recording_id>/dataset/",
        contribution_views.recording_open_dataset,
        name="recording-open-dataset",
    ),
    path("recordings/<uuid:recording_id>/audio/", contribution_views.recording_audio, name="recording-audio"),
    path("recordings/<uuid:recording_id>/video/", contribution_views.recording_video, name="recording-video"),
    path("moderation/", moderation_views.moderation_queue, name="moderation"),
    path("moderation/<uuid:recording_id>/decide/", moderation_views.moderation_decide, name="moderation-decide"),
    path("moderation/films/", moderation_views.moderation_films, name="moderation-films"),
    path("moderation/audit/", moderation_views.moderation_audit, name="moderation-audit"),
    path("moderation/audit/<int:decision_id>/reverse/", moderation_views.moderation_reverse, name="moderation-reverse"),
    path("accounts/signup/", contribution_views.signup, name="signup"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", include("contributions.api.urls")),
    path("api/", include("animation.urls")),
    path("api/", include("gallery.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script as a file: the CSP forbids inline script.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("admin/", admin.site.urls),
    # Liveness, readiness and Prometheus metrics for operators (health/).
    path("", include("health.urls")),
]

if settings.SERVE_MEDIA:
    # Only the public parts of MEDIA_ROOT: original recordings are served by a view that checks access.
    # Every name under /media/ reaches the view, which refuses ".." in any spelling before looking
    # at the prefix (a pattern on the raw prefix let "paintings/../recordings/..." through).
    urlpatterns += [
        re_path(r"^media/(?P<path>.*)$", gallery_media.public_media, name="public-media"),
    ]
