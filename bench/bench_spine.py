"""End-to-end benchmark of the spine: seconds from approval to `animation.published`, split by stage.

    python platform/with_redis.py .venv/bin/python bench/bench_spine.py   (make bench runs it)

Uses a scratch SQLite database and media folder, the Redis at REDIS_URL, a real Celery worker in this
process, real Whisper and the real engine, on a 10 s clip made from the repo's demo speech.

Two paths (issue 25): with ANIMATION_RENDER_BEFORE_APPROVAL off, the film is rendered after the approval
(the old path); on (the default), it is rendered while the reading waits, and the approval, made once
the private film is ready (a moderator listens to the whole reading first), only publishes it.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from testkit.figures import report  # noqa: E402
from testkit.scratch_site import use_scratch_site  # noqa: E402

SCRATCH = Path(tempfile.mkdtemp(prefix="shuohua-bench-"))
use_scratch_site(SCRATCH)
os.environ["CHANNELS_PREFIX"] = "shuohua-bench"

import django  # noqa: E402

django.setup()

from asgiref.sync import sync_to_async  # noqa: E402
from celery.contrib.testing.worker import start_worker  # noqa: E402
from channels.layers import get_channel_layer  # noqa: E402
from django.core.files import File  # noqa: E402
from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.core.management import call_command  # noqa: E402

CLIP_SECONDS = 10.0


def make_clip(path: Path) -> Path:
    """10.0 s of real Mandarin: the demo recitation, then again from the start, cut at 10 s."""
    import imageio_ffmpeg

    poem = REPO / "demo" / "speech" / "chinese_poem1.flac"
    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-v",
            "error",
            "-y",
            "-stream_loop",
            "1",
            "-i",
            str(poem),
            "-t",
            f"{CLIP_SECONDS}",
            "-c:a",
            "libopus",
            "-b:a",
            "64k",
            str(path),
        ],
        check=True,
    )
    return path


def wait_for_arrival_work(recording_id, timeout: float = 600) -> None:
    """What is done while the reading waits for review (a moderator listens to all of it first): the
    transcript, the 48 kHz voice copy and the alignment of the text."""
    from animation.models import Alignment
    from contributions.models import Recording

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        recording = Recording.objects.get(id=recording_id)
        if recording.transcribed_at and recording.voice_wav and Alignment.objects.filter(recording=recording).exists():
            return
        time.sleep(0.05)
    raise SystemExit("the reading's transcript, voice copy and alignment never arrived")


def wait_for_private_film(recording_id, timeout: float = 600) -> None:
    """The film made while the reading waits for review (ANIMATION_RENDER_BEFORE_APPROVAL)."""
    from animation.models import Animation

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        film = Animation.objects.filter(recording_id=recording_id).first()
        if film is not None and film.status == Animation.Status.RENDERED_PRIVATE:
            return
        if film is not None and film.status == Animation.Status.FAILED_PRIVATE:
            raise SystemExit(f"the film made before the approval failed: {film.error}")
        time.sleep(0.05)
    raise SystemExit("the film made before the approval never arrived")


async def measure(
    *, passage, resident, moderator, clip: Path, event, before_approval: bool
) -> list[tuple[int, float, dict, float]]:
    from animation.models import Animation
    from contributions import services
    from gallery.events import event_group

    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(event_group(event.id), channel)

    def submit():
        upload = SimpleUploadedFile("clip.webm", clip.read_bytes())
        return services.recording_submit(contributor=resident, passage=passage, upload=upload)

    from django.conf import settings

    settings.ANIMATION_RENDER_BEFORE_APPROVAL = before_approval
    rows = []
    for run in range(3):
        submitted = time.monotonic()
        recording = await sync_to_async(submit)()
        # What is done before the moderator decides (transcript, voice copy, alignment, and on the new
        # path the film itself) is not part of approval -> published: wait until the worker has really
        # finished it, then approve.
        await sync_to_async(wait_for_arrival_work)(recording.id)
        if before_approval:
            await sync_to_async(wait_for_private_film)(recording.id)
        ready_after = time.monotonic() - submitted
        started = time.monotonic()
        await sync_to_async(services.recording_approve)(recording=recording, moderator=moderator)
        while True:
            message = await asyncio.wait_for(layer.receive(channel), timeout=600)
            if message["type"] == "animation.published":
                break
        total = time.monotonic() - started
        animation = await sync_to_async(Animation.objects.get)(recording=recording)
        if animation.status == Animation.Status.FAILED:
            raise SystemExit(f"the animation failed: {animation.error}")
        rows.append((run, total, animation.stage_seconds, ready_after))
    return rows


def main() -> None:
    from accounts.models import User
    from catalogue.models import Event, Painting, Passage
    from config.celery import app
    from contributions import services

    call_command("migrate", verbosity=0)
    event = Event.objects.create(slug="bench", title="Bench")
    painting = Painting(event=event, title="Bench portrait")
    with (REPO / "demo" / "paintings" / "art_2.jpg").open("rb") as handle:
        painting.image.save("art_2.jpg", File(handle), save=False)
    painting.save()
    # Faces are found when a curator adds the painting (catalogue.tasks), never during a film's render.
    from catalogue.tasks import painting_detect_faces

    painting_detect_faces(str(painting.id))
    text = "床前明月光，疑是地上霜。举头望明月，低头思故乡。床前明月光，疑是地上霜。"
    passage = Passage.objects.create(event=event, painting=painting, title="静夜思", text=text, language="zh")
    resident = User.objects.create_user("bench-resident", display_name="Bench")
    moderator = User.objects.create_user("bench-moderator")
    services.consent_give(user=resident, public_animation=True, open_dataset=False)
    clip = make_clip(SCRATCH / "clip.webm")

    app.conf.task_always_eager = False

    async def both_paths():
        arguments = {"passage": passage, "resident": resident, "moderator": moderator, "clip": clip, "event": event}
        old = await measure(**arguments, before_approval=False)
        new = await measure(**arguments, before_approval=True)
        return old, new

    with start_worker(app, queues=["default", "speech", "render"], perform_ping_check=False, pool="solo"):
        # One event loop for the whole measurement: a channel layer's receive state belongs to its loop.
        rows, new_rows = asyncio.run(both_paths())

    # The in-process worker redirects stdout into its logger; the figures belong on the terminal.
    sys.stdout = sys.__stdout__
    print(f"\nSpine benchmark: {CLIP_SECONDS:.0f} s Mandarin clip, 512x512 at 25 fps, {os.cpu_count()} cores")
    print("run 0 includes loading Whisper and the face mesh in the worker; later runs are warm\n")
    print("Old path (ANIMATION_RENDER_BEFORE_APPROVAL off): the film is rendered after the approval")
    # Column -> the stage_seconds key it shows. Every column is a measured wall-clock span of the worker.
    columns = {
        "voice_copy": "prepare_voice",  # 48 kHz copy made in the align task (0 when made on arrival)
        "whisper_align": "align",  # forced alignment of the known text
        "fetch_inputs": "fetch_inputs",  # painting + voice copied from storage to the worker's scratch
        "face_mesh": "faces",  # face detection on the painting
        "motion_curves": "motion",  # visemes, blinks, head motion
        "warp_frames": "render",  # frame rendering (overlaps the encoder, which runs alongside)
        "encoder_wait": "encode",  # time blocked on ffmpeg's pipe after the frames, not ffmpeg's CPU time
        "store_files": "store_files",  # film, poster, subtitles, curves put back in storage
    }
    print(
        f"{'run':>3} {'approval->published':>20} "
        + " ".join(f"{name:>13}" for name in columns)
        + f" {'unaccounted':>12}"
    )
    for run, total, stage_seconds, _ready_after in rows:
        accounted = sum(stage_seconds.get(key, 0.0) for key in columns.values())
        print(
            f"{run:>3} {total:>19.2f}s "
            + " ".join(f"{stage_seconds.get(key, 0.0):>12.2f}s" for key in columns.values())
            + f" {total - accounted:>11.2f}s"
        )
    print("unaccounted = queue hand-offs, database writes, claims and the broadcast after commit")

    print("\nNew path (ANIMATION_RENDER_BEFORE_APPROVAL on, the default): rendered while the reading waits;")
    print("the approval comes once the private film is ready and only publishes it (floor: 0.30 s)")
    print(f"{'run':>3} {'approval->published':>20} {'render_before':>14} {'upload->film_ready':>19}")
    for run, total, stage_seconds, ready_after in new_rows:
        print(f"{run:>3} {total:>19.3f}s {stage_seconds.get('render_task', 0.0):>13.2f}s {ready_after:>18.2f}s")
    print("render_before = the render task's time, spent before the approval; upload->film_ready = how long")
    print("a moderator must take (listening to the reading) for the approval to find the film ready")
    # Warm runs only (run 0 loads the models): the medians are the guard's figures.
    warm_new = [total for run, total, _stages, _ready in new_rows if run > 0] or [r[1] for r in new_rows]
    warm_old = [total for run, total, _stages, _ready in rows if run > 0] or [r[1] for r in rows]
    report("spine.approval_to_published", statistics.median(warm_new), "s", better="lower", floor=0.3)
    report("spine.upload_to_private_film", statistics.median(r[3] for r in new_rows), "s", better="lower")
    report("spine.approval_to_published_render_after", statistics.median(warm_old), "s", better="lower")


if __name__ == "__main__":
    main()
