"""Celery tasks of the animation pipeline. They take ids, claim their stage, call the engine with
plain paths, and hand results to services. Safe to run twice: the second finds nothing to claim."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from animation import services
from animation.engine.errors import EngineInputError
from animation.models import Animation

logger = logging.getLogger(__name__)


def whisper_model_for(language: str) -> str:
    return settings.WHISPER_MODEL_ENGLISH if language.lower().startswith("en") else settings.WHISPER_MODEL


def _media_path(name: str) -> Path:
    return Path(settings.MEDIA_ROOT) / name


def _media_name(path: Path) -> str:
    return path.relative_to(settings.MEDIA_ROOT).as_posix()


@shared_task(acks_late=True, soft_time_limit=600, time_limit=660)
def animation_align(animation_id: str) -> None:
    from animation.engine import align, audio
    from contributions.models import Recording

    if not services.animation_claim(animation_id=animation_id, status=Animation.Status.QUEUED):
        return
    animation = Animation.objects.select_related("recording__passage").get(id=animation_id)
    recording = animation.recording
    passage = recording.passage
    try:
        clock = time.monotonic()
        voice_path = _media_path(recording.original.name).parent / "voice48k.wav"
        if not voice_path.exists():
            # Normally made when the reading arrived (recording_prepare_voice); this covers a lost task.
            audio.convert_for_voice(_media_path(recording.original.name), voice_path)
        if not recording.voice_wav:
            Recording.objects.filter(id=recording.id).update(voice_wav=_media_name(voice_path))
            recording.voice_wav.name = _media_name(voice_path)
        prepare_seconds = time.monotonic() - clock
        model_name = whisper_model_for(passage.language)
        clock = time.monotonic()
        result = align.align_text(
            _media_path(recording.speech_wav.name), text=passage.text, language=passage.language, model=model_name
        )
        services.animation_record_alignment(
            animation_id=animation_id,
            result=result.to_dict(),
            align_seconds=time.monotonic() - clock,
            prepare_seconds=prepare_seconds,
            webvtt=align.alignment_to_webvtt(result),
            model_name=model_name,
        )
    except EngineInputError as error:
        services.animation_fail(
            animation_id=animation_id, reason=f"The words could not be placed on the voice: {error}"
        )
    except SoftTimeLimitExceeded:
        services.animation_fail(animation_id=animation_id, reason="Aligning the words took too long.")
    except Exception:
        logger.exception("alignment of animation %s failed", animation_id)
        services.animation_fail(animation_id=animation_id, reason="Aligning the words failed unexpectedly.")
        raise


@shared_task(acks_late=True, soft_time_limit=1800, time_limit=1900)
def animation_render(animation_id: str) -> None:
    from animation.engine import pipeline

    if not services.animation_claim(animation_id=animation_id, status=Animation.Status.RENDERING):
        return
    animation = Animation.objects.select_related("recording__passage__painting", "recording__alignment").get(
        id=animation_id
    )
    recording = animation.recording
    passage = recording.passage
    painting = passage.painting
    alignment = recording.alignment
    folder = services.animation_folder(animation.id)
    folder.mkdir(parents=True, exist_ok=True)
    # We hold the claim, so any scratch folder here is what a killed worker left behind.
    for leftover in folder.glob(".render-*"):
        shutil.rmtree(leftover, ignore_errors=True)
    started = time.monotonic()
    try:
        # Render into a scratch folder and move finished files into place, so the database never
        # points at a half-written film even if the worker dies mid-render.
        with tempfile.TemporaryDirectory(prefix=".render-", dir=folder) as scratch:
            scratch_film = Path(scratch) / "film.mp4"
            report = pipeline.animate(
                painting_path=_media_path(painting.image.name),
                audio_path=_media_path(recording.voice_wav.name or recording.speech_wav.name),
                alignment={"units": alignment.units, "phrases": alignment.phrases, "language": alignment.language},
                out_path=scratch_film,
                face_index=passage.speaking_face,
                size=settings.ANIMATION_SIZE,
                fps=animation.fps,
                device=settings.ANIMATION_DEVICE,
                landmarks_override=painting.landmarks_override,
                curves_path=Path(scratch) / "curves.json",
                seed=animation.id.int % 2**31,
                progress=services.ProgressReporter(animation.id, start=0.3, end=0.98),
            )
            placed = {
                "video": folder / "film.mp4",
                "poster": folder / "poster.jpg",
                "subtitles": folder / "subtitles.vtt",
                "curves": folder / "curves.json",
            }
            os.replace(scratch_film.with_suffix(".jpg"), placed["poster"])
            # The stored alignment is the one source of the subtitles, whatever the engine wrote.
            scratch_film.with_suffix(".vtt").write_text(alignment.webvtt, encoding="utf-8")
            os.replace(scratch_film.with_suffix(".vtt"), placed["subtitles"])
            os.replace(Path(scratch) / "curves.json", placed["curves"])
            os.replace(scratch_film, placed["video"])
        stage_seconds = {key: round(value, 3) for key, value in report["seconds"].items() if key != "align"}
        stage_seconds["render_task"] = round(time.monotonic() - started, 3)
        services.animation_record_film(
            animation_id=animation_id,
            files={key: _media_name(path) for key, path in placed.items()},
            frame_count=report["frames"],
            stage_seconds=stage_seconds,
        )
    except EngineInputError as error:
        shutil.rmtree(folder, ignore_errors=True)
        services.animation_fail(animation_id=animation_id, reason=f"The painting could not be animated: {error}")
    except SoftTimeLimitExceeded:
        shutil.rmtree(folder, ignore_errors=True)
        services.animation_fail(animation_id=animation_id, reason="Animating the painting took too long.")
    except Exception:
        logger.exception("render of animation %s failed", animation_id)
        shutil.rmtree(folder, ignore_errors=True)
        services.animation_fail(animation_id=animation_id, reason="Animating the painting failed unexpectedly.")
        raise


@shared_task
def animation_sweep_stuck() -> list[str]:
    return services.animation_sweep_stuck()
