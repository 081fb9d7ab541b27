"""Curator work off the request path: test films of passages. Tasks take ids and call services.

Files go through the storage API: inputs are copied into a scratch folder, results put back (no shared disk).
"""

from __future__ import annotations

import logging
from pathlib import Path

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from catalogue import selectors as catalogue_selectors
from core import storage
from gallery import services
from gallery.models import PassagePreview

logger = logging.getLogger(__name__)


# On the render queue (CELERY_TASK_ROUTES), where the GPU workers are in a deployment.
@shared_task(acks_late=True, soft_time_limit=900, time_limit=960)
def passage_preview_render(preview_id: str) -> None:
    """A test film of the passage read by the sample voice: the same alignment and render as a
    resident's film, so what the curator watches is what residents will get."""
    from animation.engine import audio
    from animation.engine.errors import EngineInputError

    if not services.passage_preview_claim(preview_id=preview_id):
        return
    preview = PassagePreview.objects.select_related("passage__painting").get(id=preview_id)
    passage, painting = preview.passage, preview.passage.painting
    speaking = catalogue_selectors.speaking_figure(passage=passage)
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
            film = scratch / "film.mp4"
            if passage.kind == passage.Kind.DIALOGUE:
                # One sample voice reads the whole dialogue; each line is cut from it and spoken by its role's figure.
                _preview_dialogue(
                    passage, sample_speech=speech, sample_voice=voice, painting_path=painting_path, out=film
                )
            else:
                _preview_reading(passage, speaking, speech=speech, voice=voice, painting_path=painting_path, out=film)
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


def _preview_reading(passage, speaking, *, speech: Path, voice: Path, painting_path: Path, out: Path) -> None:
    from animation.engine import align, pipeline
    from core.speech_models import whisper_model_for

    result = align.align_text(
        speech, text=passage.text, language=passage.language, model=whisper_model_for(passage.language)
    )
    pipeline.animate(
        painting_path=painting_path,
        audio_path=voice,
        alignment=result.to_dict(),
        out_path=out,
        size=settings.ANIMATION_SIZE,
        fps=settings.ANIMATION_FPS,
        device=settings.ANIMATION_DEVICE,
        aspect=passage.aspect or None,
        push_in=passage.push_in,
        head_range=passage.painting.head_range(),
        # The figure cast for the passage (or the painting's first that may speak); with none
        # yet (detection still running), the engine looks for a face itself.
        landmarks_override=speaking.face if speaking else None,
    )


def _preview_dialogue(passage, *, sample_speech: Path, sample_voice: Path, painting_path: Path, out: Path) -> None:
    """One sample voice reads the whole dialogue; each line is cut from it and spoken by its role's figure."""
    from animation.dialogues import DialogueCast, Reading
    from animation.engine import align
    from animation.engine.dialogue import animate_dialogue
    from core.speech_models import whisper_model_for

    lines = list(passage.lines.select_related("role__figure").order_by("order"))
    cast = DialogueCast.of(line.role for line in lines)
    script = "\n".join(line.text for line in lines)
    result = align.align_text(
        sample_speech, text=script, language=passage.language, model=whisper_model_for(passage.language)
    ).to_dict()
    sample = Reading(audio_path=sample_voice, alignment=result, lines=lines)
    animate_dialogue(
        painting_path=painting_path,
        faces=cast.faces,
        turns=cast.turns(lines, [sample], language=passage.language),
        out_path=out,
        size=settings.ANIMATION_SIZE,
        fps=settings.ANIMATION_FPS,
        device=settings.ANIMATION_DEVICE,
        camera=passage.camera or "cut",
        aspect=passage.aspect or None,
        head_range=passage.painting.head_range(),
    )
