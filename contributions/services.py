"""Writes for residents and moderators. Every state change is one conditional UPDATE, so a double
click or a retried request changes nothing twice."""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from animation.engine import audio
from animation.engine.errors import EngineInputError
from contributions.models import Consent, ModerationDecision, Passage, Recording
from contributions.selectors import consent_current

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


def consent_give(*, user, public_animation: bool, open_dataset: bool) -> Consent:
    return Consent.objects.create(user=user, public_animation=public_animation, open_dataset=open_dataset)


def consent_withdraw(*, user) -> int:
    return Consent.objects.filter(user=user, withdrawn_at__isnull=True).update(withdrawn_at=timezone.now())


def recording_folder(recording_id) -> Path:
    return Path(settings.MEDIA_ROOT) / "recordings" / str(recording_id)


def _media_name(path: Path) -> str:
    return path.relative_to(settings.MEDIA_ROOT).as_posix()


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


def recording_submit(*, contributor, passage: Passage, upload: UploadedFile) -> Recording:
    """Check an uploaded reading and keep it for moderation.

    Nothing is stored unless every check passes: the file decodes as audio (probed by ffmpeg, never
    by its name or content type), fits the size and duration limits, and holds a voice.
    """
    if not passage.is_open or not passage.event.is_open:
        raise RecordingRejected(_("This passage is not open for recordings."), code="passage_closed", status=409)
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
        original = Path(scratch) / "original"
        _copy_upload_to(upload, original)
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
            contributor=contributor,
            consent=consent,
            original_extension=_extension_for(probe.format_name, probe.codec),
            codec=probe.codec,
            duration_seconds=round(stats.duration_seconds, 3),
            audio_stats=stats.to_dict(),
        )
        folder = recording_folder(recording.id)
        folder.mkdir(parents=True, exist_ok=True)
        try:
            original_path = folder / f"original.{recording.original_extension}"
            shutil.copyfile(original, original_path)
            speech_path = folder / "speech16k.wav"
            audio.write_wav(speech_path, samples, 16000)
            recording.original.name = _media_name(original_path)
            recording.speech_wav.name = _media_name(speech_path)
            with transaction.atomic():
                recording.save(force_insert=True)
                transaction.on_commit(lambda: _after_submit(recording.id))
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
    return recording


def _extension_for(format_name: str, codec: str) -> str:
    formats = format_name.split(",")
    for known in ("webm", "ogg", "wav", "mp3", "flac", "mp4", "mov"):
        if known in formats:
            return {"mov": "m4a", "mp4": "m4a"}.get(known, known)
    return {"opus": "ogg", "vorbis": "ogg", "aac": "m4a"}.get(codec, "audio")


def _after_submit(recording_id) -> None:
    from contributions.tasks import recording_transcribe

    recording_transcribe.delay(str(recording_id))


def recording_record_transcript(*, recording_id, transcript: str, language: str, match_score: float) -> None:
    Recording.objects.filter(id=recording_id).update(
        transcript=transcript, transcript_language=language, match_score=match_score
    )


@transaction.atomic
def recording_approve(*, recording: Recording, moderator) -> Recording:
    from animation.services import animation_start

    changed = Recording.objects.filter(id=recording.id, status=Recording.Status.PENDING).update(
        status=Recording.Status.APPROVED, updated_at=timezone.now()
    )
    if not changed:
        raise InvalidTransition(_("This recording has already been decided."))
    ModerationDecision.objects.create(
        recording=recording, moderator=moderator, verdict=ModerationDecision.Verdict.APPROVE
    )
    recording.refresh_from_db()
    animation_start(recording=recording)
    return recording


@transaction.atomic
def recording_reject(*, recording: Recording, moderator, reason: str, note: str = "") -> Recording:
    if reason not in Recording.RejectionReason.values:
        raise ValueError(f"unknown rejection reason {reason!r}")
    changed = Recording.objects.filter(id=recording.id, status=Recording.Status.PENDING).update(
        status=Recording.Status.REJECTED, rejection_reason=reason, rejection_note=note, updated_at=timezone.now()
    )
    if not changed:
        raise InvalidTransition(_("This recording has already been decided."))
    ModerationDecision.objects.create(
        recording=recording, moderator=moderator, verdict=ModerationDecision.Verdict.REJECT, reason=reason, note=note
    )
    recording.refresh_from_db()
    return recording


def recording_withdraw(*, recording: Recording) -> None:
    """The resident takes their voice back: the audio and everything made from it are deleted."""
    from animation.services import animation_remove_for_recording

    with transaction.atomic():
        changed = (
            Recording.objects.filter(id=recording.id)
            .exclude(status=Recording.Status.WITHDRAWN)
            .update(status=Recording.Status.WITHDRAWN, updated_at=timezone.now())
        )
        if not changed:
            return
        animation_remove_for_recording(recording=recording, delete_files=True)
        Recording.objects.filter(id=recording.id).update(original="", speech_wav="", voice_wav="")
    shutil.rmtree(recording_folder(recording.id), ignore_errors=True)
