"""Work on a fresh recording, off the request path.

Tasks take ids and are safe to run twice (the sweep sends a message again when it never started).
Files come from and go back to Django's storage: a worker copies its input into a scratch folder,
runs the engine on local paths, and puts the result back through the storage API.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from celery import shared_task

from animation.engine.errors import EngineInputError
from contributions import services
from contributions.models import Recording
from core import storage

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, soft_time_limit=300, time_limit=330)
def recording_transcribe(recording_id: str) -> None:
    """Whisper's free transcript and match score, ready before a moderator opens the recording."""
    from animation.engine import align
    from core.speech_models import whisper_model_for

    if not services.recording_claim_transcription(recording_id=recording_id):
        return  # done, withdrawn, decided, or another worker has it
    recording = Recording.objects.select_related("passage").filter(id=recording_id).first()
    if recording is None or not recording.speech_wav:
        return
    language = recording.passage.language
    with tempfile.TemporaryDirectory(prefix="transcribe-") as scratch:
        speech = Path(scratch) / "speech16k.wav"
        if not storage.fetch_if_present(recording.speech_wav.name, speech):
            return
        try:
            transcript = align.transcribe(speech, language=language, model=whisper_model_for(language))
        except EngineInputError:
            # The sweep sends it again later, a few times at most (handoff_attempts).
            logger.warning("recording %s could not be transcribed", recording_id, exc_info=True)
            return
    # Conditional on the recording not being withdrawn meanwhile: a late transcript writes nothing.
    services.recording_record_transcript(
        recording_id=recording.id,
        transcript=transcript.text,
        language=transcript.language,
        match_score=align.match_score(recording.text_to_read, transcript.text, language=language),
    )


@shared_task(acks_late=True, soft_time_limit=180, time_limit=200)
def recording_prepare_voice(recording_id: str) -> None:
    """The loudness-normalised 48 kHz copy the film will carry, made once when the reading arrives."""
    from animation.engine import audio

    recording = Recording.objects.filter(id=recording_id).exclude(status=Recording.Status.WITHDRAWN).first()
    if recording is None or recording.voice_wav or not recording.original:
        return
    with tempfile.TemporaryDirectory(prefix="voice-") as scratch:
        original = Path(scratch) / Path(recording.original.name).name
        voice = Path(scratch) / "voice48k.wav"
        if not storage.fetch_if_present(recording.original.name, original):
            return
        try:
            audio.convert_for_voice(original, voice)
        except EngineInputError:
            logger.warning("recording %s: no normalised voice copy", recording_id, exc_info=True)
            return
        folder = services.recording_folder_name(recording.id)
        saved = storage.save(voice, f"{folder}/voice48k.wav")
    if not services.recording_record_voice(recording_id=recording.id, voice_name=saved):
        # Withdrawn while we converted (the copy must not outlive the resident's decision), or a
        # duplicate message's copy is already in place: this one goes.
        current = Recording.objects.filter(id=recording.id).values_list("voice_wav", flat=True).first()
        if current != saved:
            storage.delete(saved)


@shared_task
def recording_sweep() -> dict[str, int]:
    """Beat: hand-offs that never reached a worker are sent again; interrupted withdrawals finish; camera
    readings whose motion extraction never ran are sent again."""
    done = services.recording_sweep()
    done["motion_sent"] = services.recording_motion_sweep()
    return done


@shared_task(acks_late=True, soft_time_limit=300, time_limit=330)
def recording_extract_motion(recording_id: str) -> None:
    """The reader's head, eyes, brows and mouth from their camera video, at upload (before approval, so
    the film starts as fast as a voice-only one); the video is deleted after unless kept for review."""
    from animation.engine import capture

    if not services.recording_claim_motion(recording_id=recording_id):
        return  # done, withdrawn, no video, or another worker has it
    recording = Recording.objects.filter(id=recording_id).first()
    if recording is None or not recording.video:
        return
    with tempfile.TemporaryDirectory(prefix="motion-") as scratch:
        video = Path(scratch) / Path(recording.video.name).name
        if not storage.fetch_if_present(recording.video.name, video):
            return
        try:
            motion = capture.extract_motion(video)
        except EngineInputError as error:
            # The film falls back to the voice; the resident reads why.
            logger.warning("recording %s: no motion from its video", recording_id, exc_info=True)
            curves: dict = {}
            note = f"the video could not be read ({error}); the figure moves with the voice instead"
        else:
            curves, note = motion.to_dict(), motion.note
    if services.recording_record_motion(recording_id=recording.id, curves=curves, note=note):
        services.recording_discard_video(recording_id=recording.id)
