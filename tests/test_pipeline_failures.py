"""What happens when things go wrong in the pipeline: a killed worker, a painting without a face."""

from __future__ import annotations

import time
from datetime import timedelta

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from animation import services as animation_services
from animation.models import Animation
from conftest import CHINESE_POEM
from contributions import services


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


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_render_whose_worker_was_killed_is_taken_back_by_the_sweeper_and_finished(
    festival, resident, moderator, settings
):
    from celery.contrib.testing.worker import start_worker

    from animation.tasks import animation_align
    from config.celery import app

    animation = approve_new_reading(festival, resident, moderator)
    animation_align(str(animation.id))  # the align stage, run here, enqueues the render
    # The worker that took the render message died: its message is gone with it, and it left its claim,
    # a stale timestamp and a half-written film in a scratch folder.
    with app.connection_for_write() as connection:
        for queue in ("default", "speech", "render"):
            connection.default_channel.queue_purge(queue)
    long_ago = timezone.now() - timedelta(minutes=20)
    Animation.objects.filter(id=animation.id).update(claimed_at=long_ago, updated_at=long_ago)
    scratch = animation_services.animation_folder(animation.id) / ".render-killed"
    scratch.mkdir(parents=True)
    (scratch / "film.mp4").write_bytes(b"\0" * 1000)

    with start_worker(app, queues=["default", "speech", "render"], perform_ping_check=False, pool="solo"):
        assert animation_services.animation_sweep_stuck() == [str(animation.id)]
        animation = wait_for(animation, {Animation.Status.PUBLISHED, Animation.Status.FAILED})

    assert animation.status == Animation.Status.PUBLISHED, animation.error
    assert animation.attempts == 1
    assert (settings.MEDIA_ROOT / animation.video.name).stat().st_size > 10_000
    assert not scratch.exists(), "the killed worker's half-written film was left on disk"
    # A second sweep finds nothing: the job is done, and nothing runs twice.
    assert animation_services.animation_sweep_stuck() == []


@pytest.mark.django_db(transaction=True)
def test_a_job_that_keeps_dying_fails_with_a_reason_instead_of_looping(festival, resident, moderator):
    animation = approve_new_reading(festival, resident, moderator)
    long_ago = timezone.now() - timedelta(minutes=20)
    Animation.objects.filter(id=animation.id).update(
        status=Animation.Status.RENDERING, claimed_at=long_ago, updated_at=long_ago, attempts=2
    )
    assert animation_services.animation_sweep_stuck() == []
    animation.refresh_from_db()
    assert animation.status == Animation.Status.FAILED
    assert "stopped several times" in animation.error


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
