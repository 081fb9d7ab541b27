"""Outages of the broker during uploads and approvals: a private Redis to stop and start, and the run
that counts what was lost or duplicated (tests/test_contributions_durability.py, bench/bench_faults_uploads.py)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESEND_SECONDS = 20


class PrivateBroker:
    """A redis-server of our own on a fixed port, which can be stopped and started again, with the Celery
    app pointed at it for as long as the `with` block lasts (the channel layer is the caller's part)."""

    def __init__(self, workdir: Path) -> None:
        import importlib.util

        # platform/ is not a package on purpose (it would shadow the standard library's `platform`).
        spec = importlib.util.spec_from_file_location("embedded_redis", REPO / "platform" / "embedded_redis.py")
        self.redis = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(self.redis)
        self.workdir = workdir
        self.port = self.redis.free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self) -> None:
        """Start redis-server on the same port again. Not through embedded_redis.start(): its free-port
        probe binds without SO_REUSEADDR, which fails while the old server's connections sit in TIME_WAIT."""
        import subprocess

        self.workdir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [self.redis.redis_server_executable(), "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir), "--loglevel", "warning"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 20
        while not self.redis.answers("127.0.0.1", self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.process.kill()
                raise RuntimeError(f"redis-server did not start again on port {self.port}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None
        assert not self.redis.answers("127.0.0.1", self.port)

    def __enter__(self) -> PrivateBroker:
        from config.celery import app

        self.previous_url = app.conf.broker_url
        self.start()
        self._point_at(self.url)
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()
        self._point_at(self.previous_url)

    @staticmethod
    def _point_at(url: str) -> None:
        from config.celery import app

        app.conf.broker_url = url
        # Separate read/write URLs, if anything set them, would still lead to the old broker.
        app.conf.broker_write_url = None
        app.conf.broker_read_url = None
        # The app caches its connection and producer pools; drop them so the next publish dials URL. The
        # pools themselves are kombu's, shared by URL: left open, so the suite's own is intact afterwards.
        app._after_fork()


def progress(line: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {line}", file=sys.stderr, flush=True)


def outage_run(*, broker: PrivateBroker, passage, resident, moderator, clip: Path, uploads: int, timeout: float = 600):
    """Upload UPLOADS readings (approving every second one) with Redis stopped for the middle third, then
    wait until the sweeps and the worker have caught up. Returns the counts (see the module docstring)."""
    from celery.contrib.testing.worker import start_worker
    from django.core.files.storage import default_storage
    from django.db.models import Count
    from rest_framework.test import APIClient

    from animation import services as animation_services
    from animation.models import Alignment, Animation
    from config.celery import app
    from contributions import services
    from contributions.models import ModerationDecision, Recording

    passage.event.moderators.add(moderator)  # only assigned moderators review an event
    residents, moderators = APIClient(), APIClient()
    residents.force_authenticate(resident)
    moderators.force_authenticate(moderator)
    down_at, up_at = uploads // 3, 2 * uploads // 3
    counts = {
        "uploads": uploads,
        "answered_201": 0,
        "answered_5xx": 0,
        "answered_other": 0,
        "approvals": 0,
        "approved_200": 0,
    }
    approved_ids: list[str] = []
    app.conf.task_always_eager = False
    started = time.monotonic()
    worker = start_worker(
        app, queues=["default", "speech"], perform_ping_check=False, pool="solo", shutdown_timeout=30, loglevel="ERROR"
    )
    worker.__enter__()
    try:
        for index in range(uploads):
            if index == down_at:
                broker.stop()
                progress(f"Redis stopped before upload {index}")
            if index == up_at:
                broker.start()
                progress(f"Redis started again before upload {index}")
            with clip.open("rb") as handle:
                response = residents.post(
                    "/api/recordings/", {"passage": str(passage.id), "audio": handle}, format="multipart"
                )
            if response.status_code == 201:
                counts["answered_201"] += 1
            elif response.status_code >= 500:
                counts["answered_5xx"] += 1
            else:
                counts["answered_other"] += 1
                progress(f"upload {index}: {response.status_code} {response.content[:200]!r}")
            if response.status_code == 201 and index % 2:
                counts["approvals"] += 1
                recording_id = response.json()["id"]
                decided = moderators.post(f"/api/moderation/recordings/{recording_id}/approve/", {}, format="json")
                if decided.status_code == 200:
                    counts["approved_200"] += 1
                    approved_ids.append(recording_id)
                elif decided.status_code >= 500:
                    counts["answered_5xx"] += 1
        counts["upload_phase_seconds"] = round(time.monotonic() - started, 1)

        # Catch up: the sweeps run as beat would run them, until every reading and film job has moved on.
        def caught_up() -> bool:
            pending = Recording.objects.filter(status=Recording.Status.PENDING)
            untranscribed = pending.filter(transcribed_at__isnull=True).exists()
            no_voice = Recording.objects.exclude(status=Recording.Status.WITHDRAWN).filter(voice_wav="").exists()
            unaligned = Animation.objects.filter(status__in=(Animation.Status.QUEUED, Animation.Status.ALIGNING))
            return not (untranscribed or no_voice or unaligned.exists())

        def waiting() -> dict[str, int]:
            return {
                "untranscribed": Recording.objects.filter(
                    status=Recording.Status.PENDING, transcribed_at__isnull=True
                ).count(),
                "without_voice": Recording.objects.filter(voice_wav="").count(),
                "unaligned": Animation.objects.filter(
                    status__in=(Animation.Status.QUEUED, Animation.Status.ALIGNING)
                ).count(),
            }

        caught_up_started = time.monotonic()
        progress(f"uploads done in {counts['upload_phase_seconds']} s; catching up")
        while not caught_up():
            if time.monotonic() - caught_up_started > timeout:
                progress("gave up waiting: " + str(waiting()))
                break
            progress(str(waiting()))
            services.recording_sweep()
            animation_services.animation_sweep_stuck()
            time.sleep(2)
        counts["catch_up_seconds"] = round(time.monotonic() - caught_up_started, 1)
    finally:
        worker.__exit__(None, None, None)

    recordings = Recording.objects.all()
    counts["rows_kept"] = recordings.count()
    counts["rows_with_audio_files"] = sum(
        1
        for recording in recordings
        if recording.original
        and default_storage.exists(recording.original.name)
        and default_storage.exists(recording.speech_wav.name)
    )
    pending = recordings.filter(status=Recording.Status.PENDING)
    counts["pending"] = pending.count()
    counts["pending_transcribed"] = pending.filter(transcribed_at__isnull=False).exclude(transcript="").count()
    counts["with_voice_copy"] = sum(
        1 for recording in recordings if recording.voice_wav and default_storage.exists(recording.voice_wav.name)
    )
    films = Animation.objects.filter(recording_id__in=approved_ids)
    counts["approved_with_film_job"] = films.values("recording_id").distinct().count()
    counts["film_jobs_run_by_a_worker"] = films.filter(
        status__in=(Animation.Status.RENDERING, Animation.Status.READY, Animation.Status.PUBLISHED),
        recording__alignment__isnull=False,
    ).count()
    counts["film_jobs_failed"] = films.filter(status=Animation.Status.FAILED).count()
    counts["duplicate_film_jobs"] = sum(
        row["jobs"] - 1
        for row in Animation.objects.values("recording_id").annotate(jobs=Count("id"))
        if row["jobs"] > 1
    )
    counts["duplicate_decisions"] = ModerationDecision.objects.count() - counts["approved_200"]
    counts["alignments"] = Alignment.objects.count()
    counts["lost"] = (
        (counts["uploads"] - counts["rows_kept"])
        + (counts["rows_kept"] - counts["rows_with_audio_files"])
        + (counts["pending"] - counts["pending_transcribed"])
        + (counts["rows_kept"] - counts["with_voice_copy"])
        + (counts["approvals"] - counts["film_jobs_run_by_a_worker"])
    )
    counts["duplicated"] = (
        counts["duplicate_film_jobs"] + counts["duplicate_decisions"] + (counts["rows_kept"] - counts["answered_201"])
    )
    return counts
