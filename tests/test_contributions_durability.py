"""Nothing lost, nothing left behind: a reading survives a broker outage, and a withdrawal erases every
trace of the voice, even from work that finishes after it.

The outage is real: a redis-server of the test's own (bench/bench_faults_uploads.py's PrivateBroker) is
stopped while the resident uploads and started again, and a real Celery worker does the work afterwards.
"""

from __future__ import annotations

import contextlib
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from animation.models import Alignment, Animation
from contributions import services, tasks
from contributions.models import Consent, Recording
from testkit.media import ENGLISH_CLIP
from testkit.outages import PrivateBroker, outage_run


@pytest.fixture
def private_broker(tmp_path, settings):
    with PrivateBroker(tmp_path / "redis") as broker:
        layers = {**settings.CHANNEL_LAYERS["default"]}
        layers["CONFIG"] = {**layers["CONFIG"], "hosts": [{**layers["CONFIG"]["hosts"][0], "address": broker.url}]}
        settings.CHANNEL_LAYERS = {"default": layers}  # the live updates go through the same Redis
        yield broker


def post_reading(user, passage, clip: Path = ENGLISH_CLIP):
    client = APIClient()
    client.force_authenticate(user)
    with clip.open("rb") as handle:
        return client.post("/api/recordings/", {"passage": str(passage.id), "audio": handle}, format="multipart")


def sweep_later(seconds: float = 60):
    """The periodic sweep as it runs a while from now (past the grace left to the request's own hand-off)."""
    return services.recording_sweep(now=timezone.now() + timedelta(seconds=seconds))


def wait_until(condition, timeout: float = 180, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_reading_uploaded_while_redis_is_down_is_kept_and_transcribed_once_redis_is_back(
    festival, resident, private_broker
):
    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    private_broker.stop()
    response = post_reading(resident, festival["english"])

    # The resident is told the reading arrived: JSON, 201, not an HTML error page.
    assert response.status_code == 201, response.content
    assert response["Content-Type"].startswith("application/json")
    recording = Recording.objects.get(id=response.json()["id"])
    assert Recording.objects.count() == 1
    assert recording.status == Recording.Status.PENDING
    assert recording.handoff_sent_at is None
    # Its files are all there: a committed reading's audio is never deleted.
    assert default_storage.exists(recording.original.name)
    assert default_storage.exists(recording.speech_wav.name)

    # The sweep while the broker is still down: nothing sent, nothing lost.
    assert sweep_later()["unsent"] == 1
    recording.refresh_from_db()
    assert recording.handoff_sent_at is None and default_storage.exists(recording.original.name)

    private_broker.start()
    done = sweep_later()
    assert done["sent"] == 1, done
    recording.refresh_from_db()
    assert recording.handoff_sent_at is not None
    # Sent once: a second sweep right away leaves it to the worker.
    assert services.recording_sweep()["sent"] == 0

    app.conf.task_always_eager = False
    with start_worker(app, queues=["default", "speech"], perform_ping_check=False, pool="solo", shutdown_timeout=30):
        wait_until(
            lambda: (
                Recording.objects.filter(id=recording.id, transcribed_at__isnull=False).exclude(voice_wav="").exists()
            ),
            what="the transcript and the voice copy",
        )
    recording.refresh_from_db()
    assert "holidays" in recording.transcript.lower()
    assert recording.match_score > 0.6
    assert default_storage.exists(recording.voice_wav.name)
    assert Recording.objects.count() == 1


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_stopping_redis_during_uploads_and_approvals_loses_and_duplicates_nothing(
    festival, resident, moderator, private_broker, settings
):
    """The short form of `make bench BENCH=faults_uploads` (50 readings there)."""
    # The sweeps' waits, shortened as in the benchmark: a restarted Redis forgot messages it had taken,
    # which only time tells.
    settings.RECORDING_HANDOFF_GRACE_SECONDS = 1
    settings.RECORDING_HANDOFF_RESEND_SECONDS = 15
    settings.ANIMATION_ENQUEUE_GRACE_SECONDS = 1
    settings.ANIMATION_STUCK_AFTER_SECONDS = 15
    counts = outage_run(
        broker=private_broker,
        passage=festival["english"],
        resident=resident,
        moderator=moderator,
        clip=ENGLISH_CLIP,
        uploads=6,
        timeout=240,
    )
    assert counts["answered_201"] == 6 and counts["approved_200"] == 3, counts
    assert counts["answered_5xx"] == 0, counts
    assert counts["rows_kept"] == counts["rows_with_audio_files"] == counts["with_voice_copy"] == 6, counts
    assert counts["pending_transcribed"] == counts["pending"] == 3, counts
    assert counts["film_jobs_run_by_a_worker"] == 3, counts
    assert counts["lost"] == 0 and counts["duplicated"] == 0, counts


@pytest.mark.django_db(transaction=True)
def test_the_sweep_sends_again_a_message_the_broker_lost_but_never_one_a_worker_started(festival, resident):
    # The broker took the messages (handoff_sent_at set), then lost them: a Redis restarted without its data.
    recording = services.recording_submit(
        contributor=resident,
        passage=festival["english"],
        upload=SimpleUploadedFile("take.flac", ENGLISH_CLIP.read_bytes()),
    )
    # Whether the upload's own hand-off got through is the outage tests' business: here it did.
    Recording.objects.filter(id=recording.id).update(handoff_sent_at=timezone.now(), handoff_attempts=1)
    done = services.recording_sweep()
    assert done["sent"] == 0, done  # just sent: the worker has it
    resend = services.handoff_resend_seconds()
    done = sweep_later(resend + 1)
    assert done["sent"] == 1, done
    # A worker took the transcription a moment ago, long after the message was sent: left alone.
    long_ago = timezone.now() - timedelta(seconds=resend + 1)
    Recording.objects.filter(id=recording.id).update(handoff_sent_at=long_ago)
    assert services.recording_claim_transcription(recording_id=recording.id)
    assert not services.recording_claim_transcription(recording_id=recording.id)  # a duplicate finds it taken
    Recording.objects.filter(id=recording.id).update(voice_wav="recordings/x/voice48k.wav")
    done = services.recording_sweep()
    assert done["sent"] == 0, done
    # The same claim, as old as the message, is a worker that died: sent again, and taken over.
    done = sweep_later(resend + 1)
    assert done["sent"] == 1, done
    Recording.objects.filter(id=recording.id).update(transcribe_started_at=long_ago)
    assert services.recording_claim_transcription(recording_id=recording.id)


# ---------------------------------------------------------------------------------------------
# Withdrawal erases everything voice-derived, for good


def submit(resident, passage, clip: Path = ENGLISH_CLIP) -> Recording:
    upload = SimpleUploadedFile(clip.name, clip.read_bytes())
    return services.recording_submit(contributor=resident, passage=passage, upload=upload)


def stored_files(folder: str) -> list[str]:
    try:
        directories, files = default_storage.listdir(folder)
    except FileNotFoundError:
        return []
    nested = [f"{directory}/{name}" for directory in directories for name in stored_files(f"{folder}/{directory}")]
    return [*files, *nested]


def published_film(animation: Animation) -> Animation:
    """A finished film as the render leaves it: its files in storage, the row pointing at them."""
    names = {}
    for field, file_name in (("video", "film.mp4"), ("poster", "poster.jpg"), ("subtitles", "subtitles.vtt")):
        names[field] = default_storage.save(f"animations/{animation.id}/{file_name}", ContentFile(b"film bytes"))
    Animation.objects.filter(id=animation.id).update(
        status=Animation.Status.PUBLISHED, progress=1.0, published_at=timezone.now(), **names
    )
    animation.refresh_from_db()
    return animation


def assert_voice_erased(recording_id, animation_ids=()) -> None:
    recording = Recording.objects.get(id=recording_id)
    assert recording.status == Recording.Status.WITHDRAWN
    assert (recording.original.name, recording.speech_wav.name, recording.voice_wav.name) == ("", "", "")
    assert recording.transcript == "" and recording.transcript_language == ""
    assert recording.match_score is None and recording.transcribed_at is None
    assert recording.audio_stats == {} and recording.duration_seconds == 0
    assert recording.erased_at is not None
    assert stored_files(f"recordings/{recording_id}") == []
    assert not Alignment.objects.filter(recording_id=recording_id).exists()
    for animation in Animation.objects.filter(id__in=animation_ids):
        assert animation.status == Animation.Status.REMOVED
        assert (animation.video.name, animation.poster.name, animation.subtitles.name) == ("", "", "")
        assert stored_files(f"animations/{animation.id}") == []


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_withdrawing_erases_the_voice_its_copies_transcript_figures_alignment_and_films(festival, resident, moderator):
    from animation.tasks import animation_align

    recording = submit(resident, festival["english"])
    tasks.recording_transcribe(str(recording.id))
    tasks.recording_prepare_voice(str(recording.id))
    services.recording_approve(recording=recording, moderator=moderator)
    animation = Animation.objects.get(recording=recording)
    animation_align(str(animation.id))
    animation = published_film(animation)
    recording.refresh_from_db()
    # Everything the voice left behind is there before the withdrawal.
    assert recording.transcript and recording.match_score is not None and recording.audio_stats
    assert {"speech16k.wav", "voice48k.wav"} <= set(stored_files(f"recordings/{recording.id}"))
    assert Alignment.objects.filter(recording=recording).exists()
    assert len(stored_files(f"animations/{animation.id}")) >= 3

    client = APIClient()
    client.force_authenticate(resident)
    assert client.delete(f"/api/recordings/{recording.id}/").status_code == 204

    assert_voice_erased(recording.id, [animation.id])
    # A second withdrawal (a retried request) changes nothing and fails nothing.
    services.recording_withdraw(recording=recording)
    assert_voice_erased(recording.id, [animation.id])


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_transcription_and_a_voice_copy_finishing_after_the_withdrawal_write_nothing_back(
    festival, resident, monkeypatch
):
    from animation.engine import align, audio

    recording = submit(resident, festival["english"])
    real_transcribe, real_convert = align.transcribe, audio.convert_for_voice

    def withdrawn_while_transcribing(*args, **kwargs):
        services.recording_withdraw(recording=recording)  # the resident withdraws mid-way
        return real_transcribe(*args, **kwargs)

    monkeypatch.setattr(align, "transcribe", withdrawn_while_transcribing)
    tasks.recording_transcribe(str(recording.id))
    assert_voice_erased(recording.id)

    second = submit(resident, festival["english"])

    def withdrawn_while_converting(*args, **kwargs):
        services.recording_withdraw(recording=second)
        return real_convert(*args, **kwargs)

    monkeypatch.setattr(audio, "convert_for_voice", withdrawn_while_converting)
    tasks.recording_prepare_voice(str(second.id))
    assert_voice_erased(second.id)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_an_alignment_finishing_after_the_withdrawal_leaves_no_alignment(festival, resident, moderator, monkeypatch):
    from animation.engine import align
    from animation.tasks import animation_align

    recording = submit(resident, festival["english"])
    services.recording_approve(recording=recording, moderator=moderator)
    animation = Animation.objects.get(recording=recording)
    real_align = align.align_text

    def withdrawn_while_aligning(*args, **kwargs):
        services.recording_withdraw(recording=recording)
        return real_align(*args, **kwargs)

    monkeypatch.setattr(align, "align_text", withdrawn_while_aligning)
    with contextlib.suppress(Exception):  # a task may stop with an error here: what it wrote is what counts
        animation_align(str(animation.id))
    assert_voice_erased(recording.id, [animation.id])


@pytest.mark.django_db(transaction=True)
def test_an_interrupted_consent_withdrawal_is_finished_by_the_sweep(festival, resident):
    first, second = submit(resident, festival["english"]), submit(resident, festival["english"])
    # The withdrawal died after marking the consent (a killed web process): the recordings are still there.
    Consent.objects.filter(user=resident).update(withdrawn_at=timezone.now())
    # And another one died after its first UPDATE: withdrawn, but nothing erased yet.
    Recording.objects.filter(id=second.id).update(status=Recording.Status.WITHDRAWN)
    assert default_storage.exists(first.original.name) and default_storage.exists(second.original.name)

    done = services.recording_sweep()
    assert done["withdrawn"] == 1 and done["erased"] >= 1, done
    assert_voice_erased(first.id)
    assert_voice_erased(second.id)
    assert services.recording_sweep() == {"sent": 0, "unsent": 0, "withdrawn": 0, "erased": 0, "rejected_erased": 0}
    # Running the withdrawal again is harmless too.
    assert services.consent_withdraw(user=resident) == 0


@pytest.mark.django_db(transaction=True)
def test_an_upload_racing_with_a_consent_withdrawal_is_not_kept(festival, resident, monkeypatch):
    from animation.engine import audio

    real_measure = audio.measure_audio

    def withdrawn_while_checking(*args, **kwargs):
        services.consent_withdraw(user=resident)  # in another tab, while the upload is being checked
        return real_measure(*args, **kwargs)

    monkeypatch.setattr(audio, "measure_audio", withdrawn_while_checking)
    response = post_reading(resident, festival["english"])
    assert response.status_code == 403, response.content
    assert response.json()["code"] == "consent_required"
    assert Recording.objects.count() == 0
    assert stored_files("recordings") == []


def test_beat_runs_the_recording_sweep_every_minute():
    from config.celery import app

    app.loader.import_default_modules()  # what a worker or beat does at start: registers every task
    entry = next(entry for entry in app.conf.beat_schedule.values() if entry["task"].endswith("recording_sweep"))
    assert entry["task"] in app.tasks
    assert float(entry["schedule"]) <= 60


@pytest.mark.django_db
def test_a_rejected_readings_voice_is_erased_after_its_retention_and_cannot_be_reversed(
    festival, resident, moderator, settings
):
    from django.contrib.auth.models import Group

    from core import storage

    settings.RECORDING_REJECTED_RETENTION_DAYS = 30

    def submit_reading():
        upload = SimpleUploadedFile("take.flac", ENGLISH_CLIP.read_bytes())
        return services.recording_submit(contributor=resident, passage=festival["english"], upload=upload)

    old = submit_reading()
    recent = submit_reading()
    for recording in (old, recent):
        services.recording_reject(recording=recording, moderator=moderator, reason="noise")
    Recording.objects.filter(id=old.id).update(updated_at=timezone.now() - timedelta(days=31))
    old_files = storage.list_names(services.recording_folder_name(old.id))
    assert old_files

    assert services.recording_sweep()["rejected_erased"] == 1
    old.refresh_from_db()
    assert old.status == Recording.Status.REJECTED and old.erased_at is not None
    assert not old.original and not old.speech_wav and old.transcript == "" and old.audio_stats == {}
    assert storage.list_names(services.recording_folder_name(old.id)) == []
    recent.refresh_from_db()
    assert recent.erased_at is None and storage.exists(recent.original.name)
    assert services.recording_sweep()["rejected_erased"] == 0  # once

    # A curator can no longer approve a reading whose voice is gone; the audit row stays.
    curator = moderator
    curator.groups.add(Group.objects.get_or_create(name="curators")[0])
    old.passage.event.curators.add(curator)
    rejection = old.decisions.get(verdict="reject")
    from django.utils import translation

    with translation.override("en"), pytest.raises(services.InvalidTransition, match="deleted"):
        services.decision_reverse(decision=rejection, curator=curator)
    old.refresh_from_db()
    assert old.status == Recording.Status.REJECTED
