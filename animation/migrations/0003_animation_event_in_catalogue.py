"""The film's event is the catalogue's now (catalogue 0001): state only, same table and column."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("animation", "0002_claim_heartbeat_and_enqueue"),
        ("catalogue", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="animation",
                    name="event",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="animations", to="catalogue.event"
                    ),
                ),
            ],
            database_operations=[],
        ),
    ]
