"""Writes for residents and moderators. Every state change is one conditional UPDATE, so a double
click or a retried request changes nothing twice."""

from __future__ import annotations

import logging
import tempfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from animation.engine import audio
from animation.engine.errors import EngineInputError
from catalogue.models import Passage
from catalogue.selectors import event_curated_by
from contributions import selectors, signals
from contributions.models import Consent, ModerationDecision, Recording, RecordingFunnelCount
from contributions.selectors import consent_current
from core import storage

logger = logging.getLogger(__name__)

# A little slack over the passage's limit: residents stop the recorder a beat after the last word.
DURATION_TOLERANCE_SECONDS = 1.0
MIN_DURATION_SECONDS = 0.5


class RecordingRejected(Exception):
    """An upload we will not keep. ``message`` is shown to the resident as it is."""

    def __init__(self, message: str, *, code: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status


class InvalidTransition(Exception):
    """The object is no longer in the state the action needs (someone else got there first)."""


def consent_give(*, user, public_animation: bool, open_dataset: bool = False) -> Consent:
    """A new consent row. OPEN_DATASET is only kept for the history: since issue 26 readings join the open
    dataset one by one (Recording.open_dataset), never through the consent."""
    return Consent.objects.create(user=user, public_animation=public_animation, open_dataset=open_dataset)


def consent_withdraw(*, user) -> int:
    """The resident takes back their consent: every recording and every film made from it is deleted.

    Returns how many recordings were withdrawn. A new consent is needed before recording again.
    Safe to run again, and finished by recording_sweep if interrupted: the consent is marked first (an
    upload racing with it is refused, see recording_submit), then each recording is withdrawn on its own.
    """
    Consent.objects.filter(user=user, withdrawn_at__isnull=True).update(withdrawn_at=timezone.now())
    recording_ids = list(
        Recording.objects.filter(contributor=user)
        .exclude(status=Recording.Status.WITHDRAWN)
        .values_list("id", flat=True)
    )
    for recording_id in recording_ids:
        recording_withdraw(recording=Recording(id=recording_id))
    return len(recording_ids)


def account_delete(*, user) -> int:
    """The resident leaves: every reading is withdrawn and erased (files, transcripts, films), the notes
    moderators wrote about them are cleared, and the account is anonymised, not deleted: the audit log
    and the consent records keep a row to point at, which names nobody. The account cannot log in again.

    Returns how many readings were withdrawn. Safe to run again.
    """
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.contrib.sessions.models import Session

    withdrawn = consent_withdraw(user=user)
    Recording.objects.filter(contributor=user).update(rejection_note="", credited_as="", idempotency_key="")
    ModerationDecision.objects.filter(recording__contributor=user).update(note="")
    anonymous = f"deleted-{user.pk}"
    get_user_model().objects.filter(pk=user.pk).update(
        username=anonymous,
        email="",
        display_name="",
        first_name="",
        last_name="",
        password=make_password(None),  # unusable: nothing logs in as this account again
        is_active=False,
    )
    user.groups.clear()
    # Every session of the account ends now, on every device.
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if str(session.get_decoded().get("_auth_user_id")) == str(user.pk):
            session.delete()
    return withdrawn


def account_archive(*, user):
    """A zip (a file object at its start) of selectors.account_data and the audio of each reading kept,
    built in a temporary file that spills to disk: a resident with many readings costs no memory."""
    import json
    import zipfile

    data = selectors.account_data(user=user)
    # Not a context manager: the caller's FileResponse sends and closes it.
    archive = tempfile.SpooledTemporaryFile(max_size=8 * 2**20)  # noqa: SIM115
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr("data.json", json.dumps(data, ensure_ascii=False, indent=2))
        for reading in data["readings"]:
            name = reading["audio_file"]
            if name and storage.exists(name):
                extension = name.rsplit(".", 1)[-1]
                with bundle.open(f"recordings/{reading['id']}.{extension}", "w") as target:
                    storage.copy_to(name, target)  # streamed: a long reading is never read whole
    archive.seek(0)
    return archive


def recording_folder_name(recording_id) -> str:
    """The storage folder of a recording's files (original, 16 kHz speech, 48 kHz voice)."""
    return f"recordings/{recording_id}"


def _copy_upload_to(upload: UploadedFile, destination: Path) -> int:
    written = 0
    with destination.open("wb") as handle:
        for chunk in upload.chunks():
            written += len(chunk)
            if written > settings.RECORDING_MAX_BYTES:
                raise RecordingRejected(
                    _("The file is larger than %(limit)d MB.") % {"limit": settings.RECORDING_MAX_BYTES // 2**20},
                    code="too_large",
                    status=413,
                )
            handle.write(chunk)
    return written


def recording_submit(
    *,
    contributor,
    passage: Passage,
    upload: UploadedFile,
    video_consent: bool = False,
    idempotency_key: str = "",
    role=None,
    open_dataset: bool = False,
) -> Recording:
    """Check an uploaded reading and keep it for moderation.

    Nothing is stored unless every check passes: the file decodes as audio (probed by ffmpeg, never
    by its name or content type), fits the size and duration limits, and holds a voice.

    IDEMPOTENCY_KEY (the page's name for this take): a second upload with the same key, a retry whose
    first answer was lost, gets the reading the first one made (``recording.replayed`` is True) and
    stores nothing.

    OPEN_DATASET: the reader's opt-in for this reading to join the festival's open dataset (off unless
    they tick it; independent of the film's consent).
    """
    if idempotency_key:
        earlier = recording_for_idempotency_key(contributor=contributor, key=idempotency_key)
        if earlier is not None:
            return earlier
    if not passage.is_open or not passage.event.is_open:
        raise RecordingRejected(_("This passage is not open for recordings."), code="passage_closed", status=409)
    # A dialogue is read role by role (ROLE, one of the passage's); any other passage is read whole.
    if passage.kind == Passage.Kind.DIALOGUE and (role is None or role.passage_id != passage.id):
        raise RecordingRejected(_("Choose the role you read in this dialogue."), code="role_required")
    if passage.kind != Passage.Kind.DIALOGUE:
        role = None
    consent = consent_current(user=contributor)
    if consent is None or not consent.public_animation:
        raise RecordingRejected(
            _("Please agree to how your voice is used before recording."), code="consent_required", status=403
        )
    if upload.size is not None and upload.size > settings.RECORDING_MAX_BYTES:
        raise RecordingRejected(
            _("The file is larger than %(limit)d MB.") % {"limit": settings.RECORDING_MAX_BYTES // 2**20},
            code="too_large",
            status=413,
        )
    if not upload.size:
        raise RecordingRejected(_("The file is empty."), code="empty")

    with tempfile.TemporaryDirectory(prefix="upload-") as scratch:
        uploaded = Path(scratch) / "original"
        _copy_upload_to(upload, uploaded)
        # A picture is never kept without its own consent: the original becomes the sound alone.
        original, camera_video = _separate_video(uploaded, passage=passage, video_consent=video_consent)
        try:
            probe = audio.probe_audio(original, timeout=20)
        except EngineInputError:
            raise RecordingRejected(
                _("We could not read this file as a sound recording. Please record again or choose another file."),
                code="not_audio",
            ) from None
        limit = passage.max_seconds + DURATION_TOLERANCE_SECONDS
        if probe.duration_seconds > limit:
            raise RecordingRejected(
                _("The recording is %(seconds)d seconds long; this passage allows %(limit)d seconds.")
                % {"seconds": round(probe.duration_seconds), "limit": passage.max_seconds},
                code="too_long",
            )
        extension = _extension_for(probe.format_name, probe.codec)
        if original == uploaded:
            # A camera reading's sound is already a copy without metadata (video.audio_only_copy).
            original = _without_metadata(original, probe=probe, extension=extension)
        try:
            # Decoding only up to the limit bounds the work a hostile header (a "2-hour" file) can cause.
            samples = audio.decode_audio(original, sample_rate=16000, max_seconds=limit + 1, timeout=60)
        except EngineInputError:
            raise RecordingRejected(
                _("The recording is damaged and cannot be played. Please record again."), code="not_audio"
            ) from None
        stats = audio.measure_audio(samples, 16000)
        if stats.duration_seconds > limit:
            raise RecordingRejected(
                _("The recording is longer than this passage allows (%(limit)d seconds).")
                % {"limit": passage.max_seconds},
                code="too_long",
            )
        if stats.duration_seconds < MIN_DURATION_SECONDS:
            raise RecordingRejected(_("The recording is too short."), code="too_short")
        if audio.is_mostly_silent(stats):
            raise RecordingRejected(
                _("We could not hear a voice in this recording. Check the microphone and record again."),
                code="silent",
            )

        recording = Recording(
            passage=passage,
            role=role,
            contributor=contributor,
            consent=consent,
            original_extension=extension,
            codec=probe.codec,
            duration_seconds=round(stats.duration_seconds, 3),
            audio_stats=stats.to_dict(),
            video_consented_at=timezone.now() if camera_video is not None else None,
            idempotency_key=idempotency_key,
            credited_as=contributor.public_name,
            open_dataset=open_dataset,
            open_dataset_changed_at=timezone.now() if open_dataset else None,
        )
        speech = Path(scratch) / "speech16k.wav"
        audio.write_wav(speech, samples, 16000)
        folder = recording_folder_name(recording.id)
        saved: list[str] = []
        committed: list[bool] = []
        try:
            saved.append(storage.save(original, f"{folder}/original.{recording.original_extension}"))
            saved.append(storage.save(speech, f"{folder}/speech16k.wav"))
            recording.original.name, recording.speech_wav.name = saved
            if camera_video is not None:
                saved.append(storage.save(camera_video, f"{folder}/video{camera_video.suffix}"))
                recording.video.name = saved[-1]
            with transaction.atomic():
                # Registered first, so it runs first: from here on the reading is the resident's, kept.
                transaction.on_commit(lambda: committed.append(True))
                # Locks the consent row: a withdrawal running now waits for this insert, then deletes it
                # with the rest (on SQLite the write lock serialises them the same way).
                if not Consent.objects.select_for_update().filter(id=consent.id, withdrawn_at__isnull=True).exists():
                    raise RecordingRejected(
                        _("Please agree to how your voice is used before recording."),
                        code="consent_required",
                        status=403,
                    )
                try:
                    with transaction.atomic():
                        recording.save(force_insert=True)
                except IntegrityError:
                    # The same take sent twice at once: the other request kept it first.
                    earlier = recording_for_idempotency_key(contributor=contributor, key=idempotency_key)
                    if not idempotency_key or earlier is None:
                        raise
                    storage.delete(*saved)
                    saved.clear()
                    return earlier
                # The hand-off never fails the upload: if the broker is down, recording_sweep sends it later.
                transaction.on_commit(lambda: recording_hand_off(recording_id=recording.id), robust=True)
                signals.moderation_queue_changed.send(sender=None, event_id=passage.event_id)
        except BaseException:
            # Never delete the files of a reading whose row was committed: only an upload that was not
            # kept leaves nothing behind.
            if not committed:
                storage.delete(*saved)
            raise
    return recording


def recording_set_open_dataset(*, recording: Recording, open_dataset: bool) -> bool:
    """The reader opts this reading in or out of the open dataset, in one conditional UPDATE.

    Out: it is left out of every release made from now on (a release already made keeps it: earlier
    downloads cannot be recalled). A withdrawn reading changes nothing (it is in no later release anyway).
    Returns whether the reading now has OPEN_DATASET.
    """
    with transaction.atomic():
        changed = (
            Recording.objects.filter(id=recording.id)
            .exclude(status=Recording.Status.WITHDRAWN)
            .exclude(open_dataset=open_dataset)
            .update(open_dataset=open_dataset, open_dataset_changed_at=timezone.now())
        )
        if changed and not open_dataset:
            signals.recording_left_open_dataset.send(sender=None, recording_id=recording.id)
    if changed:
        recording.open_dataset = open_dataset
    return (
        Recording.objects.filter(id=recording.id, open_dataset=open_dataset)
        .exclude(status=Recording.Status.WITHDRAWN)
        .exists()
    )


def recording_for_idempotency_key(*, contributor, key: str) -> Recording | None:
    earlier = Recording.objects.filter(contributor=contributor, idempotency_key=key).first()
    if earlier is not None:
        earlier.replayed = True
    return earlier


def _without_metadata(original: Path, *, probe: audio.AudioProbe, extension: str) -> Path:
    """ORIGINAL's sound without its container's and streams' tags, by stream copy (the sound unchanged).

    A phone's file names its model, the time and the place; a desktop tool, the resident's name. A file
    no stream copy takes in its own container is kept as it came: a reading is never lost for its tags.
    """
    clean = original.with_name("clean")
    try:
        audio.copy_without_metadata(original, clean, probe=probe, container=extension, timeout=30)
    except EngineInputError as error:
        logger.warning("upload of %s (%s) kept with its metadata: %s", extension, probe.codec, error)
        return original
    original.unlink()
    return clean


def _extension_for(format_name: str, codec: str) -> str:
    formats = format_name.split(",")
    for known in ("webm", "ogg", "wav", "mp3", "flac", "mp4", "mov"):
        if known in formats:
            return {"mov": "m4a", "mp4": "m4a"}.get(known, known)
    return {"opus": "ogg", "vorbis": "ogg", "aac": "m4a"}.get(codec, "audio")


# ---------------------------------------------------------------------------------------------
# The hand-off to the workers: an outbox on the recording row, swept by recording_sweep


def handoff_grace_seconds() -> int:
    # A reading committed a moment ago is being handed off by its own request: leave it to that.
    return int(settings.RECORDING_HANDOFF_GRACE_SECONDS)


def handoff_resend_seconds() -> int:
    # A message the broker took but no worker started this long after (a Redis restarted without its
    # data, a worker that died holding it) is sent again. Duplicates are harmless: tasks claim first.
    return int(settings.RECORDING_HANDOFF_RESEND_SECONDS)


MAX_HANDOFF_ATTEMPTS = 5


def recording_hand_off(*, recording_id) -> bool:
    """Send a kept reading's first steps (transcription, 48 kHz voice copy) to the workers.

    True once the broker has the messages. A broker that is down is no error for the resident: the row
    stays marked unsent and recording_sweep sends it when the broker is back.
    """
    from contributions.tasks import recording_prepare_voice, recording_transcribe

    try:
        # retry=False: the request must not wait on a dead broker; the sweep is the retry.
        recording_transcribe.apply_async((str(recording_id),), retry=False)
        recording_prepare_voice.apply_async((str(recording_id),), retry=False)
        if Recording.objects.filter(id=recording_id, motion_extracted_at__isnull=True).exclude(video="").exists():
            from contributions.tasks import recording_extract_motion

            recording_extract_motion.apply_async((str(recording_id),), retry=False)
        # The animation layer aligns the text while the reading waits for review (its own task).
        signals.recording_received.send(sender=None, recording_id=recording_id)
    except Exception:
        logger.warning("recording %s: the broker did not take its tasks; the sweep will send them", recording_id)
        return False
    Recording.objects.filter(id=recording_id).update(
        handoff_sent_at=timezone.now(), handoff_attempts=F("handoff_attempts") + 1
    )
    return True


def recording_claim_transcription(*, recording_id) -> bool:
    """Take RECORDING's transcription for this worker; False when it is done, withdrawn or running
    elsewhere (a duplicate message). A claim older than the resend time is taken over."""
    now = timezone.now()
    stale = now - timedelta(seconds=handoff_resend_seconds())
    return bool(
        Recording.objects.filter(id=recording_id, status=Recording.Status.PENDING, transcribed_at__isnull=True)
        .filter(Q(transcribe_started_at__isnull=True) | Q(transcribe_started_at__lt=stale))
        .update(transcribe_started_at=now)
    )


def recording_sweep(*, now=None, limit: int = 500) -> dict[str, int]:
    """The periodic catch-up (beat, every minute): send hand-offs that never reached a worker, and
    finish withdrawals that were interrupted, erase rejected readings' voices past their retention.
    Returns what it did, by kind."""
    now = now or timezone.now()
    done = {"sent": 0, "unsent": 0, "withdrawn": 0, "erased": 0, "rejected_erased": 0}

    # Consent withdrawn but a recording left behind (the withdrawal stopped half-way).
    left_behind = (
        Recording.objects.filter(consent__withdrawn_at__isnull=False)
        .exclude(status=Recording.Status.WITHDRAWN)
        .values_list("id", flat=True)[:limit]
    )
    for recording_id in list(left_behind):
        recording_withdraw(recording=Recording(id=recording_id))
        done["withdrawn"] += 1
    # Withdrawn, but its files or voice-derived fields were not all erased.
    unerased = Recording.objects.filter(status=Recording.Status.WITHDRAWN, erased_at__isnull=True)
    for recording_id in list(unerased.values_list("id", flat=True)[:limit]):
        recording_erase(recording_id=recording_id)
        done["erased"] += 1
    # A rejected reading's voice is kept only for the retention period (for a curator's reversal).
    expired = Recording.objects.filter(
        status=Recording.Status.REJECTED, erased_at__isnull=True, updated_at__lt=now - rejected_retention()
    )
    for recording_id in list(expired.values_list("id", flat=True)[:limit]):
        done["rejected_erased"] += recording_erase(recording_id=recording_id, status=Recording.Status.REJECTED)

    grace = now - timedelta(seconds=handoff_grace_seconds())
    resend = now - timedelta(seconds=handoff_resend_seconds())
    needs_work = Q(status=Recording.Status.PENDING, transcribed_at__isnull=True) | (
        Q(voice_wav="") & ~Q(original="") & ~Q(status=Recording.Status.WITHDRAWN)
    )
    never_sent = Q(handoff_sent_at__isnull=True, created_at__lt=grace)
    never_started = Q(handoff_sent_at__lt=resend) & (
        Q(transcribe_started_at__isnull=True) | Q(transcribe_started_at__lt=resend)
    )
    due = (
        Recording.objects.filter(needs_work)
        .filter(never_sent | never_started)
        .filter(handoff_attempts__lt=MAX_HANDOFF_ATTEMPTS)
        .order_by("created_at")
        .values_list("id", flat=True)[:limit]
    )
    for recording_id in list(due):
        if recording_hand_off(recording_id=recording_id):
            done["sent"] += 1
        else:
            done["unsent"] += 1
            break  # the broker is still down: the next sweep tries again
    return done


@transaction.atomic
def recording_record_voice(*, recording_id, voice_name) -> bool:
    """Point the recording at its 48 kHz copy; False (the caller deletes the file) when the recording
    was withdrawn meanwhile or another worker's copy got there first."""
    kept = bool(
        Recording.objects.filter(id=recording_id, voice_wav="")
        .exclude(status=Recording.Status.WITHDRAWN)
        .update(voice_wav=str(voice_name))
    )
    if kept:
        signals.recording_prepared.send(sender=None, recording_id=recording_id)
    return kept


def recording_replace_voice(*, recording_id, voice_name) -> bool:
    """Point the recording at a 48 kHz copy made again because the first was lost; False when withdrawn."""
    return bool(
        Recording.objects.filter(id=recording_id)
        .exclude(status=Recording.Status.WITHDRAWN)
        .update(voice_wav=str(voice_name))
    )


def recording_record_transcript(*, recording_id, transcript: str, language: str, match_score: float) -> bool:
    """Keep Whisper's transcript; False when the recording was withdrawn while it ran (nothing is written)."""
    return bool(
        Recording.objects.filter(id=recording_id)
        .exclude(status=Recording.Status.WITHDRAWN)
        .update(
            transcript=transcript,
            transcript_language=language,
            match_score=match_score,
            transcribed_at=timezone.now(),
        )
    )


# ---------------------------------------------------------------------------------------------
# Moderation: claims, decisions, undo, the film gate, reversal by curators


class RecordingClaimed(InvalidTransition):
    """Another moderator holds an unexpired claim on the recording."""


class UndoRefused(InvalidTransition):
    """The decision can no longer be undone (too late, not yours, or already undone)."""


def claim_seconds() -> int:
    # Long enough to listen twice to the longest passage and decide; short enough that a moderator
    # who walks away does not hide a recording for long.
    return int(settings.MODERATION_CLAIM_SECONDS)


def undo_seconds() -> int:
    return int(settings.MODERATION_UNDO_SECONDS)


def _claim_free_for(moderator, now):
    return Q(claimed_until__isnull=True) | Q(claimed_until__lte=now) | Q(claimed_by=moderator)


def recording_claim(*, recording: Recording, moderator) -> bool:
    """Claim (or renew the claim on) RECORDING for MODERATOR; False when someone else holds it or
    it is no longer pending. One conditional UPDATE, so two moderators can never both win."""
    now = timezone.now()
    claimed = (
        Recording.objects.filter(id=recording.id, status=Recording.Status.PENDING)
        .exclude(contributor=moderator)
        .filter(_claim_free_for(moderator, now))
        .update(claimed_by=moderator, claimed_until=now + timedelta(seconds=claim_seconds()))
    )
    if claimed:
        # A moderator works on one recording at a time: whatever else they held goes back to the queue.
        Recording.objects.filter(claimed_by=moderator).exclude(id=recording.id).update(
            claimed_by=None, claimed_until=None
        )
    return bool(claimed)


def recording_claim_next(
    *,
    moderator,
    event_id: Any = None,
    painting_id: Any = None,
    language: str | None = None,
    after_id: Any = None,
    backwards: bool = False,
) -> Recording | None:
    """Claim the next recording in queue order after AFTER_ID (or the oldest), or the previous one
    when BACKWARDS. A candidate another moderator claimed a moment earlier is skipped."""
    after = Recording.objects.filter(id=after_id).first() if after_id else None
    candidates = selectors.moderation_claimable(
        moderator=moderator,
        event_id=event_id,
        painting_id=painting_id,
        language=language,
        after=after,
        backwards=backwards,
    )
    # Each loop is one lost race; a small batch is plenty, re-reading covers the rare long streak.
    for _attempt in range(5):
        batch = list(candidates.values_list("id", flat=True)[:10])
        if not batch:
            break
        for recording_id in batch:
            recording = Recording(id=recording_id)
            if recording_claim(recording=recording, moderator=moderator):
                return selectors.moderation_recording(recording_id=recording_id)
    if after is None and not backwards:
        recording_release_all(moderator=moderator)
    return None


def recording_release(*, recording: Recording, moderator) -> None:
    Recording.objects.filter(id=recording.id, claimed_by=moderator).update(claimed_by=None, claimed_until=None)


def recording_release_all(*, moderator) -> None:
    Recording.objects.filter(claimed_by=moderator).update(claimed_by=None, claimed_until=None)


def _decide(recording: Recording, moderator, **changes) -> None:
    """Move RECORDING out of pending unless it was decided already or someone else has it claimed.
    A moderator's own reading is never theirs to decide (another moderator reviews it)."""
    if Recording.objects.filter(id=recording.id, contributor=moderator).exists():
        raise PermissionDenied(_("You cannot moderate your own reading."))
    now = timezone.now()
    changed = (
        Recording.objects.filter(id=recording.id, status=Recording.Status.PENDING)
        .filter(_claim_free_for(moderator, now))
        .update(claimed_by=None, claimed_until=None, updated_at=now, **changes)
    )
    if changed:
        signals.moderation_queue_changed.send(sender=None, event_id=recording.passage.event_id)
        return
    current = Recording.objects.select_related("claimed_by").filter(id=recording.id).first()
    if current is not None and current.status == Recording.Status.PENDING:
        raise RecordingClaimed(
            _("%(name)s is reviewing this recording right now.") % {"name": current.claimed_by.public_name}
        )
    raise InvalidTransition(_("This recording has already been decided."))


@transaction.atomic
def recording_approve(*, recording: Recording, moderator, listened_seconds: float | None = None) -> Recording:
    """Approve a pending recording and start its animation once the transaction commits."""
    _decide(recording, moderator, status=Recording.Status.APPROVED)
    # The camera video was kept for this review only (curves are what the film uses).
    transaction.on_commit(lambda: recording_discard_video(recording_id=recording.id), robust=True)
    ModerationDecision.objects.create(
        recording=recording,
        moderator=moderator,
        verdict=ModerationDecision.Verdict.APPROVE,
        listened_seconds=listened_seconds,
    )
    recording.refresh_from_db()
    signals.recording_approved.send(sender=None, recording=recording)
    return recording


@transaction.atomic
def recording_reject(
    *, recording: Recording, moderator, reason: str, note: str = "", listened_seconds: float | None = None
) -> Recording:
    """Reject with a reason the resident sees. The voice is kept (for a curator's reversal, until the
    retention ends; it is never public anyway); a film made ahead of the decision is deleted."""
    if reason not in Recording.RejectionReason.values:
        raise ValueError(f"unknown rejection reason {reason!r}")
    _decide(recording, moderator, status=Recording.Status.REJECTED, rejection_reason=reason, rejection_note=note)
    transaction.on_commit(lambda: recording_discard_video(recording_id=recording.id), robust=True)
    ModerationDecision.objects.create(
        recording=recording,
        moderator=moderator,
        verdict=ModerationDecision.Verdict.REJECT,
        reason=reason,
        note=note,
        listened_seconds=listened_seconds,
    )
    recording.refresh_from_db()
    # A film made while the reading waited (animation) goes with the rejection; the voice stays.
    signals.recording_rejected.send(sender=None, recording=recording)
    return recording


def _supersede(decision: ModerationDecision, *, extra_filter: Q | None = None) -> bool:
    """Mark DECISION taken back, once: a second undo or reversal of the same decision finds nothing."""
    decisions = ModerationDecision.objects.filter(id=decision.id, reversed_at__isnull=True)
    if extra_filter is not None:
        decisions = decisions.filter(extra_filter)
    return bool(decisions.update(reversed_at=timezone.now()))


def _take_films_down(recording: Recording) -> None:
    # The films are public files: they go, so that a taken-back approval leaves nothing playable.
    # The recording's own audio stays; a later approval makes a new film from it.
    signals.recording_approval_taken_back.send(sender=None, recording=recording)


@transaction.atomic
def decision_undo(*, decision: ModerationDecision, moderator) -> ModerationDecision:
    """The moderator takes back their own decision within undo_seconds(); the recording (or film)
    returns to the queue, claimed by them so they can decide again at once."""
    if (
        decision.moderator_id != moderator.pk
        or decision.reverses_id is not None  # a curator's reversal is reversed, not undone
        or decision.verdict not in (ModerationDecision.Verdict.APPROVE, ModerationDecision.Verdict.REJECT)
    ):
        raise UndoRefused(_("Only your own last decision can be undone."))
    deadline = timezone.now() - timedelta(seconds=undo_seconds())
    if not _supersede(decision, extra_filter=Q(created_at__gte=deadline)):
        raise UndoRefused(_("This decision can no longer be undone; a curator can reverse it."))
    if decision.subject == ModerationDecision.Subject.ANIMATION:
        signals.send_to_the_one_listener(signals.film_decision_undone, decision=decision)
    else:
        _recording_back_to_queue(decision, moderator=moderator)
    return ModerationDecision.objects.create(
        subject=decision.subject,
        recording_id=decision.recording_id,
        animation_id=decision.animation_id,
        moderator=moderator,
        verdict=ModerationDecision.Verdict.UNDO,
        reverses=decision,
    )


def _recording_back_to_queue(decision: ModerationDecision, *, moderator) -> None:
    now = timezone.now()
    approved = decision.verdict == ModerationDecision.Verdict.APPROVE
    expected = Recording.Status.APPROVED if approved else Recording.Status.REJECTED
    moved = Recording.objects.filter(id=decision.recording_id, status=expected).update(
        status=Recording.Status.PENDING,
        rejection_reason="",
        rejection_note="",
        claimed_by=moderator,
        claimed_until=now + timedelta(seconds=claim_seconds()),
        updated_at=now,
    )
    if not moved:
        raise UndoRefused(_("The recording has changed since; it cannot be undone."))
    if approved:
        _take_films_down(Recording.objects.get(id=decision.recording_id))


def film_rejection_message(reason: str, note: str) -> str:
    label = ModerationDecision.FilmRejectionReason(reason).label
    message = _("A moderator held the film back: %(reason)s.") % {"reason": label}
    return f"{message} {note}".strip()


def film_decision_record(*, animation, moderator, verdict: str, reason: str = "", note: str = "") -> ModerationDecision:
    """The audit row of a moderator's decision about a finished film (animation.services decides it)."""
    return ModerationDecision.objects.create(
        subject=ModerationDecision.Subject.ANIMATION,
        recording_id=animation.recording_id,
        animation=animation,
        moderator=moderator,
        verdict=verdict,
        reason=reason,
        note=note,
    )


@transaction.atomic
def decision_reverse(*, decision: ModerationDecision, curator, reason: str = "", note: str = "") -> ModerationDecision:
    """A curator overturns a decision still in force, at any time; the new decision is the opposite.

    Approved recording -> rejected with REASON (its films are unpublished and their files deleted);
    rejected recording -> approved (the animation is queued again);
    published film -> held back with REASON; held-back film -> published.
    """
    if not event_curated_by(event_id=decision.recording.passage.event_id, user=curator):
        raise PermissionDenied(_("Only the festival's curators can reverse its decisions."))
    if decision.verdict not in (ModerationDecision.Verdict.APPROVE, ModerationDecision.Verdict.REJECT):
        raise InvalidTransition(_("Only an approval or a rejection can be reversed."))
    if decision.reversed_at is not None:
        raise InvalidTransition(_("This decision has already been taken back."))
    film = decision.subject == ModerationDecision.Subject.ANIMATION
    to_reject = decision.verdict == ModerationDecision.Verdict.APPROVE
    valid_reasons = ModerationDecision.FilmRejectionReason.values if film else Recording.RejectionReason.values
    if to_reject and reason not in valid_reasons:
        raise ValueError(f"a reversal to rejection needs a reason, not {reason!r}")
    if not _supersede(decision):
        raise InvalidTransition(_("This decision has already been taken back."))
    now = timezone.now()
    if film:
        signals.send_to_the_one_listener(
            signals.film_decision_reversed, decision=decision, to_reject=to_reject, reason=reason, note=note
        )
    else:
        recording = Recording.objects.select_related("passage").get(id=decision.recording_id)
        if to_reject:
            moved = Recording.objects.filter(id=recording.id, status=Recording.Status.APPROVED).update(
                status=Recording.Status.REJECTED, rejection_reason=reason, rejection_note=note, updated_at=now
            )
            if moved:
                _take_films_down(recording)
        else:
            if recording.erased_at is not None:
                raise InvalidTransition(
                    _("This reading's voice was deleted %(days)d days after its rejection; it cannot be approved.")
                    % {"days": settings.RECORDING_REJECTED_RETENTION_DAYS}
                )
            moved = Recording.objects.filter(id=recording.id, status=Recording.Status.REJECTED).update(
                status=Recording.Status.APPROVED, rejection_reason="", rejection_note="", updated_at=now
            )
            if moved:
                recording.refresh_from_db()
                signals.recording_approved.send(sender=None, recording=recording)
        if not moved:
            raise InvalidTransition(_("The recording has changed since this decision."))
    return ModerationDecision.objects.create(
        subject=decision.subject,
        recording_id=decision.recording_id,
        animation_id=decision.animation_id,
        moderator=curator,
        verdict=ModerationDecision.Verdict.REJECT if to_reject else ModerationDecision.Verdict.APPROVE,
        reason=reason if to_reject else "",
        note=note,
        reverses=decision,
    )


def recording_withdraw(*, recording: Recording) -> None:
    """The resident takes their voice back: the audio and everything made from it are deleted.

    The status changes first, in one conditional UPDATE: from then on no late transcription, voice copy
    or decision can write to the row. The erasure after it is idempotent and finished by recording_sweep
    if this is interrupted, so calling this again is always safe.
    """
    now = timezone.now()
    changed = (
        Recording.objects.filter(id=recording.id)
        .exclude(status=Recording.Status.WITHDRAWN)
        .update(status=Recording.Status.WITHDRAWN, claimed_by=None, claimed_until=None, updated_at=now)
    )
    if changed:
        event_id = Recording.objects.filter(id=recording.id).values_list("passage__event_id", flat=True).first()
        with transaction.atomic():
            signals.moderation_queue_changed.send(sender=None, event_id=event_id)
    recording_erase(recording_id=recording.id)


# STATUS is a Recording.Status; typed Any because mypy, without Django's stubs, reads choices as tuples.
def recording_erase(*, recording_id, status: Any = Recording.Status.WITHDRAWN) -> bool:
    """Delete everything voice-derived of a WITHDRAWN recording (or, with STATUS, a REJECTED one past its
    retention): its files (original, speech and voice copies, anything else in its folder), transcript,
    match score, audio figures, its alignment and its films (through the animation side). The row stays:
    the audit log points at it. Safe to repeat; False when the recording is not in STATUS."""
    recording = Recording.objects.filter(id=recording_id, status=status).first()
    if recording is None:
        return False
    names = [
        name
        for name in (recording.original.name, recording.speech_wav.name, recording.voice_wav.name, recording.video.name)
        if name
    ]
    with transaction.atomic():
        signals.recording_erasing.send(sender=None, recording=recording)
        Recording.objects.filter(id=recording_id, status=status).update(
            original="",
            speech_wav="",
            voice_wav="",
            transcript="",
            transcript_language="",
            match_score=None,
            transcribed_at=None,
            audio_stats={},
            duration_seconds=0,
            video="",
            motion_curves={},
            motion_note="",
            motion_source="",
            open_dataset=False,
        )
    # Files after the commit: a failure here leaves erased_at empty and the sweep deletes them again.
    storage.delete(*names)
    storage.delete_prefix(recording_folder_name(recording_id))
    Recording.objects.filter(id=recording_id, status=status).update(erased_at=timezone.now())
    return True


def rejected_retention() -> timedelta:
    return timedelta(days=settings.RECORDING_REJECTED_RETENTION_DAYS)


# ---------------------------------------------------------------------------------------------
# Reading with the camera (issue 15): the video's own consent, the motion curves, deleting the video

# Bytes a second of camera video may take: the studio records 640x480 at about 1 Mbit/s; a phone's own
# camera app (H.264 or HEVC at 720p) stays under 3 Mbit/s.
VIDEO_BYTES_PER_SECOND = 3_000_000 // 8
VIDEO_MIN_BYTES = 2 * 2**20
# The largest picture kept: a phone's 1080p. The motion is measured on a 640-pixel copy anyway.
VIDEO_MAX_PIXELS = 1920 * 1080


def video_max_bytes(passage: Passage) -> int:
    """The upload cap of a reading with the camera: what the passage's length needs, no more than
    RECORDING_VIDEO_MAX_BYTES (by default the audio cap: a short video fits in it)."""
    ceiling = int(settings.RECORDING_VIDEO_MAX_BYTES)
    needed = int((passage.max_seconds + DURATION_TOLERANCE_SECONDS) * VIDEO_BYTES_PER_SECOND) + VIDEO_MIN_BYTES
    return min(ceiling, needed)


def video_kept_for_review() -> bool:
    return bool(settings.RECORDING_VIDEO_KEEP_FOR_REVIEW)


def _separate_video(original: Path, *, passage: Passage, video_consent: bool) -> tuple[Path, Path | None]:
    """(the sound to check and keep, the camera video to keep or None). A file with a picture is split;
    the picture is kept only with VIDEO_CONSENT, within the video size cap and in a codec we decode."""
    from animation.engine import video

    stream = video.video_stream(original)
    if stream is None:
        if video_consent:
            raise RecordingRejected(
                _("We could not find the camera's picture in this recording. Record again, or without the camera."),
                code="no_video",
            )
        return original, None
    if video_consent:
        if stream.codec not in video.VIDEO_CODECS:
            raise RecordingRejected(
                _("This video format (%(codec)s) cannot be read. Please record in the studio.")
                % {"codec": stream.codec},
                code="video_format",
            )
        if stream.width * stream.height > VIDEO_MAX_PIXELS:
            raise RecordingRejected(
                _("The video is %(width)d×%(height)d pixels; record at 1080p or less, or in the studio.")
                % {"width": stream.width, "height": stream.height},
                code="video_too_large",
                status=413,
            )
        limit = video_max_bytes(passage)
        if original.stat().st_size > limit:
            raise RecordingRejected(
                _("The video is larger than %(limit)d MB.") % {"limit": max(1, limit // 2**20)},
                code="too_large",
                status=413,
            )
    try:
        sound = video.audio_only_copy(original, original.with_name("sound"))
    except ValueError:
        raise RecordingRejected(
            _("We could not read this file as a sound recording. Please record again or choose another file."),
            code="not_audio",
        ) from None
    if not video_consent:
        original.unlink()
        return sound, None
    kept = original.with_name("video" + (".webm" if sound.suffix == ".webm" else ".mp4"))
    try:
        video.video_copy(original, kept, max_seconds=passage.max_seconds + DURATION_TOLERANCE_SECONDS)
    except ValueError:
        raise RecordingRejected(
            _("This video format (%(codec)s) cannot be read. Please record in the studio.") % {"codec": stream.codec},
            code="video_format",
        ) from None
    original.unlink()
    return sound, kept


def recording_claim_motion(*, recording_id) -> bool:
    """Take RECORDING's motion extraction for this worker; False when it is done, withdrawn, has no
    video, or runs elsewhere (a claim older than the resend time is taken over)."""
    now = timezone.now()
    stale = now - timedelta(seconds=handoff_resend_seconds())
    return bool(
        Recording.objects.filter(id=recording_id, motion_extracted_at__isnull=True)
        .exclude(status=Recording.Status.WITHDRAWN)
        .exclude(video="")
        .filter(Q(motion_started_at__isnull=True) | Q(motion_started_at__lt=stale))
        .update(motion_started_at=now)
    )


@transaction.atomic
def recording_record_motion(*, recording_id, curves: dict[str, Any], note: str) -> bool:
    """Keep the extracted curves; False when the recording was withdrawn meanwhile (nothing written)."""
    kept = bool(
        Recording.objects.filter(id=recording_id, motion_extracted_at__isnull=True)
        .exclude(status=Recording.Status.WITHDRAWN)
        .update(motion_curves=curves, motion_note=note, motion_extracted_at=timezone.now())
    )
    if kept:
        signals.recording_prepared.send(sender=None, recording_id=recording_id)
    return kept


def recording_discard_video(*, recording_id, force: bool = False) -> bool:
    """Delete the camera video once it is no longer needed: after extraction, unless it is kept for
    the moderator's review of a pending recording (FORCE ignores that). True when a video was deleted."""
    recording = Recording.objects.filter(id=recording_id).exclude(video="").first()
    if recording is None:
        return False
    reviewing = recording.status == Recording.Status.PENDING and video_kept_for_review()
    if not force and (recording.motion_extracted_at is None or reviewing):
        return False
    name = recording.video.name
    # The row first: from here nobody is pointed at the file, then the file goes.
    if not Recording.objects.filter(id=recording_id, video=name).update(video=""):
        return False
    storage.delete(name)
    return True


def recording_record_motion_source(*, recording_id, source: str, note: str = "") -> None:
    """What moved the figure in the latest film ("video" or "voice") and why, for the resident."""
    changes: dict[str, Any] = {"motion_source": source[:10]}
    if note:
        changes["motion_note"] = note
    Recording.objects.filter(id=recording_id).exclude(status=Recording.Status.WITHDRAWN).update(**changes)


def recording_motion_sweep(*, now=None, limit: int = 100) -> int:
    """Send again the extraction of camera readings that never ran (a message lost with the broker, or a
    worker that died holding it); the task's claim makes duplicates harmless. Returns how many."""
    from contributions.tasks import recording_extract_motion

    now = now or timezone.now()
    stale = now - timedelta(seconds=handoff_resend_seconds())
    due = (
        Recording.objects.filter(motion_extracted_at__isnull=True, handoff_sent_at__lt=stale)
        .exclude(video="")
        .exclude(status=Recording.Status.WITHDRAWN)
        .filter(Q(motion_started_at__isnull=True) | Q(motion_started_at__lt=stale))
        .values_list("id", flat=True)[:limit]
    )
    sent = 0
    for recording_id in list(due):
        try:
            recording_extract_motion.apply_async((str(recording_id),), retry=False)
        except Exception:
            logger.warning("recording %s: the broker did not take its motion extraction", recording_id)
            break
        sent += 1
    return sent


# ---------------------------------------------------------------------------------------------
# The recording flow's anonymous funnel


def recording_funnel_count(*, passage: Passage, step: str, day: date | None = None) -> None:
    """Count one page view of PASSAGE's recording page reaching STEP (a RecordingFunnelCount.Step value)
    today, or on DAY. Only the count is kept: nothing about who, from where or with what.

    One UPDATE adds one with F() so concurrent counts never lose each other; the day's first count
    creates the row, and a creation that loses the race to another process adds to the row it made.
    """
    if step not in RecordingFunnelCount.Step.values:
        raise ValueError(f"unknown funnel step {step!r}")
    day = day or timezone.localdate()
    rows = RecordingFunnelCount.objects.filter(passage=passage, step=step, day=day)
    if rows.update(count=F("count") + 1):
        return
    try:
        with transaction.atomic():
            RecordingFunnelCount.objects.create(event_id=passage.event_id, passage=passage, step=step, day=day, count=1)
    except IntegrityError:
        rows.update(count=F("count") + 1)
