"""Passage moved to the catalogue (catalogue 0001): the recordings point there; state only, the table
contributions_passage and its rows stay."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("catalogue", "0001_initial"),
        ("contributions", "0004_recording_camera_motion"),
        ("gallery", "0003_passagepreview_passage_in_catalogue"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="recording",
                    name="passage",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="recordings", to="catalogue.passage"
                    ),
                ),
                migrations.DeleteModel(name="Passage"),
            ],
            database_operations=[],
        ),
    ]
