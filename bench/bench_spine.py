"""End-to-end benchmark of the spine: seconds from approval to `animation.published`, split by stage.

    python platform/with_redis.py .venv/bin/python bench/bench_spine.py   (make bench runs it)

Uses a scratch SQLite database and media folder, the Redis at REDIS_URL, a real Celery worker in this
process, real Whisper and the real engine, on a 10 s clip made from the repo's demo speech.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
SCRATCH = Path(tempfile.mkdtemp(prefix="shuohua-bench-"))
os.environ.setdefault("SECRET_KEY", "bench-only")
os.environ["DATABASE_URL"] = f"sqlite:///{SCRATCH / 'bench.sqlite3'}"
os.environ["MEDIA_ROOT"] = str(SCRATCH / "media")
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
os.environ["CHANNELS_PREFIX"] = "shuohua-bench"
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from asgiref.sync import async_to_sync  # noqa: E402
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


def main() -> None:
    from accounts.models import User
    from animation.models import Animation
    from config.celery import app
    from contributions import services
    from contributions.models import Passage
    from gallery.events import event_group
    from gallery.models import Event, Painting

    call_command("migrate", verbosity=0)
    event = Event.objects.create(slug="bench", title="Bench")
    painting = Painting(event=event, title="Bench portrait")
    with (REPO / "demo" / "paintings" / "art_2.jpg").open("rb") as handle:
        painting.image.save("art_2.jpg", File(handle), save=False)
    painting.save()
    text = "床前明月光，疑是地上霜。举头望明月，低头思故乡。床前明月光，疑是地上霜。"
    passage = Passage.objects.create(event=event, painting=painting, title="静夜思", text=text, language="zh")
    resident = User.objects.create_user("bench-resident", display_name="Bench")
    moderator = User.objects.create_user("bench-moderator")
    services.consent_give(user=resident, public_animation=True, open_dataset=False)
    clip = make_clip(SCRATCH / "clip.webm")

    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(event_group(event.id), channel)

    app.conf.task_always_eager = False
    with start_worker(app, queues=["default", "speech", "render"], perform_ping_check=False, pool="solo"):
        rows = []
        for run in range(3):
            recording = services.recording_submit(
                contributor=resident,
                passage=passage,
                upload=SimpleUploadedFile("clip.webm", clip.read_bytes()),
            )
            time.sleep(4)  # let the moderators' transcript task finish: it is not part of approval -> published
            started = time.monotonic()
            services.recording_approve(recording=recording, moderator=moderator)
            while True:
                message = async_to_sync(layer.receive)(channel)
                if message["type"] == "animation.published":
                    break
                failed = Animation.objects.filter(recording=recording, status=Animation.Status.FAILED).first()
                if failed is not None:
                    raise SystemExit(f"the animation failed: {failed.error}")
                if time.monotonic() - started > 600:
                    raise SystemExit("no animation.published within 600 s")
            total = time.monotonic() - started
            animation = Animation.objects.get(recording=recording)
            rows.append((run, total, animation.stage_seconds))

    print(f"\nSpine benchmark: {CLIP_SECONDS:.0f} s Mandarin clip, 512x512 at 25 fps, {os.cpu_count()} cores")
    print("run 0 includes loading Whisper and the face mesh in the worker; later runs are warm\n")
    stages = ["prepare_voice", "align", "faces", "motion", "render", "encode"]
    print(
        f"{'run':>3} {'approval->published':>20} "
        + " ".join(f"{stage:>13}" for stage in stages)
        + f" {'queues+db':>10}"
    )
    for run, total, stage_seconds in rows:
        accounted = sum(stage_seconds.get(stage, 0.0) for stage in stages)
        print(
            f"{run:>3} {total:>19.2f}s "
            + " ".join(f"{stage_seconds.get(stage, 0.0):>12.2f}s" for stage in stages)
            + f" {total - accounted:>9.2f}s"
        )


if __name__ == "__main__":
    main()
