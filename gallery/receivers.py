"""The live gallery listening to the layers below it: what they announce is pushed to the sockets
after the commit (gallery/events.py)."""

from __future__ import annotations

from animation import signals as animation_signals
from catalogue import signals as catalogue_signals
from contributions import signals as contribution_signals
from gallery import events, page_cache


def connect() -> None:
    from django.db.models.signals import post_delete, post_save

    from animation.selectors import animations_in_progress_count
    from catalogue.models import DialogueLine, DialogueRole, Event, Figure, Painting, Passage

    def on_event_progress(sender, *, event_id, **kwargs) -> None:
        events.broadcast_event_progress(event_id=event_id, in_progress=animations_in_progress_count(event_id=event_id))

    def on_animation_progress(sender, *, animation, stage, **kwargs) -> None:
        events.broadcast_recording_status(
            recording_id=animation.recording_id,
            payload={
                "recording_id": str(animation.recording_id),
                "animation_id": str(animation.id),
                "status": stage,
                "progress": round(animation.progress, 3),
            },
        )
        on_event_progress(sender, event_id=animation.event_id)

    def on_published(sender, *, animation, **kwargs) -> None:
        page_cache.pages_changed()
        events.broadcast_animation_published(animation)

    def on_removed(sender, *, animation_id, event_id, **kwargs) -> None:
        page_cache.pages_changed()
        events.broadcast_animation_removed(animation_id=animation_id, event_id=event_id)

    def on_catalogue_saved(sender, **kwargs) -> None:
        page_cache.pages_changed()

    def on_passage_changed(sender, *, passage, **kwargs) -> None:
        from gallery.services import passage_previews_outdated

        passage_previews_outdated(passage=passage)

    def on_painting_deleting(sender, *, painting_id, **kwargs) -> None:
        from gallery.services import painting_test_films_delete

        painting_test_films_delete(painting_id=painting_id)

    def on_queue_changed(sender, *, event_id, **kwargs) -> None:
        events.broadcast_queue_changed(event_id=event_id)

    for signal, receiver in (
        (animation_signals.event_progress_changed, on_event_progress),
        (animation_signals.animation_progress, on_animation_progress),
        (animation_signals.animation_published, on_published),
        (animation_signals.animation_removed, on_removed),
        (contribution_signals.moderation_queue_changed, on_queue_changed),
        (catalogue_signals.passage_needs_new_test_film, on_passage_changed),
        (catalogue_signals.painting_images_made, on_catalogue_saved),
        (catalogue_signals.painting_deleting, on_painting_deleting),
    ):
        signal.connect(receiver, weak=False, dispatch_uid=f"gallery.{receiver.__name__}")
    # What the public pages show of the catalogue: a saved festival, painting, passage or figure retires them.
    for model in (Event, Painting, Passage, Figure, DialogueRole, DialogueLine):
        for name, signal in (("saved", post_save), ("deleted", post_delete)):
            uid = f"gallery.pages.{model.__name__}.{name}"
            signal.connect(on_catalogue_saved, sender=model, weak=False, dispatch_uid=uid)
