"""A reading withdrawn while its film renders, made with the real render task in this process.

The render task (animation.tasks.animation_render) runs for real on the reading's voice; at its first
progress report of a frame the reader withdraws (contributions.services.recording_withdraw), as a
resident pressing "withdraw" in the middle of the render would. The erasure deletes the film's folder
then; the render goes on in its scratch folder, stores its files, finds its record refused and must
delete them. Used by the access matrix (tests/test_access_matrix.py) and bench/bench_trust.py.
"""

from __future__ import annotations

from unittest import mock


def approved_reading_with_alignment(passage, contributor, moderator=None):
    """CONTRIBUTOR's reading of PASSAGE through the real upload checks, its 48 kHz voice copy made and an
    alignment given (no Whisper: the withdrawal, not the words, is what is tried)."""
    from animation.models import Alignment
    from contributions.tasks import recording_prepare_voice
    from core.speech_models import whisper_model_for
    from testkit.roles import submit

    recording = submit(passage, contributor)
    recording_prepare_voice(str(recording.id))
    Alignment.objects.create(
        recording=recording,
        text=recording.text_to_read,
        language=passage.language,
        model_name=whisper_model_for(passage.language),
        units=[{"text": recording.text_to_read[:1], "start": 0.1, "end": 0.4}],
        phrases=[],
        webvtt=f"WEBVTT\n\n00:00.100 --> 00:00.400\n{recording.text_to_read[:1]}\n",
    )
    recording.refresh_from_db()
    return recording


def render_withdrawn_mid_way(recording, event):
    """Render RECORDING's film (status rendering, as after an approval) and withdraw the reading at the
    render's first frame. Returns the Animation, refreshed. Raises AssertionError if the render never
    reported a frame (the withdrawal would then not have been mid-render)."""
    from animation import services as animation_services
    from animation import tasks as animation_tasks
    from animation.models import Animation
    from contributions import services

    film = Animation.objects.create(recording=recording, event=event, status=Animation.Status.RENDERING)
    withdrawn = []

    class WithdrawnMidRender(animation_services.ProgressReporter):
        def __call__(self, stage: str, fraction: float) -> None:
            if fraction > 0 and not withdrawn:
                withdrawn.append(stage)
                recording.refresh_from_db()
                services.recording_withdraw(recording=recording)
            super().__call__(stage, fraction)

    with mock.patch.object(animation_services, "ProgressReporter", WithdrawnMidRender):
        animation_tasks.animation_render(str(film.id))
    film.refresh_from_db()
    assert withdrawn, f"the render reported no frame ({film.status}: {film.error})"
    return film
