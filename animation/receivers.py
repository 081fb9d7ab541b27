"""The animation layer listening to contributions (contributions/signals.py): approvals make films,
taken-back approvals and withdrawals take them down, film decisions are carried out here."""

from __future__ import annotations

from contributions import signals as contribution_signals


def connect() -> None:
    from animation import services

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

    def on_approval_taken_back(sender, *, recording, **kwargs) -> None:
        services.animation_remove_for_recording(recording=recording, delete_files=True)
        if recording.role_id:
            # Another approved reading of that role, if there is one, speaks the dialogue instead.
            services.dialogue_film_request(passage=recording.passage)

    def on_erasing(sender, *, recording, **kwargs) -> None:
        services.recording_films_erase(recording=recording)
        if recording.role_id:
            services.dialogue_film_request(passage=recording.passage)

    def on_film_undone(sender, *, decision, **kwargs) -> None:
        services.film_decision_undo(decision=decision)

    def on_film_reversed(sender, *, decision, to_reject, reason, note, **kwargs) -> None:
        services.film_decision_reverse(decision=decision, to_reject=to_reject, reason=reason, note=note)

    for signal, receiver in (
        (contribution_signals.recording_received, on_received),
        (contribution_signals.recording_approved, on_approved),
        (contribution_signals.recording_approval_taken_back, on_approval_taken_back),
        (contribution_signals.recording_erasing, on_erasing),
        (contribution_signals.film_decision_undone, on_film_undone),
        (contribution_signals.film_decision_reversed, on_film_reversed),
    ):
        signal.connect(receiver, weak=False, dispatch_uid=f"animation.{receiver.__name__}")
