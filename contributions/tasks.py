"""Work on a fresh recording, off the request path."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from celery import shared_task
from django.conf import settings

from animation.engine.errors import EngineInputError
from contributions import services
from contributions.models import Recording

logger = logging.getLogger(__name__)


@shared_task(soft_time_limit=300, time_limit=330)
def recording_transcribe(recording_id: str) -> None:
    """Whisper's free transcript and match score, ready before a moderator opens the recording."""
    from animation.engine import align
    from animation.tasks import whisper_model_for

    recording = Recording.objects.select_related("passage").filter(id=recording_id).first()
    if recording is None or recording.status != Recording.Status.PENDING or not recording.speech_wav:
        return
    language = recording.passage.language
    try:
        transcript = align.transcribe(
            Path(settings.MEDIA_ROOT) / recording.speech_wav.name, language=language, model=whisper_model_for(language)
        )
    except EngineInputError:
        logger.warning("recording %s could not be transcribed", recording_id, exc_info=True)
        return
    services.recording_record_transcript(
        recording_id=recording.id,
        transcript=transcript.text,
        language=transcript.language,
        match_score=align.match_score(recording.passage.text, transcript.text, language=language),
    )


@shared_task(soft_time_limit=180, time_limit=200)
def recording_prepare_voice(recording_id: str) -> None:
    """The loudness-normalised 48 kHz copy the film will carry, made once when the reading arrives."""
    from animation.engine import audio

    recording = Recording.objects.filter(id=recording_id).exclude(status=Recording.Status.WITHDRAWN).first()
    if recording is None or recording.voice_wav or not recording.original:
        return
    original = Path(settings.MEDIA_ROOT) / recording.original.name
    voice = original.parent / "voice48k.wav"
    try:
        audio.convert_for_voice(original, voice)
    except EngineInputError:
        logger.warning("recording %s: no normalised voice copy", recording_id, exc_info=True)
        return
    services.recording_record_voice(recording_id=recording.id, voice_name=voice.relative_to(settings.MEDIA_ROOT))
    if Recording.objects.filter(id=recording.id, status=Recording.Status.WITHDRAWN).exists():
        # Withdrawn while we converted: the copy must not outlive the resident's decision.
        shutil.rmtree(voice.parent, ignore_errors=True)
