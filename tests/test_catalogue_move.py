"""Moving Event, Painting and Passage into the catalogue app kept every row and every link.

The database is migrated back to just before the move (gallery 0002, contributions 0004, animation
0002), rows are written through the old apps' models, and then forward again: the same rows are read
through the catalogue's models, with their foreign keys and the moderators of the event intact.
"""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE_THE_MOVE = [
    ("accounts", "0001_initial"),
    ("gallery", "0002_painting_face_error_passagepreview"),
    ("contributions", "0004_recording_camera_motion"),
    ("animation", "0002_claim_heartbeat_and_enqueue"),
    # The catalogue's own later columns (renditions, the English texts) did not exist before the move
    # either: rows written through the old models must not meet them.
    ("catalogue", "0002_event_moderators_help"),
]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_the_move_keeps_every_row_and_link():
    latest = list(MigrationExecutor(connection).loader.graph.leaf_nodes())
    old = _migrate(BEFORE_THE_MOVE)
    try:
        user = old.get_model("accounts", "User").objects.create(username="moderator-before-the-move")
        event = old.get_model("gallery", "Event").objects.create(slug="before-the-move", title="Before")
        event.moderators.add(user)
        painting = old.get_model("gallery", "Painting").objects.create(
            event=event,
            title="Zhong Kui",
            image="paintings/x/image.jpg",
            width=640,
            height=480,
            faces=[{"box": [1, 2, 3, 4]}],
        )
        passage = old.get_model("contributions", "Passage").objects.create(
            event=event, painting=painting, title="Poem", text="床前明月光", language="zh"
        )
        preview = old.get_model("gallery", "PassagePreview").objects.create(passage=passage, sample_voice="v.wav")
        consent = old.get_model("contributions", "Consent").objects.create(user=user, version=1)
        recording = old.get_model("contributions", "Recording").objects.create(
            id=uuid.uuid4(), passage=passage, contributor=user, consent=consent
        )
        film = old.get_model("animation", "Animation").objects.create(recording=recording, event=event)

        new = _migrate(latest)
        Event = new.get_model("catalogue", "Event")
        moved_event = Event.objects.get(id=event.id)
        assert moved_event.slug == "before-the-move"
        assert list(moved_event.moderators.values_list("id", flat=True)) == [user.id]
        moved_painting = new.get_model("catalogue", "Painting").objects.get(id=painting.id)
        assert moved_painting.event_id == event.id and moved_painting.faces == [{"box": [1, 2, 3, 4]}]
        moved_passage = new.get_model("catalogue", "Passage").objects.get(id=passage.id)
        assert (moved_passage.painting_id, moved_passage.text) == (painting.id, "床前明月光")
        assert new.get_model("contributions", "Recording").objects.get(id=recording.id).passage_id == passage.id
        assert new.get_model("gallery", "PassagePreview").objects.get(id=preview.id).passage_id == passage.id
        assert new.get_model("animation", "Animation").objects.get(id=film.id).event_id == event.id
        # The old apps no longer hold these models.
        for app, model in (("gallery", "Event"), ("gallery", "Painting"), ("contributions", "Passage")):
            with pytest.raises(LookupError):
                new.get_model(app, model)
    finally:
        _migrate(latest)
