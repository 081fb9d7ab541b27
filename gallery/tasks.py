"""Curator work off the request path: face detection and test films. Tasks take ids and call services."""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from gallery import services
from gallery.models import Painting, PassagePreview

logger = logging.getLogger(__name__)


def _media_path(name: str) -> Path:
    return Path(settings.MEDIA_ROOT) / name


# Both belong on the render queue (CELERY_TASK_ROUTES), where the GPU workers are in a deployment.
@shared_task(soft_time_limit=300, time_limit=330)
def painting_detect_faces(painting_id: str) -> None:
    """Find the painting's faces and keep them. Running it twice stores the same result twice."""
    from animation.engine import faces
    from animation.engine.errors import EngineInputError

    painting = Painting.objects.filter(id=painting_id).first()
    if painting is None:
        return  # deleted before the worker got to it
    try:
        image = faces.load_painting(_media_path(painting.image.name))
        found = faces.detect_faces(image)
    except EngineInputError as error:
        services.painting_record_face_error(painting_id=painting_id, reason=str(error))
        return
    except SoftTimeLimitExceeded:
        services.painting_record_face_error(painting_id=painting_id, reason="Looking for faces took too long.")
        return
    services.painting_record_faces(painting_id=painting_id, faces=[face.to_dict() for face in found])


@shared_task(acks_late=True, soft_time_limit=900, time_limit=960)
def passage_preview_render(preview_id: str) -> None:
    """A test film of the passage read by the sample voice: the same alignment and render as a
    resident's film, so what the curator watches is what residents will get."""
    from animation.engine import align, audio, pipeline
    from animation.engine.errors import EngineInputError
    from animation.tasks import whisper_model_for

    if not services.passage_preview_claim(preview_id=preview_id):
        return
    preview = PassagePreview.objects.select_related("passage__painting").get(id=preview_id)
    passage, painting = preview.passage, preview.passage.painting
    folder = _media_path(f"previews/{preview.id}")
    folder.mkdir(parents=True, exist_ok=True)
    try:
        with tempfile.TemporaryDirectory(prefix=".render-", dir=folder) as scratch:
            scratch = Path(scratch)
            speech = scratch / "speech16k.wav"
            voice = scratch / "voice48k.wav"
            audio.convert_for_speech(_media_path(preview.sample_voice.name), speech)
            audio.convert_for_voice(_media_path(preview.sample_voice.name), voice)
            result = align.align_text(
                speech, text=passage.text, language=passage.language, model=whisper_model_for(passage.language)
            )
            film = scratch / "film.mp4"
            pipeline.animate(
                painting_path=_media_path(painting.image.name),
                audio_path=voice,
                alignment=result.to_dict(),
                out_path=film,
                face_index=passage.speaking_face,
                size=settings.ANIMATION_SIZE,
                fps=settings.ANIMATION_FPS,
                device=settings.ANIMATION_DEVICE,
                landmarks_override=painting.landmarks_override,
            )
            placed = {
                "video": folder / "film.mp4",
                "poster": folder / "poster.jpg",
                "subtitles": folder / "subtitles.vtt",
            }
            os.replace(film.with_suffix(".jpg"), placed["poster"])
            os.replace(film.with_suffix(".vtt"), placed["subtitles"])
            os.replace(film, placed["video"])
        services.passage_preview_record(
            preview_id=preview_id,
            files={key: path.relative_to(settings.MEDIA_ROOT).as_posix() for key, path in placed.items()},
        )
    except EngineInputError as error:
        services.passage_preview_fail(preview_id=preview_id, reason=str(error))
    except SoftTimeLimitExceeded:
        services.passage_preview_fail(preview_id=preview_id, reason="The test film took too long.")
    except Exception:
        logger.exception("test film %s failed", preview_id)
        services.passage_preview_fail(preview_id=preview_id, reason="The test film failed unexpectedly.")
        raise
