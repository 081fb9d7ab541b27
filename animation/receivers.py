"""The animation layer listening to contributions (contributions/signals.py): approvals make films,
taken-back approvals and withdrawals take them down, film decisions are carried out here. A reading's
film is made ahead while it waits for review (services.animation_prepare_before_approval); a rejection
deletes it, and so does a change to its passage (catalogue/signals.py)."""

from __future__ import annotations

from catalogue import signals as catalogue_signals
from contributions import selectors as contribution_selectors
from contributions import signals as contribution_signals


def connect() -> None:
    from animation import datasets, services
    from animation.models import Animation

    # A reader's own pages and API list their films, but not one made before the approval: not theirs yet.
    contribution_selectors.films_shown_to_readers_register(
        lambda: Animation.objects.exclude(status__in=Animation.BEFORE_APPROVAL)
    )

    def aligned_units(recording) -> list[dict] | None:
        from animation.models import Alignment

        alignment = Alignment.objects.filter(recording=recording).only("units", "text").first()
        # An alignment of an older text of the passage says nothing about this one.
        if alignment is None or (alignment.text and alignment.text != recording.text_to_read):
            return None
        return list(alignment.units)

    # The moderation console shows how sure the alignment is of each unit (issue 24).
    contribution_selectors.unit_confidence_register(aligned_units)

    def on_received(sender, *, recording_id, **kwargs) -> None:
        from animation import tasks

        # Raises with the broker down: the hand-off stays unsent and recording_sweep sends it all again.
        tasks.recording_align_early.apply_async((str(recording_id),), retry=False)

    def on_approved(sender, *, recording, **kwargs) -> None:
        if recording.role_id:
            # One role of a dialogue: the film waits for every role (dialogue_film_request says when).
            services.dialogue_film_request(passage=recording.passage, reading=recording)
        else:
            services.animation_start(recording=recording)

    def on_prepared(sender, *, recording_id, **kwargs) -> None:
        # The voice copy or a camera reading's curves were kept: the film may start if all is there.
        services.animation_prepare_before_approval(recording_id=recording_id)

    def on_rejected(sender, *, recording, **kwargs) -> None:
        services.films_before_approval_discard(recording=recording)

    def on_passage_changed(sender, *, passage, **kwargs) -> None:
        # Films made ahead of the approval show the passage as it was: the approval makes them again.
        services.films_before_approval_discard(passage=passage)

    def on_approval_taken_back(sender, *, recording, **kwargs) -> None:
        services.animation_remove_for_recording(recording=recording, delete_files=True)
        if recording.role_id:
            # Another approved reading of that role, if there is one, speaks the dialogue instead.
            services.dialogue_film_request(passage=recording.passage)

    def on_erasing(sender, *, recording, **kwargs) -> None:
        services.recording_films_erase(recording=recording)
        if recording.role_id:
            services.dialogue_film_request(passage=recording.passage)

    def on_open_dataset_reading_gone(sender, *, recording=None, recording_id=None, **kwargs) -> None:
        # Withdrawn, taken out of the open dataset or its approval taken back: no stored release keeps it.
        datasets.dataset_releases_retire_holding(recording_id=recording.id if recording else recording_id)

    def on_film_undone(sender, *, decision, **kwargs) -> None:
        services.film_decision_undo(decision=decision)

    def on_film_reversed(sender, *, decision, to_reject, reason, note, **kwargs) -> None:
        services.film_decision_reverse(decision=decision, to_reject=to_reject, reason=reason, note=note)

    for signal, receiver in (
        (contribution_signals.recording_received, on_received),
        (contribution_signals.recording_approved, on_approved),
        (contribution_signals.recording_prepared, on_prepared),
        (contribution_signals.recording_rejected, on_rejected),
        (catalogue_signals.passage_needs_new_test_film, on_passage_changed),
        (contribution_signals.recording_approval_taken_back, on_approval_taken_back),
        (contribution_signals.recording_erasing, on_erasing),
        (contribution_signals.film_decision_undone, on_film_undone),
        (contribution_signals.film_decision_reversed, on_film_reversed),
        (contribution_signals.recording_erasing, on_open_dataset_reading_gone),
        (contribution_signals.recording_approval_taken_back, on_open_dataset_reading_gone),
        (contribution_signals.recording_left_open_dataset, on_open_dataset_reading_gone),
    ):
        signal.connect(receiver, weak=False, dispatch_uid=f"animation.{receiver.__name__}")
