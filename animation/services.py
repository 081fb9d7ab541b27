"""Animation jobs: creation, claims, progress, completion, publication and removal.

A job moves queued -> aligning -> rendering -> ready -> published. Each task claims its stage with
one conditional UPDATE (``claimed_at`` set while a worker holds it), so a retried or duplicated
task finds nothing to claim and stops. The sweeper hands back claims that outlived their time.
"""

from __future__ import annotations

import logging
import shutil
import time
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from animation.models import Alignment, Animation
from gallery import events
from gallery.selectors import animations_in_progress_count

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3


def animation_folder(animation_id) -> Path:
    return Path(settings.MEDIA_ROOT) / "animations" / str(animation_id)


def _enqueue_stage(animation_id, status: str) -> None:
    from animation import tasks

    task = {Animation.Status.QUEUED: tasks.animation_align, Animation.Status.RENDERING: tasks.animation_render}[status]
    task.delay(str(animation_id))


def _broadcast_progress(animation: Animation, *, stage: str) -> None:
    events.broadcast_recording_status(
        recording_id=animation.recording_id,
        payload={
            "recording_id": str(animation.recording_id),
            "animation_id": str(animation.id),
            "status": stage,
            "progress": round(animation.progress, 3),
        },
    )
    events.broadcast_event_progress(
        event_id=animation.event_id, in_progress=animations_in_progress_count(event_id=animation.event_id)
    )


@transaction.atomic
def animation_start(*, recording) -> Animation:
    animation = Animation.objects.create(
        recording=recording, event_id=recording.passage.event_id, fps=settings.ANIMATION_FPS
    )
    _broadcast_progress(animation, stage=animation.status)
    transaction.on_commit(lambda: _enqueue_stage(animation.id, Animation.Status.QUEUED))
    return animation


def animation_claim(*, animation_id, status: str) -> bool:
    """Take the job for STATUS's stage; False when another worker has it or it moved on."""
    now = timezone.now()
    if status == Animation.Status.QUEUED:
        claimed = Animation.objects.filter(id=animation_id, status=Animation.Status.QUEUED).update(
            status=Animation.Status.ALIGNING, claimed_at=now, progress=0.05, updated_at=now
        )
    else:
        claimed = Animation.objects.filter(id=animation_id, status=status, claimed_at__isnull=True).update(
            claimed_at=now, updated_at=now
        )
    if claimed:
        animation = Animation.objects.select_related("recording").get(id=animation_id)
        with transaction.atomic():
            _broadcast_progress(animation, stage=animation.status)
    return bool(claimed)


class ProgressReporter:
    """Writes a job's progress at most every ``interval`` seconds: a render reports per frame."""

    def __init__(self, animation_id, *, start: float, end: float, interval: float = 0.5) -> None:
        self.animation_id = animation_id
        self.start, self.end, self.interval = start, end, interval
        self.last_sent = 0.0

    def __call__(self, stage: str, fraction: float) -> None:
        now = time.monotonic()
        if now - self.last_sent < self.interval and fraction < 1.0:
            return
        self.last_sent = now
        progress = self.start + (self.end - self.start) * max(0.0, min(1.0, fraction))
        Animation.objects.filter(id=self.animation_id).update(progress=progress, updated_at=timezone.now())
        animation = Animation.objects.get(id=self.animation_id)
        with transaction.atomic():
            _broadcast_progress(animation, stage=f"{animation.status}:{stage}")


@transaction.atomic
def animation_record_alignment(
    *, animation_id, result: dict, webvtt: str, model_name: str, align_seconds: float, prepare_seconds: float = 0.0
) -> Alignment:
    """Keep the alignment and pass the job on to rendering."""
    animation = Animation.objects.select_for_update().get(id=animation_id)
    alignment, _ = Alignment.objects.update_or_create(
        recording_id=animation.recording_id,
        defaults={
            "language": result["language"],
            "model_name": model_name,
            "transcript": result.get("transcript", ""),
            "match_score": result.get("match", 0.0),
            "units": result["units"],
            "phrases": result["phrases"],
            "webvtt": webvtt,
            "seconds": round(align_seconds, 3),
        },
    )
    stage_seconds = {
        **animation.stage_seconds,
        "prepare_voice": round(prepare_seconds, 3),
        "align": round(align_seconds, 3),
    }
    moved = Animation.objects.filter(id=animation_id, status=Animation.Status.ALIGNING).update(
        status=Animation.Status.RENDERING, claimed_at=None, progress=0.3, stage_seconds=stage_seconds
    )
    if moved:
        transaction.on_commit(lambda: _enqueue_stage(animation_id, Animation.Status.RENDERING))
    return alignment


@transaction.atomic
def animation_record_film(*, animation_id, files: dict[str, str], frame_count: int, stage_seconds: dict) -> bool:
    """Point the job at its finished files (already in place on disk) and publish or hold it."""
    animation = Animation.objects.select_for_update().select_related("event").get(id=animation_id)
    if animation.status != Animation.Status.RENDERING:
        return False
    animation.video.name = files["video"]
    animation.poster.name = files["poster"]
    animation.subtitles.name = files["subtitles"]
    animation.curves.name = files.get("curves", "")
    animation.frame_count = frame_count
    animation.stage_seconds = {**animation.stage_seconds, **stage_seconds}
    animation.status = Animation.Status.READY
    animation.progress = 1.0
    animation.claimed_at = None
    animation.error = ""
    animation.save()
    if animation.event.publish_mode == animation.event.PublishMode.AUTO:
        animation_publish(animation=animation)
    else:
        _broadcast_progress(animation, stage=animation.status)
    return True


@transaction.atomic
def animation_publish(*, animation: Animation) -> bool:
    published = Animation.objects.filter(id=animation.id, status=Animation.Status.READY).update(
        status=Animation.Status.PUBLISHED, published_at=timezone.now()
    )
    if published:
        animation.refresh_from_db()
        events.broadcast_animation_published(animation)
        _broadcast_progress(animation, stage=animation.status)
    return bool(published)


def animation_fail(*, animation_id, reason: str) -> None:
    """Record why the job stopped, in words the resident and the curator can act on."""
    with transaction.atomic():
        Animation.objects.filter(id=animation_id).exclude(
            status__in=(Animation.Status.PUBLISHED, Animation.Status.REMOVED)
        ).update(status=Animation.Status.FAILED, error=reason[:2000], claimed_at=None, updated_at=timezone.now())
        animation = Animation.objects.get(id=animation_id)
        _broadcast_progress(animation, stage=animation.status)


def animation_release(*, animation_id, status: str) -> None:
    """Give a claim back so the stage runs again (a worker died or a transient error)."""
    if status == Animation.Status.ALIGNING:
        Animation.objects.filter(id=animation_id, status=status).update(status=Animation.Status.QUEUED, claimed_at=None)
    else:
        Animation.objects.filter(id=animation_id, status=status).update(claimed_at=None)


def animation_remove_for_recording(*, recording, delete_files: bool) -> None:
    """Take every film of RECORDING out of public view; with DELETE_FILES also delete them."""
    animations = list(Animation.objects.filter(recording=recording).exclude(status=Animation.Status.REMOVED))
    for animation in animations:
        was_public = animation.status == Animation.Status.PUBLISHED
        Animation.objects.filter(id=animation.id).update(
            status=Animation.Status.REMOVED, video="", poster="", subtitles="", curves="", updated_at=timezone.now()
        )
        if was_public:
            events.broadcast_animation_removed(animation_id=animation.id, event_id=animation.event_id)
        if delete_files:
            folder = animation_folder(animation.id)
            transaction.on_commit(lambda folder=folder: shutil.rmtree(folder, ignore_errors=True))
    if animations:
        Alignment.objects.filter(recording=recording).delete()
        events.broadcast_event_progress(
            event_id=animations[0].event_id, in_progress=animations_in_progress_count(event_id=animations[0].event_id)
        )


def animation_sweep_stuck(*, older_than: timedelta | None = None) -> list[str]:
    """Hand back claims held past the time limit (a killed worker) and re-send lost messages.

    Returns the ids of the jobs sent again. A job that keeps dying fails after MAX_ATTEMPTS.
    """
    limit = timezone.now() - (older_than or timedelta(seconds=settings.ANIMATION_STUCK_AFTER_SECONDS))
    requeued: list[str] = []
    stuck = Animation.objects.filter(status__in=Animation.IN_PROGRESS, updated_at__lt=limit)
    for animation in stuck:
        if animation.attempts + 1 >= MAX_ATTEMPTS:
            animation_fail(
                animation_id=animation.id,
                reason="The animation stopped several times before finishing; a curator has been told.",
            )
            continue
        Animation.objects.filter(id=animation.id, updated_at=animation.updated_at).update(
            attempts=animation.attempts + 1,
            claimed_at=None,
            status=(Animation.Status.QUEUED if animation.status == Animation.Status.ALIGNING else animation.status),
            updated_at=timezone.now(),
        )
        next_status = Animation.Status.QUEUED if animation.status != Animation.Status.RENDERING else animation.status
        _enqueue_stage(animation.id, next_status)
        requeued.append(str(animation.id))
    return requeued


# ---------------------------------------------------------------------------------------------
# The film gate: moderators hold back or let through finished films; curators reverse them.


def animation_broadcast_status(*, animation_id) -> None:
    """Tell the reader (and the public counter) where their film stands now."""
    animation = Animation.objects.get(id=animation_id)
    _broadcast_progress(animation, stage=animation.status)


def animation_unpublish(*, animation_id) -> bool:
    """Take a published film out of the gallery and back to review; False when it was not published."""
    moved = Animation.objects.filter(id=animation_id, status=Animation.Status.PUBLISHED).update(
        status=Animation.Status.READY, published_at=None, updated_at=timezone.now()
    )
    if moved:
        animation = Animation.objects.get(id=animation_id)
        events.broadcast_animation_removed(animation_id=animation.id, event_id=animation.event_id)
    return bool(moved)


def animation_hold_back(*, animation_id, from_status: str, reason: str) -> bool:
    """Hold a finished film back with a reason the reader sees; its files stay for a curator to decide.

    FROM_STATUS is "ready" (the second gate) or "published" (a curator's reversal).
    """
    moved = Animation.objects.filter(id=animation_id, status=from_status).update(
        status=Animation.Status.FAILED, error=reason, updated_at=timezone.now()
    )
    if moved and from_status == Animation.Status.PUBLISHED:
        animation = Animation.objects.get(id=animation_id)
        events.broadcast_animation_removed(animation_id=animation.id, event_id=animation.event_id)
    return bool(moved)


def animation_return_to_review(*, animation_id) -> bool:
    """A held-back film (one that was finished, so it has its files) goes back to "ready"."""
    moved = Animation.objects.filter(id=animation_id, status=Animation.Status.FAILED, video__gt="").update(
        status=Animation.Status.READY, error="", updated_at=timezone.now()
    )
    return bool(moved)
