from django.urls import path

from gallery.curation import dataset_views, programme_views, views

urlpatterns = [
    path("", views.dashboard, name="curation"),
    path("events/new/", views.event_new, name="curation-event-new"),
    path("events/<slug:slug>/", views.event_edit, name="curation-event"),
    path("events/<slug:slug>/dashboard/", views.event_dashboard, name="curation-event-dashboard"),
    path("events/<slug:slug>/dashboard.json", views.event_dashboard_data, name="curation-event-dashboard-data"),
    path("events/<slug:slug>/dashboard.csv", views.event_dashboard_csv, name="curation-event-dashboard-csv"),
    path("events/<slug:slug>/dataset/", dataset_views.event_dataset, name="curation-event-dataset"),
    path("events/<slug:slug>/programme/", programme_views.programme, name="curation-programme"),
    path("programme/<uuid:item_id>/", programme_views.programme_item, name="curation-programme-item"),
    path(
        "programme/<uuid:item_id>/delete/", programme_views.programme_item_delete, name="curation-programme-item-delete"
    ),
    path("events/<slug:slug>/featured/", programme_views.featured, name="curation-featured"),
    path("featured/<uuid:featured_id>/", programme_views.featured_item, name="curation-featured-item"),
    path("datasets/", dataset_views.all_datasets, name="curation-datasets"),
    path("datasets/<uuid:release_id>/download/", dataset_views.dataset_download, name="curation-dataset-download"),
    path("paintings/<uuid:painting_id>/", views.painting_edit, name="curation-painting"),
    path("paintings/<uuid:painting_id>/detect/", views.painting_detect, name="curation-painting-detect"),
    path("paintings/<uuid:painting_id>/landmarks/", views.landmarks_editor, name="curation-landmarks"),
    path("figures/<uuid:figure_id>/", views.figure_edit, name="curation-figure"),
    path("paintings/<uuid:painting_id>/landmarks/fit/", views.landmarks_fit, name="curation-landmarks-fit"),
    path("passages/<uuid:passage_id>/", views.passage_edit, name="curation-passage"),
    path("passages/<uuid:passage_id>/open/", views.passage_set_open, name="curation-passage-open"),
    path("previews/<uuid:preview_id>/<str:kind>/", views.preview_file, name="curation-preview-file"),
]
