"""Animation jobs: creation, claims, progress, completion, publication and removal.

A job moves queued -> aligning -> rendering -> ready -> published. Each task claims its stage with
one conditional UPDATE (``claimed_at`` and a fresh ``claim_token`` set while a worker holds it), so a
retried or duplicated task finds nothing to claim and stops. While it holds the claim the worker
refreshes ``heartbeat_at``; a claim whose heartbeat stopped belongs to a dead worker.

Durable hand-off: ``enqueued_at`` is set only once the broker accepted the stage's message. The
sweeper (beat, every ANIMATION_SWEEP_SECONDS) re-sends the message of a stage that waits without one
(the broker was down at commit time) and takes back claims whose heartbeat stopped, charging an
attempt only then: a job waiting in a long queue is never charged.

Films made before the approval (issue 25): while a reading waits for its moderator, its film is made
privately (rendering_private -> rendered_private, or failed_private), seen by nobody but the event's
moderators and curators, broadcast to no socket, counted nowhere. The approval turns it into the
reader's film in its own transaction (animation_start): a finished one is published at once (or held
for the film gate), one still rendering becomes "rendering" and is published when the worker records
it, a failed or outdated one is deleted and the approval starts a new job as if there had been none.
A rejection, a withdrawal or a change to the passage deletes it with its files.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from animation import signals
from animation.models import Alignment, Animation, DialogueVoice
from catalogue import selectors as catalogue_selectors
from contributions import services as contribution_services
from contributions.models import ModerationDecision, Recording
from core import storage
from core.speech_models import whisper_model_for

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3


def _enqueue_stage(animation_id, status: str) -> bool:
    """Send the message of the stage the job waits for; True once the broker has it.

    Never raises: with the broker down the row keeps ``enqueued_at`` empty and the sweeper sends it later.
    """
    from animation import tasks

    task = {
        Animation.Status.QUEUED: tasks.animation_align,
        Animation.Status.RENDERING: tasks.animation_render,
        Animation.Status.RENDERING_PRIVATE: tasks.animation_render,
    }[status]
    try:
        task.apply_async((str(animation_id),), retry=False)
    except Exception:
        logger.warning("broker unavailable: animation %s (%s) will be sent by the sweeper", animation_id, status)
        return False
    Animation.objects.filter(id=animation_id, status=status, claimed_at__isnull=True).update(enqueued_at=timezone.now())
    return True


def _broadcast_progress(animation: Animation, *, stage: str) -> None:
    if animation.status in Animation.BEFORE_APPROVAL:
        return  # not the reader's film yet: no socket hears of it, the public counter does not move
    signals.animation_progress.send(sender=None, animation=animation, stage=stage)


@transaction.atomic
def animation_start(*, recording) -> Animation:
    """The approved RECORDING's film. One made while the reading waited becomes it, in this transaction:
    finished, it is published now (or held for the film gate) without any render; still rendering, it
    is published when its render is recorded; failed or outdated, it is deleted and a new job starts,
    as it does for a reading without one (queued: the alignment, then the render)."""
    ahead = (
        Animation.objects.select_for_update(of=("self",))
        .filter(recording=recording, status__in=Animation.BEFORE_APPROVAL)
        .select_related("event")
        .first()
    )
    if ahead is not None:
        adopted = _film_before_approval_adopt(ahead, recording=recording)
        if adopted is not None:
            return adopted
    animation = Animation.objects.create(
        recording=recording, event_id=recording.passage.event_id, fps=settings.ANIMATION_FPS
    )
    _broadcast_progress(animation, stage=animation.status)
    transaction.on_commit(lambda: _enqueue_stage(animation.id, Animation.Status.QUEUED))
    return animation


def _film_before_approval_adopt(animation: Animation, *, recording) -> Animation | None:
    """Make ANIMATION, made before RECORDING's approval and locked by the caller, the approved film;
    None when it cannot be (it failed, or shows what the passage no longer is): it is deleted."""
    now = timezone.now()
    if animation.status == Animation.Status.RENDERED_PRIVATE:
        if animation.inputs_digest != film_inputs_digest(recording=recording):
            logger.info("animation %s: made before a change to its passage; made again", animation.id)
            films_before_approval_discard(recording=recording)
            return None
        Animation.objects.filter(id=animation.id, status=Animation.Status.RENDERED_PRIVATE).update(
            status=Animation.Status.READY, updated_at=now
        )
        contribution_services.recording_record_motion_source(
            recording_id=recording.id, source=animation.motion_source or "voice", note=animation.motion_note
        )
        animation.refresh_from_db()
        if animation.event.publish_mode == animation.event.PublishMode.AUTO:
            animation_publish(animation=animation)
        else:
            _broadcast_progress(animation, stage=animation.status)
        return animation
    if animation.status == Animation.Status.RENDERING_PRIVATE:
        # The worker keeps its claim (and heartbeat): its animation_record_film now finds "rendering"
        # and publishes. Queued but never taken by the broker: sent now, as any render stage.
        Animation.objects.filter(id=animation.id, status=Animation.Status.RENDERING_PRIVATE).update(
            status=Animation.Status.RENDERING, updated_at=now
        )
        if animation.claimed_at is None and animation.enqueued_at is None:
            transaction.on_commit(lambda: _enqueue_stage(animation.id, str(Animation.Status.RENDERING)))
        animation.refresh_from_db()
        _broadcast_progress(animation, stage=animation.status)
        return animation
    # Failed before the approval: tried again from the start, as a new job would be.
    logger.info("animation %s failed before the approval (%s); a new job starts", animation.id, animation.error)
    films_before_approval_discard(recording=recording)
    return None


def film_inputs_digest(*, recording, speaking=None, alignment=None) -> str:
    """One digest of what a film of RECORDING is made of: the text and its alignment, the painting, the
    speaking figure's face and the passage's framing, the film's size. SPEAKING and ALIGNMENT are read
    when not given. A film made before the approval is published only while its digest still matches."""
    passage = recording.passage
    if speaking is None:
        speaking = catalogue_selectors.speaking_figure(passage=passage)
    if alignment is None:
        alignment = Alignment.objects.filter(recording_id=recording.id).first()
    made_of = {
        "text": recording.text_to_read,
        "passage": [passage.language, passage.kind, passage.aspect, passage.push_in, passage.camera],
        "painting": [passage.painting.image.name, passage.painting.head_motion],
        "figure": [str(speaking.id), speaking.face] if speaking else None,
        "alignment": [alignment.text, alignment.model_name, alignment.units] if alignment else None,
        "size": settings.ANIMATION_SIZE,
    }
    return hashlib.sha256(json.dumps(made_of, sort_keys=True, default=str).encode()).hexdigest()


def animation_prepare_before_approval(*, recording_id) -> Animation | None:
    """Start making a pending reading's film privately while it waits for its moderator, so that the
    approval only publishes it (issue 25). Called whenever something the film needs is kept: the text's
    early alignment (animation.tasks.recording_align_early), the 48 kHz voice copy, a camera reading's
    motion curves (contributions' recording_prepared); it starts once all are there. Idempotent: None
    (nothing started) when ANIMATION_RENDER_BEFORE_APPROVAL is off, the reading is decided, withdrawn or
    one role of a dialogue (those films wait for every role), or a film of it exists already.

    The cost: every pending reading is rendered, also those a moderator will reject (README, Performance).
    """
    if not settings.ANIMATION_RENDER_BEFORE_APPROVAL:
        return None
    with transaction.atomic():
        # Locked against the approval (which updates this row first): one of the two sees the other.
        recording = (
            Recording.objects.select_for_update(of=("self",))
            .select_related("passage")
            .filter(id=recording_id, status=Recording.Status.PENDING, role__isnull=True)
            .first()
        )
        if recording is None or not recording.voice_wav:
            return None
        if recording.video and recording.motion_extracted_at is None:
            return None  # the reader's camera moves the figure: the curves first
        model_name = whisper_model_for(recording.passage.language)
        if alignment_current(recording=recording, model_name=model_name) is None:
            return None
        if Animation.objects.filter(recording=recording).exclude(status=Animation.Status.REMOVED).exists():
            return None
        try:
            with transaction.atomic():
                animation = Animation.objects.create(
                    recording=recording,
                    event_id=recording.passage.event_id,
                    fps=settings.ANIMATION_FPS,
                    status=Animation.Status.RENDERING_PRIVATE,
                    progress=0.3,
                )
        except IntegrityError:
            return None  # another worker started it a moment ago (one_film_before_approval_per_recording)
        transaction.on_commit(lambda: _enqueue_stage(animation.id, str(Animation.Status.RENDERING_PRIVATE)))
    return animation


@transaction.atomic
def films_before_approval_discard(*, recording=None, passage=None) -> int:
    """Delete the films made ahead of the decision of RECORDING (rejected, withdrawn), or of every reading
    of PASSAGE (changed since: they no longer show what an approval would publish), rows now and files
    after the commit. A worker still rendering one loses its claim and deletes the files it stores
    (animation.tasks.animation_render). Returns how many went."""
    films = Animation.objects.select_for_update(of=("self",)).filter(status__in=Animation.BEFORE_APPROVAL)
    if recording is not None:
        films = films.filter(recording_id=recording.id)
    if passage is not None:
        films = films.filter(recording__passage_id=passage.id)
    ids = list(films.values_list("id", flat=True))
    if not ids:
        return 0
    Animation.objects.filter(id__in=ids).delete()
    for animation_id in ids:
        prefix = storage.animation_prefix(animation_id)
        transaction.on_commit(lambda prefix=prefix: storage.delete_prefix(prefix))
    return len(ids)


def dialogue_voices_latest(*, passage, reading=None) -> dict | None:
    """For each role of the dialogue PASSAGE its latest approved reading (READING for its own role, when
    given and approved), or None while a role has none."""
    voices = {}
    for role in passage.roles.all():
        approved = Recording.objects.filter(passage=passage, role=role, status=Recording.Status.APPROVED)
        latest = None
        if reading is not None and reading.role_id == role.id:
            latest = approved.filter(id=reading.id).first()
        latest = latest or approved.order_by("-created_at").first()
        if latest is None:
            return None
        voices[role] = latest
    return voices or None


@transaction.atomic
def dialogue_film_request(*, passage, reading=None) -> Animation | None:
    """A dialogue film of the latest approved reading of every role, once every role has one; None
    before. Idempotent: a film of exactly these readings that is not taken down is returned as it is.
    A newly approved reading of a role makes a new film with it and the other roles' latest readings."""
    voices = dialogue_voices_latest(passage=passage, reading=reading)
    if voices is None:
        return None
    wanted = {role.id: recording.id for role, recording in voices.items()}
    for existing in (
        Animation.objects.filter(voices__role__passage=passage)
        .exclude(status__in=(Animation.Status.REMOVED, Animation.Status.FAILED))
        .distinct()
    ):
        if {voice.role_id: voice.recording_id for voice in existing.voices.all()} == wanted:
            return existing
    first = min(voices, key=lambda role: role.order)
    animation = Animation.objects.create(recording=voices[first], event_id=passage.event_id, fps=settings.ANIMATION_FPS)
    DialogueVoice.objects.bulk_create(
        DialogueVoice(animation=animation, role=role, recording=recording) for role, recording in voices.items()
    )
    _broadcast_progress(animation, stage=animation.status)
    transaction.on_commit(lambda: _enqueue_stage(animation.id, str(Animation.Status.QUEUED)))
    return animation


def heartbeat_timeout() -> timedelta:
    return timedelta(seconds=settings.ANIMATION_HEARTBEAT_TIMEOUT_SECONDS)


def animation_claim(*, animation_id, status: str, worker: str = "") -> str | None:
    """Take the job for STATUS's stage and return the claim's token; None when another worker holds it
    (with a live heartbeat) or the job moved on. A claim whose heartbeat stopped may be taken over."""
    now = timezone.now()
    token = uuid.uuid4().hex
    held = {"claimed_at": now, "heartbeat_at": now, "claim_token": token, "worker": worker[:200], "updated_at": now}
    if status == Animation.Status.QUEUED:
        claimed = Animation.objects.filter(id=animation_id, status=Animation.Status.QUEUED).update(
            status=Animation.Status.ALIGNING, progress=0.05, **held
        )
    else:
        dead_before = now - heartbeat_timeout()
        # The render task renders films made before the approval too (same stage, same claim rules).
        statuses = (status, Animation.Status.RENDERING_PRIVATE) if status == Animation.Status.RENDERING else (status,)
        claimed = (
            Animation.objects.filter(id=animation_id, status__in=statuses)
            .filter(Q(claimed_at__isnull=True) | Q(heartbeat_at__lt=dead_before))
            .update(**held)
        )
    if not claimed:
        return None
    animation = Animation.objects.select_related("recording").filter(id=animation_id).first()
    if animation is None:
        return None  # a film made before the approval, deleted (rejected, withdrawn) a moment ago
    with transaction.atomic():
        _broadcast_progress(animation, stage=animation.status)
    return token


def animation_heartbeat(*, animation_id, token: str) -> bool:
    """The worker holding TOKEN is alive; False when its claim was taken back (it should stop)."""
    return bool(Animation.objects.filter(id=animation_id, claim_token=token).update(heartbeat_at=timezone.now()))


class ProgressReporter:
    """Writes a job's progress at most every ``interval`` seconds: a render reports per frame."""

    def __init__(self, animation_id, *, start: float, end: float, interval: float = 0.5, token: str = "") -> None:
        self.animation_id = animation_id
        self.start, self.end, self.interval = start, end, interval
        self.token = token
        self.last_sent = 0.0

    def __call__(self, stage: str, fraction: float) -> None:
        now = time.monotonic()
        if now - self.last_sent < self.interval and fraction < 1.0:
            return
        self.last_sent = now
        progress = self.start + (self.end - self.start) * max(0.0, min(1.0, fraction))
        now = timezone.now()
        Animation.objects.filter(id=self.animation_id).update(progress=progress, updated_at=now)
        if self.token:
            Animation.objects.filter(id=self.animation_id, claim_token=self.token).update(heartbeat_at=now)
        animation = Animation.objects.filter(id=self.animation_id).first()
        if animation is None:
            return  # deleted while it rendered (a film made before the approval, rejected meanwhile)
        with transaction.atomic():
            _broadcast_progress(animation, stage=f"{animation.status}:{stage}")


@transaction.atomic
def animation_record_alignment(
    *,
    animation_id,
    result: dict,
    webvtt: str,
    model_name: str,
    align_seconds: float,
    prepare_seconds: float = 0.0,
    token: str | None = None,
    text: str = "",
) -> Alignment | None:
    """Keep the alignment and pass the job on to rendering.

    With TOKEN, only while that claim still holds the job (None otherwise: the job was taken back).
    """
    animation = Animation.objects.select_for_update().get(id=animation_id)
    if token is not None and (animation.claim_token != token or animation.status != Animation.Status.ALIGNING):
        return None
    alignment = _alignment_keep(
        recording_id=animation.recording_id,
        text=text,
        result=result,
        webvtt=webvtt,
        model_name=model_name,
        seconds=align_seconds,
    )
    stage_seconds = {
        **animation.stage_seconds,
        "prepare_voice": round(prepare_seconds, 3),
        "align": round(align_seconds, 3),
    }
    now = timezone.now()
    # updated_at and enqueued_at are part of the hand-off: the render stage starts its own clock.
    moved = Animation.objects.filter(id=animation_id, status=Animation.Status.ALIGNING).update(
        status=Animation.Status.RENDERING,
        claimed_at=None,
        heartbeat_at=None,
        claim_token="",
        enqueued_at=None,
        progress=0.3,
        stage_seconds=stage_seconds,
        updated_at=now,
    )
    if moved:
        transaction.on_commit(lambda: _enqueue_stage(animation_id, Animation.Status.RENDERING))
    return alignment


def alignment_current(*, recording, model_name: str) -> Alignment | None:
    """RECORDING's alignment if it still applies: made of the passage's present text, by MODEL_NAME."""
    return Alignment.objects.filter(
        recording=recording, text=recording.text_to_read, language=recording.passage.language, model_name=model_name
    ).first()


@transaction.atomic
def alignment_record_early(
    *, recording_id, text: str, result: dict, webvtt: str, model_name: str, seconds: float
) -> Alignment | None:
    """Keep an alignment made while the reading waits for review; None (nothing kept) once the reading
    was withdrawn or decided against meanwhile: a voice taken back leaves nothing derived from it."""
    recording = Recording.objects.select_for_update().filter(id=recording_id).first()
    if recording is None or recording.status not in (Recording.Status.PENDING, Recording.Status.APPROVED):
        return None
    return _alignment_keep(
        recording_id=recording_id, text=text, result=result, webvtt=webvtt, model_name=model_name, seconds=seconds
    )


def _alignment_keep(
    *, recording_id, text: str, result: dict, webvtt: str, model_name: str, seconds: float
) -> Alignment:
    """The recording's one alignment, made or replaced from RESULT (``AlignmentResult.to_dict()``)."""
    alignment, _ = Alignment.objects.update_or_create(
        recording_id=recording_id,
        defaults={
            "text": text,
            "language": result["language"],
            "model_name": model_name,
            "transcript": result.get("transcript", ""),
            "match_score": result.get("match", 0.0),
            "units": result["units"],
            "phrases": result["phrases"],
            "webvtt": webvtt,
            "seconds": round(seconds, 3),
        },
    )
    return alignment


@transaction.atomic
def animation_record_film(
    *,
    animation_id,
    files: dict[str, str],
    frame_count: int,
    stage_seconds: dict,
    token: str | None = None,
    motion: dict | None = None,
    inputs_digest: str = "",
) -> bool:
    """Point the job at its finished files (already in place in storage) and publish or hold it; a film
    made before the approval is only kept ("rendered_private") for the approval to publish.

    With TOKEN, only while that claim still holds the job: a worker that was taken for dead and
    finished anyway publishes nothing a second time. MOTION is the engine's report of what moved the
    figure (told to the reader with the film); INPUTS_DIGEST, film_inputs_digest of what it was made of.
    False when the job is gone or moved on: the caller deletes the files it stored.
    """
    animation = Animation.objects.select_for_update().select_related("event").filter(id=animation_id).first()
    if animation is None or animation.status not in (Animation.Status.RENDERING, Animation.Status.RENDERING_PRIVATE):
        return False
    if token is not None and animation.claim_token != token:
        return False
    motion = motion or {}
    animation.motion_source = str(motion.get("source", "voice"))[:10]
    animation.motion_note = str(motion.get("note", ""))
    animation.inputs_digest = inputs_digest
    animation.video.name = files["video"]
    animation.poster.name = files["poster"]
    animation.subtitles.name = files["subtitles"]
    animation.curves.name = files.get("curves", "")
    animation.frame_count = frame_count
    animation.stage_seconds = {**animation.stage_seconds, **stage_seconds}
    before_approval = animation.status == Animation.Status.RENDERING_PRIVATE
    animation.status = Animation.Status.RENDERED_PRIVATE if before_approval else Animation.Status.READY
    animation.progress = 1.0
    animation.claimed_at = None
    animation.heartbeat_at = None
    animation.claim_token = ""
    animation.error = ""
    animation.save()
    if before_approval:
        return True  # waits, unseen, for the approval (animation_start) or a rejection
    # What moved the figure, and why, before the film is published (the reader sees both together).
    contribution_services.recording_record_motion_source(
        recording_id=animation.recording_id, source=animation.motion_source, note=animation.motion_note
    )
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
        signals.animation_published.send(sender=None, animation=animation)
        _broadcast_progress(animation, stage=animation.status)
    return bool(published)


def animation_fail(*, animation_id, reason: str) -> None:
    """Record why the job stopped, in words the resident and the curator can act on. A film made before
    the approval keeps its reason unseen ("failed_private"): the approval makes it again from the start."""
    with transaction.atomic():
        stopped = {
            "error": reason[:2000],
            "claimed_at": None,
            "heartbeat_at": None,
            "claim_token": "",
            "updated_at": timezone.now(),
        }
        if Animation.objects.filter(id=animation_id, status=Animation.Status.RENDERING_PRIVATE).update(
            status=Animation.Status.FAILED_PRIVATE, **stopped
        ):
            logger.info("animation %s failed before the approval: %s", animation_id, reason)
            return
        Animation.objects.filter(id=animation_id).exclude(
            status__in=(Animation.Status.PUBLISHED, Animation.Status.REMOVED, *Animation.BEFORE_APPROVAL)
        ).update(status=Animation.Status.FAILED, **stopped)
        animation = Animation.objects.filter(id=animation_id).first()
        if animation is not None:
            _broadcast_progress(animation, stage=animation.status)


def animation_is_removed(*, animation_id) -> bool:
    """True once the film was taken down for good (its recording withdrawn or its approval taken back), or
    deleted (made before the approval, then rejected, withdrawn or outdated)."""
    return not Animation.objects.filter(id=animation_id).exclude(status=Animation.Status.REMOVED).exists()


def animation_remove_for_recording(*, recording, delete_files: bool) -> None:
    """Take every film of RECORDING out of public view, dialogues it is a voice of too; with DELETE_FILES
    also delete them. One made before the approval was never public: it is deleted, row and files."""
    films_before_approval_discard(recording=recording)
    animations = list(
        Animation.objects.filter(Q(recording=recording) | Q(voices__recording=recording))
        .exclude(status=Animation.Status.REMOVED)
        .distinct()
    )
    for animation in animations:
        was_public = animation.status == Animation.Status.PUBLISHED
        Animation.objects.filter(id=animation.id).update(
            status=Animation.Status.REMOVED, video="", poster="", subtitles="", curves="", updated_at=timezone.now()
        )
        if was_public:
            signals.animation_removed.send(sender=None, animation_id=animation.id, event_id=animation.event_id)
        if delete_files:
            prefix = storage.animation_prefix(animation.id)
            transaction.on_commit(lambda prefix=prefix: storage.delete_prefix(prefix))
    if animations:
        Alignment.objects.filter(recording=recording).delete()
        signals.event_progress_changed.send(sender=None, event_id=animations[0].event_id)


def animation_sweep_stuck(*, now: datetime | None = None) -> list[str]:
    """Take back work whose worker died and send messages that never reached the broker.

    - Held work (aligning, or rendering with a claim) whose heartbeat is older than
      ANIMATION_HEARTBEAT_TIMEOUT_SECONDS: the worker is gone. The claim is released and the stage sent
      again, charging one attempt; the job fails with a reason after MAX_ATTEMPTS such deaths.
    - Waiting work (queued, or rendering without a claim) is never charged. Its message is sent again
      when the broker never took it (``enqueued_at`` empty for more than a few seconds) or when it has
      waited ANIMATION_STUCK_AFTER_SECONDS (a broker that lost its queue); a duplicate finds nothing to
      claim, so sending twice is harmless.

    "Rendering" includes films made before the approval ("rendering_private"), by the same rules.

    Returns the ids of the jobs sent again.
    """
    now = now or timezone.now()
    dead_before = now - heartbeat_timeout()
    requeued: list[str] = []
    rendering = (Animation.Status.RENDERING, Animation.Status.RENDERING_PRIVATE)
    held = Q(status=Animation.Status.ALIGNING) | Q(status__in=rendering, claimed_at__isnull=False)
    dead = (
        Animation.objects.filter(held)
        .annotate(last_sign_of_life=Coalesce("heartbeat_at", "claimed_at"))
        .filter(last_sign_of_life__lt=dead_before)
    )
    for animation in dead:
        if animation.attempts + 1 >= MAX_ATTEMPTS:
            animation_fail(
                animation_id=animation.id,
                reason="The animation stopped several times before finishing; a curator has been told.",
            )
            continue
        next_status = Animation.Status.QUEUED if animation.status == Animation.Status.ALIGNING else animation.status
        # Conditional on the very claim we judged dead: a heartbeat that arrived since wins.
        taken_back = Animation.objects.filter(
            id=animation.id,
            status=animation.status,
            claim_token=animation.claim_token,
            heartbeat_at=animation.heartbeat_at,
        ).update(
            attempts=F("attempts") + 1,
            status=next_status,
            claimed_at=None,
            heartbeat_at=None,
            claim_token="",
            enqueued_at=None,
            updated_at=now,
        )
        if taken_back:
            logger.warning("animation %s: worker %s stopped answering; sent again", animation.id, animation.worker)
            _enqueue_stage(animation.id, next_status)
            requeued.append(str(animation.id))

    never_sent_before = now - timedelta(seconds=settings.ANIMATION_ENQUEUE_GRACE_SECONDS)
    waited_before = now - timedelta(seconds=settings.ANIMATION_STUCK_AFTER_SECONDS)
    waiting = Q(status=Animation.Status.QUEUED) | Q(status__in=rendering, claimed_at__isnull=True)
    unsent = Q(enqueued_at__isnull=True, updated_at__lt=never_sent_before) | Q(enqueued_at__lt=waited_before)
    for animation in Animation.objects.filter(waiting).filter(unsent):
        if _enqueue_stage(animation.id, animation.status):
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
        signals.animation_removed.send(sender=None, animation_id=animation.id, event_id=animation.event_id)
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
        signals.animation_removed.send(sender=None, animation_id=animation.id, event_id=animation.event_id)
    return bool(moved)


def animation_return_to_review(*, animation_id) -> bool:
    """A held-back film (one that was finished, so it has its files) goes back to "ready"."""
    moved = Animation.objects.filter(id=animation_id, status=Animation.Status.FAILED, video__gt="").update(
        status=Animation.Status.READY, error="", updated_at=timezone.now()
    )
    return bool(moved)


@transaction.atomic
def film_publish(*, animation: Animation, moderator) -> ModerationDecision:
    """The second gate: a moderator has watched the finished film and lets it into the gallery."""
    if not animation_publish(animation=animation):
        raise contribution_services.InvalidTransition(_("This film has already been decided."))
    return contribution_services.film_decision_record(
        animation=animation, moderator=moderator, verdict=ModerationDecision.Verdict.APPROVE
    )


@transaction.atomic
def film_reject(*, animation: Animation, moderator, reason: str, note: str = "") -> ModerationDecision:
    """Hold a finished film back. It becomes "failed" with the reason, which the resident sees and a
    curator acts on (fix the face points, re-render); the files stay until a curator decides."""
    if reason not in ModerationDecision.FilmRejectionReason.values:
        raise ValueError(f"unknown film rejection reason {reason!r}")
    message = contribution_services.film_rejection_message(reason, note)
    if not animation_hold_back(animation_id=animation.id, from_status=Animation.Status.READY, reason=message):
        raise contribution_services.InvalidTransition(_("This film has already been decided."))
    animation_broadcast_status(animation_id=animation.id)
    return contribution_services.film_decision_record(
        animation=animation, moderator=moderator, verdict=ModerationDecision.Verdict.REJECT, reason=reason, note=note
    )


def film_decision_undo(*, decision: ModerationDecision) -> None:
    """Return a film to "ready" (the review queue) from published or from held back."""
    if decision.verdict == ModerationDecision.Verdict.APPROVE:
        moved = animation_unpublish(animation_id=decision.animation_id)
    else:
        moved = animation_return_to_review(animation_id=decision.animation_id)
    if not moved:
        raise contribution_services.UndoRefused(_("The film has changed since; it cannot be undone."))
    animation_broadcast_status(animation_id=decision.animation_id)


def film_decision_reverse(*, decision: ModerationDecision, to_reject: bool, reason: str, note: str) -> None:
    """A curator's reversal: a published film is held back with REASON; a held-back one is published."""
    if to_reject:
        moved = animation_hold_back(
            animation_id=decision.animation_id,
            from_status=Animation.Status.PUBLISHED,
            reason=contribution_services.film_rejection_message(reason, note),
        )
    else:
        moved = animation_return_to_review(animation_id=decision.animation_id)
        moved = moved and animation_publish(animation=Animation.objects.get(id=decision.animation_id))
    if not moved:
        raise contribution_services.InvalidTransition(_("The film has changed since this decision."))
    animation_broadcast_status(animation_id=decision.animation_id)


def recording_films_erase(*, recording) -> None:
    """A withdrawn recording is being erased: its films (and their files) and its alignment go."""
    animation_remove_for_recording(recording=recording, delete_files=True)
    Alignment.objects.filter(recording_id=recording.id).delete()
