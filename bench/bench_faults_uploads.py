"""Redis stops in the middle of a stream of uploads and approvals, then comes back: is anything lost?

    python platform/with_redis.py .venv/bin/python bench/bench_faults_uploads.py

A redis-server of the benchmark's own carries the Celery broker and the channel layer. Residents upload
BENCH_UPLOADS readings through the API (real ffmpeg checks) and a moderator approves every second one
through the API; Redis is stopped after the first third and started again (empty, as a restarted
in-memory Redis is) after the second third. A real Celery worker (in this process) consumes the default
and speech queues throughout, reconnecting by itself; the periodic sweeps (what beat runs) are called
every few seconds. Counted at the end, from the database and the storage:

- readings answered 201 / answered otherwise (5xx), rows kept, rows whose audio files exist;
- readings waiting for a moderator that have their transcript and 48 kHz voice copy;
- (the sweeps' resend time is shortened to RESEND_SECONDS: see main())
- approvals answered 200, approved readings with exactly one film job, and whose job was really run
  by a worker (aligned, waiting for the render queue, which nobody consumes here: renders are what
  bench_faults.py on the animation side times), duplicates of any kind.

Exit status 1 when anything was lost or duplicated.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from testkit.outages import RESEND_SECONDS, PrivateBroker, outage_run  # noqa: E402
from testkit.scratch_site import use_scratch_site  # noqa: E402


def main() -> int:
    scratch = Path(tempfile.mkdtemp(prefix="shuohua-bench-faults-uploads-"))
    use_scratch_site(scratch, database_url=os.environ.get("BENCH_DATABASE_URL"), var_dir=True, log_level="ERROR")
    os.environ["CHANNELS_PREFIX"] = "shuohua-bench"
    # The sweeps' waits, shortened so the catch-up is timed by the work rather than by waiting. A Redis
    # restarted without persistence forgets the messages it had already taken: the sweeps can only tell
    # by time (a message sent but never started), RESEND_SECONDS here, 10-15 minutes by default.
    os.environ.setdefault("ANIMATION_ENQUEUE_GRACE_SECONDS", "1")
    # One resident uploads them all here: the per-resident upload throttle (30/hour) would refuse most.
    os.environ.setdefault("UPLOAD_THROTTLE_RATE", "10000/hour")
    os.environ.setdefault("ANIMATION_STUCK_AFTER_SECONDS", str(RESEND_SECONDS))
    sys.path.insert(0, str(REPO))
    uploads = int(os.environ.get("BENCH_UPLOADS", "50"))

    broker = PrivateBroker(scratch / "redis")
    broker.start()
    os.environ["REDIS_URL"] = broker.url  # read by the settings: the broker and the channel layer both use it
    try:
        import django

        django.setup()
        from django.conf import settings
        from django.contrib.auth.models import Group
        from django.core.files import File
        from django.core.management import call_command

        from accounts.models import User
        from catalogue.models import Event, Painting, Passage
        from config.celery import app
        from contributions import services

        settings.RECORDING_HANDOFF_GRACE_SECONDS = 1
        settings.RECORDING_HANDOFF_RESEND_SECONDS = RESEND_SECONDS
        # Live updates fail while Redis is down, by design without failing the request; their log lines
        # (one traceback each) would bury the figures.
        logging.getLogger("gallery.events").setLevel(logging.CRITICAL)
        assert app.conf.broker_url == broker.url
        call_command("migrate", verbosity=0)
        event = Event.objects.create(slug="bench", title="Bench")
        painting = Painting(event=event, title="Bench portrait")
        with (REPO / "demo" / "paintings" / "art_2.jpg").open("rb") as handle:
            painting.image.save("art_2.jpg", File(handle), save=False)
        painting.save()
        english = (
            "The holidays are a time of celebrating with loved ones, enjoying the festivities and muddling "
            "through Wisconsin's cold. But for many this year has been"
        )
        passage = Passage.objects.create(
            event=event, painting=painting, title="Holidays", text=english, language="en", max_seconds=30
        )
        resident = User.objects.create_user("bench-resident", password="x", display_name="Bench")
        services.consent_give(user=resident, public_animation=True, open_dataset=False)
        moderator = User.objects.create_user("bench-moderator", password="x")
        moderator.groups.add(Group.objects.get_or_create(name="moderators")[0])

        counts = outage_run(
            timeout=float(os.environ.get("BENCH_CATCH_UP_TIMEOUT", "600")),
            broker=broker,
            passage=passage,
            resident=resident,
            moderator=moderator,
            clip=REPO / "demo" / "speech" / "english_radio.flac",
            uploads=uploads,
        )
    finally:
        broker.stop()

    print(f"\nRedis stopped during uploads {uploads // 3}..{2 * uploads // 3 - 1} of {uploads} (every second one "
          f"approved), started again empty; real worker (solo, default+speech queues), "
          f"{os.cpu_count()} cores, SQLite")  # fmt: skip
    width = max(len(name) for name in counts)
    for name, value in counts.items():
        print(f"  {name:<{width}} {value}")
    return 0 if counts["lost"] == 0 and counts["duplicated"] == 0 and counts["answered_5xx"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
