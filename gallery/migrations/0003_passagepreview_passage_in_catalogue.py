"""The preview's passage is the catalogue's now (catalogue 0001): state only, same table and column."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("catalogue", "0001_initial"),
        ("gallery", "0002_painting_face_error_passagepreview"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="passagepreview",
                    name="passage",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="previews", to="catalogue.passage"
                    ),
                ),
            ],
            database_operations=[],
        ),
    ]
