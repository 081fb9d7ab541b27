"""Curator work off the request path: test films of passages. Tasks take ids and call services.

Files go through the storage API: inputs are copied into a scratch folder, results put back (no shared disk).
"""

from __future__ import annotations

import logging
from pathlib import Path

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from core import storage
from gallery import services
from gallery.models import PassagePreview

logger = logging.getLogger(__name__)


# On the render queue (CELERY_TASK_ROUTES), where the GPU workers are in a deployment.
@shared_task(acks_late=True, soft_time_limit=900, time_limit=960)
def passage_preview_render(preview_id: str) -> None:
    """A test film of the passage read by the sample voice: the same alignment and render as a
    resident's film, so what the curator watches is what residents will get."""
    from animation.engine import align, audio, pipeline
    from animation.engine.errors import EngineInputError
    from core.speech_models import whisper_model_for

    if not services.passage_preview_claim(preview_id=preview_id):
        return
    preview = PassagePreview.objects.select_related("passage__painting").get(id=preview_id)
    passage, painting = preview.passage, preview.passage.painting
    prefix = f"previews/{preview.id}"
    try:
        with storage.scratch_folder(f"preview-{preview.id}") as scratch:
            sample = storage.fetch(
                preview.sample_voice.name, scratch, as_name="sample" + Path(preview.sample_voice.name).suffix
            )
            painting_path = storage.fetch(
                painting.image.name, scratch, as_name="painting" + Path(painting.image.name).suffix
            )
            speech = scratch / "speech16k.wav"
            voice = scratch / "voice48k.wav"
            audio.convert_for_speech(sample, speech)
            audio.convert_for_voice(sample, voice)
            result = align.align_text(
                speech, text=passage.text, language=passage.language, model=whisper_model_for(passage.language)
            )
            film = scratch / "film.mp4"
            pipeline.animate(
                painting_path=painting_path,
                audio_path=voice,
                alignment=result.to_dict(),
                out_path=film,
                face_index=passage.speaking_face,
                size=settings.ANIMATION_SIZE,
                fps=settings.ANIMATION_FPS,
                device=settings.ANIMATION_DEVICE,
                landmarks_override=painting.landmarks_override,
            )
            # The film goes last: whoever sees film.mp4 in storage sees a complete set.
            placed = {
                "poster": storage.put(film.with_suffix(".jpg"), f"{prefix}/poster.jpg"),
                "subtitles": storage.put(film.with_suffix(".vtt"), f"{prefix}/subtitles.vtt"),
                "video": storage.put(film, f"{prefix}/film.mp4"),
            }
        services.passage_preview_record(preview_id=preview_id, files=placed)
    except EngineInputError as error:
        services.passage_preview_fail(preview_id=preview_id, reason=str(error))
    except SoftTimeLimitExceeded:
        services.passage_preview_fail(preview_id=preview_id, reason="The test film took too long.")
    except Exception:
        logger.exception("test film %s failed", preview_id)
        services.passage_preview_fail(preview_id=preview_id, reason="The test film failed unexpectedly.")
        raise
