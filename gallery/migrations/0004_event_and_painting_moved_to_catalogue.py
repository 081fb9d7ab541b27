"""Event and Painting moved to the catalogue (catalogue 0001): state only, the tables gallery_event,
gallery_event_moderators and gallery_painting and their rows stay."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("animation", "0003_animation_event_in_catalogue"),
        ("contributions", "0005_passage_moved_to_catalogue"),
        ("gallery", "0003_passagepreview_passage_in_catalogue"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="Painting"),
                migrations.DeleteModel(name="Event"),
            ],
            database_operations=[],
        ),
    ]
