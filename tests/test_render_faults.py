"""A render worker that really dies: separate `celery worker` processes, killed with SIGKILL mid-film or
stopped with SIGTERM; the heartbeat sweeper driven by a real `celery beat`. The film is published exactly
once, well within two minutes of the kill, with no orphan files and no duplicate rows.
"""

from __future__ import annotations

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from testkit import cluster
from testkit.media import CHINESE_POEM

# Short clocks so the test takes seconds, not minutes: the same code as the production defaults.
HEARTBEAT = {
    "ANIMATION_HEARTBEAT_SECONDS": "0.5",
    "ANIMATION_HEARTBEAT_TIMEOUT_SECONDS": "4",
    "ANIMATION_SWEEP_SECONDS": "1",
}


@pytest.fixture
def platform_processes(transactional_db, settings, tmp_path):
    from django.db import connection

    from config.celery import app

    with app.connection_for_write() as broker:
        for queue in ("default", "speech", "render"):
            broker.default_channel.queue_purge(queue)
    scratch = tmp_path / "render-host-scratch"
    environment = cluster.process_environment(
        database_url=cluster.database_url_of(connection.settings_dict),
        media_root=settings.MEDIA_ROOT,
        extra={**HEARTBEAT, "WORKER_SCRATCH_DIR": str(scratch), "SHUOHUA_VAR_DIR": str(tmp_path / "var")},
    )
    started: list[cluster.PlatformProcess] = []

    def start_render_worker(name: str) -> cluster.PlatformProcess:
        worker = cluster.celery_worker(name, "render", environment, tmp_path / "logs")
        started.append(worker)
        return worker

    speech_environment = {**environment, "WORKER_SCRATCH_DIR": str(tmp_path / "speech-host-scratch")}
    started.append(cluster.celery_worker("speech", "speech,default", speech_environment, tmp_path / "logs"))
    started.append(cluster.celery_beat(environment, tmp_path / "beat"))
    try:
        yield {"start_render_worker": start_render_worker, "scratch": scratch, "processes": started}
    finally:
        for process in started:
            process.stop(grace=5)


def approve_new_reading(festival, resident, moderator):
    from animation.models import Animation
    from contributions import services

    upload = SimpleUploadedFile("take.flac", CHINESE_POEM.read_bytes())
    recording = services.recording_submit(contributor=resident, passage=festival["chinese"], upload=upload)
    services.recording_approve(recording=recording, moderator=moderator)
    return Animation.objects.get(recording=recording)


def mid_render(animation):
    from animation.models import Animation

    animation.refresh_from_db()
    assert animation.status not in (Animation.Status.FAILED, Animation.Status.PUBLISHED), animation.error
    return animation.status == Animation.Status.RENDERING and animation.claimed_at and animation.progress >= 0.45


def stored_files(prefix: str) -> list[str]:
    from core import storage

    return sorted(name.rsplit("/", 1)[1] for name in storage.list_names(prefix))


def assert_published_once(animation, listener) -> None:
    from animation.models import Alignment, Animation

    animation.refresh_from_db()
    assert animation.status == Animation.Status.PUBLISHED, animation.error
    assert listener.published_ids().count(str(animation.id)) == 1, listener.published_ids()
    assert Animation.objects.filter(recording_id=animation.recording_id).count() == 1
    assert Alignment.objects.filter(recording_id=animation.recording_id).count() == 1
    assert stored_files(f"animations/{animation.id}") == ["curves.json", "film.mp4", "poster.jpg", "subtitles.vtt"]
    assert animation.video.size > 10_000


@pytest.mark.slow
def test_a_render_worker_killed_mid_film_is_replaced_and_the_film_is_published_once(
    festival, resident, moderator, platform_processes
):
    from animation.models import Animation

    listener = cluster.EventListener(f"event.{festival['event'].id}")
    try:
        first = platform_processes["start_render_worker"]("render-a")
        animation = approve_new_reading(festival, resident, moderator)
        cluster.wait_until(lambda: mid_render(animation), timeout=240, interval=0.1, what="the render to be underway")
        held_by, progress_at_kill = animation.worker, animation.progress
        first.kill_hard()
        killed_at = time.monotonic()
        # The service manager starts a new worker on the same host; the dead one's message is still
        # unacknowledged in the broker (visibility timeout: hours): only the heartbeat sweeper can help.
        platform_processes["start_render_worker"]("render-b")
        cluster.wait_until(
            lambda: Animation.objects.filter(id=animation.id, status__in=("published", "failed")).exists(),
            timeout=180,
            what="the film after the kill",
        )
        seconds_after_kill = time.monotonic() - killed_at
        # The publication travels after the commit; then a grace period in which a duplicate would show.
        cluster.wait_until(lambda: listener.published_ids(), timeout=30, what="the publication message")
        time.sleep(cluster.GRACE_SECONDS)
        assert_published_once(animation, listener)
        animation.refresh_from_db()
        assert animation.attempts == 1, "the dead worker's attempt was not charged exactly once"
        assert held_by and animation.worker != held_by
        assert seconds_after_kill < 120, seconds_after_kill
        leftovers = list(platform_processes["scratch"].rglob("*")) if platform_processes["scratch"].exists() else []
        assert [p for p in leftovers if p.name != "shuohua-scratch"] == [], "the killed render's scratch was left"
        print(
            f"killed mid-render at progress {progress_at_kill:.2f}; published {seconds_after_kill:.1f} s after the kill"
        )
    finally:
        listener.close()


@pytest.mark.slow
def test_a_render_worker_stopped_with_sigterm_finishes_the_film_before_it_exits(
    festival, resident, moderator, platform_processes
):
    from animation.models import Animation

    listener = cluster.EventListener(f"event.{festival['event'].id}")
    try:
        worker = platform_processes["start_render_worker"]("render-a")
        animation = approve_new_reading(festival, resident, moderator)
        cluster.wait_until(lambda: mid_render(animation), timeout=240, interval=0.1, what="the render to be underway")
        worker.terminate()  # warm shutdown: the running film is finished and acknowledged, nothing new taken
        cluster.wait_until(
            lambda: Animation.objects.filter(id=animation.id, status__in=("published", "failed")).exists(),
            timeout=180,
            what="the film after SIGTERM",
        )
        cluster.wait_until(lambda: not worker.alive(), timeout=60, what="the worker to exit")
        assert worker.process.returncode == 0, worker.log_tail()
        cluster.wait_until(lambda: listener.published_ids(), timeout=30, what="the publication message")
        time.sleep(cluster.GRACE_SECONDS)  # a duplicate would arrive within it
        assert_published_once(animation, listener)
        animation.refresh_from_db()
        assert animation.attempts == 0
    finally:
        listener.close()


@pytest.mark.slow
def test_a_reading_withdrawn_while_its_film_renders_leaves_no_file_in_storage(
    festival, resident, moderator, platform_processes
):
    """The withdrawal erases the film's folder at once, while the worker is still rendering in its
    scratch folder; the worker then stores its files into the erased folder. They must go too."""
    from animation.models import Animation
    from contributions import services as contribution_services

    platform_processes["start_render_worker"]("render-a")
    animation = approve_new_reading(festival, resident, moderator)
    cluster.wait_until(lambda: mid_render(animation), timeout=240, interval=0.1, what="the render to be underway")
    contribution_services.recording_withdraw(recording=animation.recording)
    scratch = platform_processes["scratch"] / "shuohua-scratch"
    cluster.wait_until(
        lambda: not list(scratch.glob(f"render-{animation.id}-*")),
        timeout=180,
        interval=0.2,
        what="the worker to finish the withdrawn film's render",
    )
    time.sleep(1)  # the worker deletes right after its conditional record refused the film
    animation.refresh_from_db()
    assert animation.status == Animation.Status.REMOVED
    assert stored_files(f"animations/{animation.id}") == []
    assert not animation.video.name and not animation.curves.name
