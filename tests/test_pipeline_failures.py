"""What happens when things go wrong in the pipeline: dead workers, lost messages, duplicates, no face.

The killed-worker runs with real separate worker processes (SIGKILL, SIGTERM) are in
tests/test_render_faults.py; here the sweeper's rules are pinned down at their boundaries.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from animation import services as animation_services
from animation.models import Animation
from contributions import services
from testkit.media import CHINESE_POEM


def approve_new_reading(festival, resident, moderator) -> Animation:
    upload = SimpleUploadedFile("take.flac", CHINESE_POEM.read_bytes())
    recording = services.recording_submit(contributor=resident, passage=festival["chinese"], upload=upload)
    services.recording_approve(recording=recording, moderator=moderator)
    return Animation.objects.get(recording=recording)


def wait_for(animation: Animation, statuses: set[str], timeout: float = 120) -> Animation:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        animation.refresh_from_db()
        if animation.status in statuses:
            return animation
        time.sleep(0.2)
    raise AssertionError(f"animation stayed {animation.status} ({animation.error})")


def rendering_claimed(animation: Animation, *, heartbeat_at, claimed_at=None, attempts: int = 0) -> Animation:
    """The row as a render worker leaves it while it holds the job."""
    Animation.objects.filter(id=animation.id).update(
        status=Animation.Status.RENDERING,
        claimed_at=claimed_at or heartbeat_at,
        heartbeat_at=heartbeat_at,
        claim_token="a" * 32,
        attempts=attempts,
        enqueued_at=None,
    )
    animation.refresh_from_db()
    return animation


@pytest.mark.django_db(transaction=True)
def test_the_sweeper_takes_a_claim_back_only_once_its_heartbeat_is_older_than_the_timeout(
    festival, resident, moderator, settings
):
    settings.ANIMATION_HEARTBEAT_TIMEOUT_SECONDS = 45
    animation = approve_new_reading(festival, resident, moderator)
    beat = timezone.now()
    rendering_claimed(animation, heartbeat_at=beat, claimed_at=beat - timedelta(hours=3))

    # Exactly at the limit the worker still counts as alive; a microsecond later it does not.
    assert animation_services.animation_sweep_stuck(now=beat + timedelta(seconds=45)) == []
    animation.refresh_from_db()
    assert (animation.claim_token, animation.attempts) == ("a" * 32, 0)

    assert animation_services.animation_sweep_stuck(now=beat + timedelta(seconds=45, microseconds=1)) == [
        str(animation.id)
    ]
    animation.refresh_from_db()
    assert animation.status == Animation.Status.RENDERING
    assert animation.claimed_at is None and animation.claim_token == ""
    assert animation.attempts == 1
    assert animation.enqueued_at is not None, "the render was not sent again to the broker"


@pytest.mark.django_db(transaction=True)
def test_a_job_waiting_in_a_long_queue_is_never_charged_an_attempt(festival, resident, moderator, settings):
    settings.ANIMATION_STUCK_AFTER_SECONDS = 900
    animation = approve_new_reading(festival, resident, moderator)
    animation.refresh_from_db()
    assert animation.enqueued_at is not None, "approval did not record that the broker took the message"
    sent = timezone.now()
    # Three hours in a long queue, swept every 30 s: the message is sent again every 15 minutes (a broker
    # that lost its queue), the job is never charged and never failed.
    resent = 0
    for half_minutes in range(1, 360):
        now = sent + timedelta(seconds=30 * half_minutes)
        if animation_services.animation_sweep_stuck(now=now):
            resent += 1
            # The broker took it at the sweep's (simulated) time.
            Animation.objects.filter(id=animation.id).update(enqueued_at=now)
    animation.refresh_from_db()
    assert animation.status == Animation.Status.QUEUED
    assert animation.attempts == 0
    assert resent == 11  # after 15.5, 31, ... 170.5 minutes


@pytest.mark.django_db(transaction=True)
def test_a_stage_the_broker_never_took_is_sent_by_the_sweeper_without_charge(festival, resident, moderator):
    animation = approve_new_reading(festival, resident, moderator)
    # As left by an approval while the broker was down: committed, but no message.
    Animation.objects.filter(id=animation.id).update(enqueued_at=None)
    now = timezone.now()
    assert animation_services.animation_sweep_stuck(now=now) == []  # within the grace of the hand-off
    assert animation_services.animation_sweep_stuck(now=now + timedelta(seconds=30)) == [str(animation.id)]
    animation.refresh_from_db()
    assert animation.enqueued_at is not None and animation.attempts == 0


@pytest.mark.django_db(transaction=True)
def test_the_align_to_render_hand_off_restarts_the_clocks(festival, resident, moderator):
    from animation.tasks import animation_align

    animation = approve_new_reading(festival, resident, moderator)
    long_ago = timezone.now() - timedelta(hours=1)
    Animation.objects.filter(id=animation.id).update(updated_at=long_ago, created_at=long_ago)
    animation_align(str(animation.id))
    animation.refresh_from_db()
    assert animation.status == Animation.Status.RENDERING
    assert animation.updated_at > timezone.now() - timedelta(minutes=1)
    assert animation.enqueued_at is not None and animation.claimed_at is None and animation.heartbeat_at is None
    assert animation_services.animation_sweep_stuck() == []


@pytest.mark.django_db(transaction=True)
def test_a_task_delivered_twice_at_once_is_claimed_by_exactly_one_worker(festival, resident, moderator):
    animation = approve_new_reading(festival, resident, moderator)
    Animation.objects.filter(id=animation.id).update(status=Animation.Status.RENDERING)
    tokens: list[str | None] = []
    start = threading.Barrier(6)

    def deliver() -> None:
        from django.db import connection

        start.wait()
        try:
            tokens.append(animation_services.animation_claim(animation_id=animation.id, status="rendering"))
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [token for token in tokens if token]
    assert len(tokens) == 6 and len(winners) == 1
    animation.refresh_from_db()
    assert animation.claim_token == winners[0]
    # A late duplicate of a finished job does nothing either.
    assert animation_services.animation_heartbeat(animation_id=animation.id, token="b" * 32) is False


@pytest.mark.django_db(transaction=True)
def test_a_job_that_keeps_dying_fails_with_a_reason_instead_of_looping(festival, resident, moderator):
    animation = approve_new_reading(festival, resident, moderator)
    rendering_claimed(animation, heartbeat_at=timezone.now() - timedelta(minutes=20), attempts=2)
    assert animation_services.animation_sweep_stuck() == []
    animation.refresh_from_db()
    assert animation.status == Animation.Status.FAILED
    assert "stopped several times" in animation.error


def test_the_beat_schedule_sweeps_often_enough_to_retake_a_dead_render_within_two_minutes():
    from django.conf import settings

    from config.celery import app

    app.loader.import_default_modules()
    entry = app.conf.beat_schedule["requeue-stuck-animations"]
    assert entry["task"] in app.tasks, "the beat entry names a task no worker knows"
    interval = float(entry["schedule"])
    # A killed worker's last heartbeat is at most one beat old; it is stale after the timeout and seen by
    # the next sweep: this is the worst case before the render is sent again.
    worst_case = settings.ANIMATION_HEARTBEAT_SECONDS + settings.ANIMATION_HEARTBEAT_TIMEOUT_SECONDS + interval
    assert worst_case <= 90, worst_case
    assert settings.ANIMATION_HEARTBEAT_TIMEOUT_SECONDS >= 3 * settings.ANIMATION_HEARTBEAT_SECONDS


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_healthy_long_render_keeps_its_claim_while_the_sweeper_runs(
    festival, resident, moderator, settings, celery_worker
):
    # A timeout far shorter than the render: only the heartbeat keeps the claim alive.
    settings.ANIMATION_HEARTBEAT_SECONDS = 0.2
    settings.ANIMATION_HEARTBEAT_TIMEOUT_SECONDS = 1
    animation = approve_new_reading(festival, resident, moderator)
    sweeps_while_rendering = 0
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        animation.refresh_from_db()
        if animation.status in (Animation.Status.PUBLISHED, Animation.Status.FAILED):
            break
        if animation.status == Animation.Status.RENDERING and animation.claimed_at:
            # The render's progress writes are throttled; backdate the claim so only the heartbeat counts.
            Animation.objects.filter(id=animation.id).update(claimed_at=timezone.now() - timedelta(hours=1))
            sweeps_while_rendering += 1
        assert animation_services.animation_sweep_stuck() == []
        time.sleep(0.3)
    assert animation.status == Animation.Status.PUBLISHED, animation.error
    assert sweeps_while_rendering >= 3, "the render finished before the sweeper could look at it"
    assert animation.attempts == 0


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_painting_without_a_face_fails_the_film_with_a_reason_the_resident_reads(
    tmp_path, festival, resident, moderator, celery_worker
):
    from django.core.files import File
    from django.test import Client

    painting = festival["painting"]
    blank = tmp_path / "landscape.png"
    rows = np.linspace(60, 200, 480, dtype=np.uint8)[:, None, None].repeat(640, 1).repeat(3, 2)
    Image.fromarray(rows).save(blank)
    with blank.open("rb") as handle:
        painting.image.save("landscape.png", File(handle))

    animation = wait_for(
        approve_new_reading(festival, resident, moderator), {Animation.Status.PUBLISHED, Animation.Status.FAILED}
    )
    assert animation.status == Animation.Status.FAILED
    assert "no face found" in animation.error
    assert not animation.video
    client = Client()
    client.force_login(resident)
    assert "no face found" in client.get("/me/recordings/").content.decode()
