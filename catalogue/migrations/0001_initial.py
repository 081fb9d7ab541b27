"""Event and Painting (from gallery) and Passage (from contributions) become the catalogue's.

Only Django's state moves: the tables keep their names and their rows (db_table on each model), so
the database is not touched. The content types are relabelled so that permissions and admin history
follow the models.
"""

import catalogue.models
import django.db.models.deletion
import uuid
from django.conf import settings
from django.db import migrations, models


MOVED = {"event": "gallery", "painting": "gallery", "passage": "contributions"}


def relabel_content_types(apps, schema_editor):
    content_type = apps.get_model("contenttypes", "ContentType")
    for model, old_app in MOVED.items():
        if not content_type.objects.filter(app_label="catalogue", model=model).exists():
            content_type.objects.filter(app_label=old_app, model=model).update(app_label="catalogue")


def unlabel_content_types(apps, schema_editor):
    content_type = apps.get_model("contenttypes", "ContentType")
    for model, old_app in MOVED.items():
        if not content_type.objects.filter(app_label=old_app, model=model).exists():
            content_type.objects.filter(app_label="catalogue", model=model).update(app_label=old_app)


STATE = [
    migrations.CreateModel(
        name="Event",
        fields=[
            ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
            ("slug", models.SlugField(unique=True)),
            ("title", models.CharField(max_length=200, verbose_name="title")),
            ("description", models.TextField(blank=True, verbose_name="description")),
            ("starts_on", models.DateField(blank=True, null=True, verbose_name="starts on")),
            ("ends_on", models.DateField(blank=True, null=True, verbose_name="ends on")),
            (
                "publish_mode",
                models.CharField(
                    choices=[
                        ("auto", "Publish as soon as the animation is ready"),
                        ("review", "A moderator reviews the animation first"),
                    ],
                    default="auto",
                    max_length=10,
                ),
            ),
            ("is_open", models.BooleanField(default=True, verbose_name="open for recordings")),
            ("created_at", models.DateTimeField(auto_now_add=True)),
            (
                "moderators",
                models.ManyToManyField(
                    blank=True,
                    help_text="Empty: every moderator.",
                    related_name="moderated_events",
                    to=settings.AUTH_USER_MODEL,
                ),
            ),
        ],
        options={
            "db_table": "gallery_event",
            "ordering": ["-starts_on", "title"],
        },
    ),
    migrations.CreateModel(
        name="Painting",
        fields=[
            ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
            ("title", models.CharField(max_length=200, verbose_name="title")),
            ("artist", models.CharField(blank=True, max_length=200, verbose_name="artist")),
            ("era", models.CharField(blank=True, max_length=100, verbose_name="era")),
            ("source", models.CharField(blank=True, max_length=300, verbose_name="source and licence")),
            ("story", models.TextField(blank=True, verbose_name="story")),
            (
                "image",
                models.ImageField(
                    height_field="height", upload_to=catalogue.models.painting_image_path, width_field="width"
                ),
            ),
            ("width", models.PositiveIntegerField(default=0)),
            ("height", models.PositiveIntegerField(default=0)),
            (
                "face_status",
                models.CharField(
                    choices=[
                        ("pending", "Not looked for yet"),
                        ("found", "Faces found"),
                        ("none", "No face found: place the key points by hand"),
                        ("manual", "Placed by hand"),
                    ],
                    default="pending",
                    max_length=10,
                ),
            ),
            (
                "faces",
                models.JSONField(blank=True, default=list, help_text="Detected faces, as the engine reports them."),
            ),
            (
                "landmarks_override",
                models.JSONField(
                    blank=True, help_text="Key points placed by a curator; they win over detection.", null=True
                ),
            ),
            (
                "face_error",
                models.TextField(blank=True, help_text="Why detection found nothing or failed, for the curator."),
            ),
            ("created_at", models.DateTimeField(auto_now_add=True)),
            (
                "event",
                models.ForeignKey(
                    on_delete=django.db.models.deletion.CASCADE, related_name="paintings", to="catalogue.event"
                ),
            ),
        ],
        options={
            "db_table": "gallery_painting",
            "ordering": ["title"],
        },
    ),
    migrations.CreateModel(
        name="Passage",
        fields=[
            ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
            ("title", models.CharField(max_length=200, verbose_name="title")),
            ("text", models.TextField(verbose_name="text")),
            (
                "language",
                models.CharField(help_text="BCP-47 code, e.g. zh or en", max_length=16, verbose_name="language"),
            ),
            ("speaking_face", models.PositiveSmallIntegerField(default=0, verbose_name="face that speaks")),
            ("max_seconds", models.PositiveSmallIntegerField(default=60, verbose_name="longest recording in seconds")),
            ("is_open", models.BooleanField(default=True, verbose_name="open for recordings")),
            ("created_at", models.DateTimeField(auto_now_add=True)),
            (
                "event",
                models.ForeignKey(
                    on_delete=django.db.models.deletion.CASCADE, related_name="passages", to="catalogue.event"
                ),
            ),
            (
                "painting",
                models.ForeignKey(
                    on_delete=django.db.models.deletion.CASCADE, related_name="passages", to="catalogue.painting"
                ),
            ),
        ],
        options={
            "db_table": "contributions_passage",
            "ordering": ["painting__title", "title"],
        },
    ),
]


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("contenttypes", "0002_remove_content_type_name"),
        ("gallery", "0002_painting_face_error_passagepreview"),
        ("contributions", "0004_recording_camera_motion"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=STATE, database_operations=[]),
        migrations.RunPython(relabel_content_types, unlabel_content_types),
    ]
