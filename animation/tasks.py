"""Celery tasks of the animation pipeline. They take ids, claim their stage, copy their inputs from
storage into a scratch folder, call the engine with plain local paths, put results back in storage and
hand them to services. Safe to run twice: the second finds nothing to claim.

While a task holds a claim, a heartbeat thread refreshes the row every ANIMATION_HEARTBEAT_SECONDS. A
worker killed mid-job (SIGKILL, a lost machine) stops beating; the sweeper takes the job back after
ANIMATION_HEARTBEAT_TIMEOUT_SECONDS, while a healthy long render keeps its claim however long it runs.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import close_old_connections, connection

from animation import services
from animation.engine.errors import EngineInputError
from animation.models import Animation
from catalogue import selectors as catalogue_selectors
from core import storage
from core.speech_models import whisper_model_for

logger = logging.getLogger(__name__)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class ClaimLost(Exception):
    """The sweeper took the job back (our heartbeat looked dead): stop and leave it to the new claim."""


class StoringFailed(Exception):
    """Storage refused the finished files (a full disk, a bucket out of quota)."""


@contextlib.contextmanager
def heartbeat(animation_id: str, token: str) -> Iterator[threading.Event]:
    """Beat for the claim TOKEN in a thread while the block runs; the yielded event is set if the claim
    was lost, so long loops can give up early."""
    stop, lost = threading.Event(), threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(settings.ANIMATION_HEARTBEAT_SECONDS):
                try:
                    if not services.animation_heartbeat(animation_id=animation_id, token=token):
                        lost.set()
                        return
                except Exception:
                    # A database blip: the next beat tries again; only a long silence loses the claim.
                    logger.warning("heartbeat of animation %s failed", animation_id, exc_info=True)
                    close_old_connections()
        finally:
            connection.close()

    thread = threading.Thread(target=beat, name=f"heartbeat-{animation_id}", daemon=True)
    thread.start()
    try:
        yield lost
    finally:
        stop.set()
        thread.join(timeout=5)


@shared_task(acks_late=True, soft_time_limit=300, time_limit=330)
def recording_align_early(recording_id: str) -> None:
    """Align the passage's text to the voice while the reading waits for a moderator, so that an approval
    costs no Whisper pass (animation_align finds it done). Idempotent: a current alignment is kept; a
    reading decided against or withdrawn meanwhile gets none."""
    from animation.engine import align
    from contributions.models import Recording

    recording = (
        Recording.objects.select_related("passage")
        .filter(id=recording_id, status__in=(Recording.Status.PENDING, Recording.Status.APPROVED))
        .first()
    )
    if recording is None or not recording.speech_wav:
        return
    passage = recording.passage
    model_name = whisper_model_for(passage.language)
    if services.alignment_current(recording=recording, model_name=model_name) is not None:
        services.animation_prepare_before_approval(recording_id=recording_id)
        return
    with storage.scratch_folder(f"align-early-{recording_id}") as scratch:
        speech = scratch / "speech16k.wav"
        if not storage.fetch_if_present(recording.speech_wav.name, speech):
            return  # withdrawn: its files are gone
        clock = time.monotonic()
        try:
            result = align.align_text(speech, text=recording.text_to_read, language=passage.language, model=model_name)
        except EngineInputError:
            logger.info("recording %s: no early alignment; the approval's own pass will say why", recording_id)
            return
        services.alignment_record_early(
            recording_id=recording_id,
            text=recording.text_to_read,
            result=result.to_dict(),
            webvtt=align.alignment_to_webvtt(result),
            model_name=model_name,
            seconds=time.monotonic() - clock,
        )
    # The film too, privately, once everything it needs is there (nothing when the reading was decided).
    services.animation_prepare_before_approval(recording_id=recording_id)


@shared_task(acks_late=True, soft_time_limit=600, time_limit=660)
def animation_align(animation_id: str) -> None:
    from animation.engine import align, audio
    from contributions import services as contribution_services

    token = services.animation_claim(animation_id=animation_id, status=Animation.Status.QUEUED, worker=worker_name())
    if token is None:
        return
    animation = Animation.objects.select_related("recording__passage").get(id=animation_id)
    recording = animation.recording
    passage = recording.passage
    try:
        with heartbeat(animation_id, token), storage.scratch_folder(f"align-{animation_id}") as scratch:
            clock = time.monotonic()
            voice_name = recording.voice_wav.name
            if not voice_name or not storage.exists(voice_name):
                # Normally made when the reading arrived (recording_prepare_voice); this covers a lost task.
                original = storage.fetch(recording.original.name, scratch)
                voice = scratch / "voice48k.wav"
                audio.convert_for_voice(original, voice)
                voice_name = storage.put(voice, str(PurePosixPath(recording.original.name).parent / "voice48k.wav"))
                contribution_services.recording_replace_voice(recording_id=recording.id, voice_name=voice_name)
            prepare_seconds = time.monotonic() - clock
            model_name = whisper_model_for(passage.language)
            early = services.alignment_current(recording=recording, model_name=model_name)
            if early is not None:
                # Aligned while the reading waited for review (recording_align_early): no Whisper now.
                result = {
                    "language": early.language,
                    "transcript": early.transcript,
                    "match": early.match_score,
                    "units": early.units,
                    "phrases": early.phrases,
                }
                webvtt, align_seconds = early.webvtt, 0.0
            else:
                speech = storage.fetch(recording.speech_wav.name, scratch, as_name="speech16k.wav")
                clock = time.monotonic()
                aligned = align.align_text(
                    speech, text=recording.text_to_read, language=passage.language, model=model_name
                )
                result, webvtt = aligned.to_dict(), align.alignment_to_webvtt(aligned)
                align_seconds = time.monotonic() - clock
            services.animation_record_alignment(
                animation_id=animation_id,
                result=result,
                align_seconds=align_seconds,
                prepare_seconds=prepare_seconds,
                webvtt=webvtt,
                model_name=model_name,
                token=token,
                text=recording.text_to_read,
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


FILM_FILES = {"video": "film.mp4", "poster": "poster.jpg", "subtitles": "subtitles.vtt", "curves": "curves.json"}


def _voice_alignment(recording, *, language: str, scratch: Path) -> dict:
    """RECORDING's alignment to its own text: the one made when it arrived, else made now."""
    from animation.engine import align

    model_name = whisper_model_for(language)
    current = services.alignment_current(recording=recording, model_name=model_name)
    if current is not None:
        return {"units": current.units, "phrases": current.phrases, "language": current.language}
    speech = storage.fetch(recording.speech_wav.name, scratch, as_name=f"speech-{recording.id}.wav")
    result = align.align_text(speech, text=recording.text_to_read, language=language, model=model_name)
    return result.to_dict()


def _render_dialogue(animation, passage, voices, *, painting_path: Path, scratch: Path, out: Path, progress) -> dict:
    """A dialogue film (issue 22): every line in the dialogue's order, cut from its role's reading, spoken
    by the figure cast for that role, the camera on whoever speaks. Raises EngineInputError."""
    from animation.dialogues import DialogueCast, Reading
    from animation.engine.dialogue import animate_dialogue

    cast = DialogueCast.of(voice.role for voice in voices)
    readings = []
    for voice in voices:
        recording = voice.recording
        take = storage.fetch(
            recording.voice_wav.name or recording.speech_wav.name, scratch, as_name=f"voice-{recording.id}.wav"
        )
        alignment = _voice_alignment(recording, language=passage.language, scratch=scratch)
        readings.append(Reading(audio_path=take, alignment=alignment, lines=list(voice.role.lines.all())))
    lines = passage.lines.select_related("role").order_by("order")
    turns = cast.turns(lines, readings, language=passage.language)
    return animate_dialogue(
        painting_path=painting_path,
        faces=cast.faces,
        turns=turns,
        out_path=out,
        size=settings.ANIMATION_SIZE,
        fps=animation.fps,
        device=settings.ANIMATION_DEVICE,
        camera=passage.camera or "cut",
        aspect=passage.aspect or None,
        head_range=passage.painting.head_range(),
        seed=animation.id.int % 2**31,
        progress=progress,
    )


@shared_task(acks_late=True, soft_time_limit=1800, time_limit=1900)
def animation_render(animation_id: str) -> None:
    from animation.engine import pipeline

    # Also a film made before the approval ("rendering_private"): the same render, recorded unseen.
    token = services.animation_claim(animation_id=animation_id, status=Animation.Status.RENDERING, worker=worker_name())
    if token is None:
        return
    animation = (
        Animation.objects.select_related("recording__passage__painting", "recording__alignment")
        .filter(id=animation_id)
        .first()
    )
    if animation is None:
        return  # made before the approval and deleted since (rejected, withdrawn)
    recording = animation.recording
    passage = recording.passage
    painting = passage.painting
    speaking = catalogue_selectors.speaking_figure(passage=passage)
    alignment = recording.alignment
    # What this film is made of, read before the render starts: a change meanwhile makes it outdated.
    inputs_digest = services.film_inputs_digest(recording=recording, speaking=speaking, alignment=alignment)
    prefix = storage.animation_prefix(animation.id)
    started = time.monotonic()
    try:
        with heartbeat(animation_id, token) as lost, storage.scratch_folder(f"render-{animation_id}") as scratch:
            painting_path = storage.fetch(
                painting.image.name, scratch, as_name="painting" + Path(painting.image.name).suffix
            )
            audio_path = storage.fetch(
                recording.voice_wav.name or recording.speech_wav.name, scratch, as_name="voice.wav"
            )
            scratch_film = scratch / "film.mp4"
            fetch_seconds = time.monotonic() - started
            # The reader's camera (issue 15): curves extracted at upload move the figure when usable.
            motion = None
            if recording.motion_curves:
                from animation.engine.capture import MotionCurves

                motion = MotionCurves.from_dict(recording.motion_curves)
            elif recording.video and storage.exists(recording.video.name):
                # Approved before the upload's extraction finished (a rare race): measure here.
                from animation.engine.capture import extract_motion

                try:
                    motion = extract_motion(storage.fetch(recording.video.name, scratch))
                except (EngineInputError, OSError):
                    # Unreadable, or deleted meanwhile by the finished extraction: the voice moves the figure.
                    logger.warning("animation %s: the reader's video could not be read", animation_id, exc_info=True)
            voices = list(animation.voices.select_related("role__figure", "recording"))
            if voices:
                report = _render_dialogue(
                    animation, passage, voices, painting_path=painting_path, scratch=scratch, out=scratch_film,
                    progress=services.ProgressReporter(animation.id, start=0.3, end=0.98, token=token),
                )  # fmt: skip
            else:
                report = None
            report = report or pipeline.animate(
                painting_path=painting_path,
                audio_path=audio_path,
                alignment={"units": alignment.units, "phrases": alignment.phrases, "language": alignment.language},
                out_path=scratch_film,
                size=settings.ANIMATION_SIZE,
                fps=animation.fps,
                device=settings.ANIMATION_DEVICE,
                aspect=passage.aspect or None,
                push_in=passage.push_in,
                head_range=painting.head_range(),
                # The figure cast for the passage, found once when the painting was added (catalogue.tasks)
                # or placed by a curator: the render never looks for faces again when there is one.
                landmarks_override=speaking.face if speaking else None,
                curves_path=scratch / "curves.json",
                seed=animation.id.int % 2**31,
                progress=services.ProgressReporter(animation.id, start=0.3, end=0.98, token=token),
                motion=motion,
            )
            if not voices:
                # The stored alignment is the one source of the subtitles, whatever the engine wrote.
                scratch_film.with_suffix(".vtt").write_text(alignment.webvtt, encoding="utf-8")
            local = {
                "video": scratch_film,
                "poster": scratch_film.with_suffix(".jpg"),
                "subtitles": scratch_film.with_suffix(".vtt"),
                "curves": scratch / "curves.json",
            }
            if lost.is_set():
                raise ClaimLost
            clock = time.monotonic()
            # The film goes last: a reader of storage who sees film.mp4 sees a complete set.
            placed = {}
            try:
                for key in ("poster", "subtitles", "curves", "video"):
                    if key == "curves" and not local[key].exists():
                        continue  # a dialogue film has no single figure's curves
                    placed[key] = storage.put(local[key], f"{prefix}/{FILM_FILES[key]}")
            except OSError as error:
                raise StoringFailed(error.strerror or str(error)) from error
            store_seconds = time.monotonic() - clock
        stage_seconds = {key: round(value, 3) for key, value in report["seconds"].items() if key != "align"}
        stage_seconds["fetch_inputs"] = round(fetch_seconds, 3)
        stage_seconds["store_files"] = round(store_seconds, 3)
        stage_seconds["render_task"] = round(time.monotonic() - started, 3)
        recorded = services.animation_record_film(
            animation_id=animation_id,
            files=placed,
            frame_count=report["frames"],
            stage_seconds=stage_seconds,
            token=token,
            # What moved the figure, and why: told to the reader with the film.
            motion=report.get("motion") or {},
            inputs_digest=inputs_digest,
        )
        if not recorded:
            if services.animation_is_removed(animation_id=animation_id):
                # Withdrawn (or, made before the approval, rejected) while it rendered: the folder was
                # deleted before these files were stored, so they go now, or they would stay for good.
                storage.delete_prefix(prefix)
                logger.info("animation %s: withdrawn while rendering; its files are deleted", animation_id)
            else:
                logger.warning(
                    "animation %s: rendered after its claim was taken back; the other run owns it", animation_id
                )
    except ClaimLost:
        if services.animation_is_removed(animation_id=animation_id):
            storage.delete_prefix(prefix)
        logger.warning("animation %s: claim taken back mid-render; stopping", animation_id)
    except EngineInputError as error:
        storage.delete_prefix(prefix)
        services.animation_fail(animation_id=animation_id, reason=f"The painting could not be animated: {error}")
    except SoftTimeLimitExceeded:
        storage.delete_prefix(prefix)
        services.animation_fail(animation_id=animation_id, reason="Animating the painting took too long.")
    except StoringFailed as error:
        # A full disk: nothing half-written stays behind, and the reader is told.
        logger.exception("render of animation %s could not store its files", animation_id)
        storage.delete_prefix(prefix)
        services.animation_fail(
            animation_id=animation_id, reason=f"The film could not be stored ({error}); try again later."
        )
    except Exception:
        logger.exception("render of animation %s failed", animation_id)
        storage.delete_prefix(prefix)
        services.animation_fail(animation_id=animation_id, reason="Animating the painting failed unexpectedly.")
        raise


@shared_task
def animation_sweep_stuck() -> list[str]:
    return services.animation_sweep_stuck()


@shared_task(acks_late=True, soft_time_limit=3000, time_limit=3300)
def dataset_release_build(release_id: str) -> bool:
    """Build one release of the open dataset (animation.datasets); a second run finds nothing to claim."""
    from animation import datasets

    return datasets.dataset_release_build(release_id=release_id)
