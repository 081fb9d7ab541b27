"""How fast the moderation console can go: ``python platform/with_redis.py .venv/bin/python bench/bench_moderation.py``.

1. Upload -> "transcript ready": a 10 s clip is uploaded through the API and a real Celery worker
   (in this process, real Whisper) transcribes it; the clock stops when the transcript is stored.
   The first run of each language includes loading its model in the worker; later runs are warm.
2. The keyboard path, server side: for each recording the console makes the same requests as
   static/js/moderation.js (claim the next one with its diff and figures, fetch its audio, decide,
   refresh the queue count), through Django's full request stack in this process, on a scratch
   SQLite database. Prints the time per request and how many recordings per minute the server
   would let one moderator clear. A person's listening and deciding time is not measured here: the
   assumed figure is printed apart, labelled as an assumption, with the server's share of it.
"""

from __future__ import annotations

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

SCRATCH = Path(tempfile.mkdtemp(prefix="shuohua-bench-moderation-"))
use_scratch_site(SCRATCH, database_url=os.environ.get("BENCH_DATABASE_URL"))
os.environ["CHANNELS_PREFIX"] = "shuohua-bench"

import django  # noqa: E402

django.setup()

from django.core.files import File  # noqa: E402
from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

RECORDINGS = int(os.environ.get("BENCH_RECORDINGS", "40"))
CLIP_SECONDS = 10.0
PLAYBACK_SPEED = 1.5
# ASSUMED (never measured here): a moderator's own time per recording beyond listening, reading the diff
# and pressing one or two keys. Only used in the line printed as an assumption.
DECISION_SECONDS = 1.5
POEM = "床前明月光，疑是地上霜。举头望明月，低头思故乡。"
ENGLISH = (
    "The holidays are a time of celebrating with loved ones, enjoying the festivities and muddling through "
    "Wisconsin's cold. But for many this year has been"
)


def make_clip(source: Path, destination: Path) -> Path:
    """CLIP_SECONDS of real speech: SOURCE looped and cut, encoded as a browser would send it."""
    import imageio_ffmpeg

    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-stream_loop", "2", "-i", str(source),
         "-t", f"{CLIP_SECONDS}", "-c:a", "libopus", "-b:a", "64k", str(destination)],
        check=True,
    )  # fmt: skip
    return destination


def purge_broker() -> None:
    from config.celery import app

    with app.connection_for_write() as connection:
        for queue in ("default", "speech", "render"):
            connection.default_channel.queue_purge(queue)


def setup_festival():
    from django.contrib.auth.models import Group

    from accounts.models import User
    from catalogue.models import Event, Painting, Passage
    from contributions import services

    call_command("migrate", verbosity=0)
    event = Event.objects.create(slug="bench", title="Bench")
    painting = Painting(event=event, title="Bench portrait")
    with (REPO / "demo" / "paintings" / "art_2.jpg").open("rb") as handle:
        painting.image.save("art_2.jpg", File(handle), save=False)
    painting.save()
    chinese = Passage.objects.create(
        event=event, painting=painting, title="静夜思", text=POEM + POEM, language="zh", max_seconds=30
    )
    english = Passage.objects.create(
        event=event, painting=painting, title="Holidays", text=ENGLISH, language="en", max_seconds=30
    )
    resident = User.objects.create_user("bench-resident", password="x", display_name="Bench")
    services.consent_give(user=resident, public_animation=True, open_dataset=False)
    moderator = User.objects.create_user("bench-moderator", password="x")
    moderator.groups.add(Group.objects.get_or_create(name="moderators")[0])
    event.moderators.add(moderator)
    return {"chinese": chinese, "english": english, "resident": resident, "moderator": moderator}


def bench_keyboard_path(festival: dict, clip: Path) -> None:
    from animation.engine import align
    from contributions import services
    from contributions.models import Recording

    # One real transcript, copied onto every recording, so each claim computes a real diff.
    transcript = align.transcribe(clip, language="zh", model="base").text
    passage = festival["chinese"]
    score = align.match_score(passage.text, transcript, language="zh")
    for _ in range(RECORDINGS):
        recording = services.recording_submit(
            contributor=festival["resident"], passage=passage, upload=SimpleUploadedFile(clip.name, clip.read_bytes())
        )
        services.recording_record_transcript(
            recording_id=recording.id, transcript=transcript, language="zh", match_score=score
        )
    purge_broker()
    # The uploads of the transcript benchmark wait in the queue too; they are decided as well.
    waiting = Recording.objects.filter(status=Recording.Status.PENDING).count()

    client = Client()
    client.force_login(festival["moderator"])
    timings: dict[str, list[float]] = {"page": [], "claim": [], "audio": [], "decide": [], "count": []}

    def timed(name: str, call):
        started = time.perf_counter()
        response = call()
        if name == "audio":
            b"".join(response.streaming_content)
        timings[name].append(time.perf_counter() - started)
        return response

    for _ in range(5):  # the first includes compiling the templates
        assert timed("page", lambda: client.get("/moderation/")).status_code == 200
    after = None
    decided = 0
    while True:
        response = timed(
            "claim", lambda after=after: client.post("/api/moderation/claim/", {"after": after}, "application/json")
        )
        if response.status_code == 204:
            break
        item = response.json()
        assert item["facts"]["diff"], "the diff must be computed for the benchmark to mean anything"
        timed("audio", lambda item=item: client.get(item["audio_url"]))
        if decided % 2:
            url, body = f"/api/moderation/recordings/{item['id']}/approve/", {"listened_seconds": CLIP_SECONDS}
        else:
            url, body = f"/api/moderation/recordings/{item['id']}/reject/", {"reason": "noise", "note": ""}
        assert timed("decide", lambda url=url, body=body: client.post(url, body, "application/json")).status_code == 200
        timed("count", lambda: client.get("/api/moderation/queue/"))
        after = item["id"]
        decided += 1
    purge_broker()  # approvals queued animations nobody renders here
    assert decided == waiting, (decided, waiting)

    print(f"\nKeyboard path, server side: {decided} recordings (half approved, half rejected), "
          f"{django.db.connection.vendor}, {os.cpu_count()} cores")  # fmt: skip
    print(f"{'request':<44} {'median':>8} {'p95':>8}")
    labels = {
        "page": "GET /moderation/ (once per session; 5 loads)",
        "claim": "POST /api/moderation/claim/ (+diff, figures)",
        "audio": "GET /recordings/<id>/audio/",
        "decide": "POST approve|reject",
        "count": "GET /api/moderation/queue/ (count)",
    }
    for name, label in labels.items():
        values = sorted(timings[name])
        p95 = values[min(len(values) - 1, int(0.95 * len(values)))]
        print(f"{label:<44} {1000 * statistics.median(values):>6.1f}ms {1000 * p95:>6.1f}ms")
    per_recording = sum(statistics.mean(timings[name]) for name in ("claim", "audio", "decide", "count"))
    report("moderation.server_ms_per_recording", 1000 * per_recording, "ms", better="lower")
    print(f"measured: server time per recording (claim + audio + decide + count, means): {1000 * per_recording:.1f} ms"
          f" -> the server alone allows {60 / per_recording:.0f} recordings per minute per moderator")  # fmt: skip
    # Not measured: how long a person takes. Printed apart, as the assumption it is, so that nobody reads
    # it as a figure of the benchmark.
    human = CLIP_SECONDS / PLAYBACK_SPEED + DECISION_SECONDS
    print(f"assumption, not measured: a moderator hears the {CLIP_SECONDS:.0f} s clip at {PLAYBACK_SPEED}x and "
          f"takes {DECISION_SECONDS} s to decide ({human:.1f} s of their own per recording); the measured server "
          f"time would add {100 * per_recording / human:.1f} % to that")  # fmt: skip


def bench_transcript_ready(festival: dict, clips: dict[str, Path]) -> None:
    from celery.contrib.testing.worker import start_worker
    from rest_framework.test import APIClient

    from config.celery import app
    from contributions.models import Recording

    purge_broker()
    client = APIClient()
    client.force_authenticate(festival["resident"])
    app.conf.task_always_eager = False
    rows = []
    with start_worker(app, queues=["default", "speech"], perform_ping_check=False, pool="solo", shutdown_timeout=30):
        for language, clip in clips.items():
            passage = festival["chinese"] if language == "zh" else festival["english"]
            for run in range(3):
                started = time.monotonic()
                with clip.open("rb") as handle:
                    response = client.post(
                        "/api/recordings/", {"passage": str(passage.id), "audio": handle}, format="multipart"
                    )
                assert response.status_code == 201, response.content
                uploaded = time.monotonic() - started
                recording_id = response.json()["id"]
                while not Recording.objects.filter(id=recording_id, transcribed_at__isnull=False).exists():
                    if time.monotonic() - started > 300:
                        raise SystemExit("no transcript within 300 s")
                    time.sleep(0.02)
                rows.append((language, run, uploaded, time.monotonic() - started))
    print(f"\nUpload -> transcript ready, {CLIP_SECONDS:.0f} s clip (webm/opus), real Celery worker and Whisper "
          f"(zh: base, en: tiny.en), {os.cpu_count()} cores; run 0 loads the model")  # fmt: skip
    print(f"{'lang':<5} {'run':>3} {'upload (request)':>17} {'transcript ready':>17}")
    for language, run, uploaded, ready in rows:
        print(f"{language:<5} {run:>3} {uploaded:>16.2f}s {ready:>16.2f}s")
    for language in sorted({row[0] for row in rows}):
        warm = [ready for lang, run, _uploaded, ready in rows if lang == language and run > 0]
        if warm:
            report(f"moderation.upload_to_transcript_{language}", statistics.median(warm), "s", better="lower")


def main() -> None:
    festival = setup_festival()
    clips = {
        "zh": make_clip(REPO / "demo" / "speech" / "chinese_poem1.flac", SCRATCH / "zh.webm"),
        "en": make_clip(REPO / "demo" / "speech" / "english_radio.flac", SCRATCH / "en.webm"),
    }
    # Transcripts first: its run 0 is the only one that finds Whisper not loaded yet.
    bench_transcript_ready(festival, clips)
    bench_keyboard_path(festival, clips["zh"])


if __name__ == "__main__":
    main()
