"""Fault injection against the real stack: separate Celery worker and beat processes, a Redis of our
own, SQLite or PostgreSQL, media on a small filesystem of its own.

    python platform/with_redis.py .venv/bin/python bench/bench_faults.py [--kills 20] [--postgres]

Phases (each prints attempts / lost / duplicated / 5xx):
  kill     SIGKILL the render worker (process group) mid-film, start a new one: every film published
           exactly once within 2 minutes of the kill, no orphan files, no duplicate rows.
  sigterm  SIGTERM the render worker mid-film: the film finishes and is published once.
  redis    restart Redis (in-memory: its queues are lost) while readings are in flight and while
           readings are uploaded and approved over HTTP: every reading kept, every approved one a film.
  postgres restart PostgreSQL mid-pipeline (--postgres; needs root and pg_ctlcluster).
  disk     the media filesystem fills up mid-render: a clear failure, nothing half-written; once space
           returns the next film is published.

Uploads and approvals go through the product's HTTP API (django.test.Client: the real URLconf,
middleware and views), so a 5xx is counted as the resident or moderator would see it.
The heartbeat clocks are shortened (printed) so that 20 kills take minutes; the code is the production
code, and the production defaults only change how long each detection takes.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "platform"))

import embedded_redis  # noqa: E402

CLOCKS = {
    "ANIMATION_HEARTBEAT_SECONDS": "1",
    "ANIMATION_HEARTBEAT_TIMEOUT_SECONDS": "5",
    "ANIMATION_SWEEP_SECONDS": "2",
    "ANIMATION_ENQUEUE_GRACE_SECONDS": "3",
    # An in-memory Redis that restarts has lost its queues: waiting stages are sent again after this.
    "ANIMATION_STUCK_AFTER_SECONDS": "20",
}
PUBLISH_DEADLINE = 120.0


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--redis-readings", type=int, default=6, help="readings in flight across the Redis restart")
    parser.add_argument("--phases", default="kill,sigterm,redis,postgres,disk")
    parser.add_argument("--postgres", action="store_true", help="run on PostgreSQL (needed for the postgres phase)")
    parser.add_argument("--json", action="store_true", help="print one JSON line with every figure")
    parser.add_argument(
        "--production-clocks",
        action="store_true",
        help="the default heartbeat (10 s), timeout (45 s) and sweep (30 s) instead of the short ones",
    )
    parser.add_argument("--keep", action="store_true", help="keep the working folder")
    return parser.parse_args()


class Stack:
    def __init__(self, workdir: Path, *, postgres: bool) -> None:
        self.workdir = workdir
        self.mount = workdir / "media"
        self.mount.mkdir(parents=True)
        self.tmpfs = False
        if os.geteuid() == 0:
            mounted = subprocess.run(
                ["mount", "-t", "tmpfs", "-o", "size=256m", "tmpfs", str(self.mount)], capture_output=True
            )
            self.tmpfs = mounted.returncode == 0
        self.redis_process, self.redis_url = embedded_redis.start(workdir=workdir / "redis")
        self.redis_port = int(self.redis_url.rsplit(":", 1)[1].split("/")[0])
        self.database_url = f"sqlite:///{workdir / 'db.sqlite3'}"
        if postgres:
            name = f"shuohua_faults_{os.getpid()}"
            subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-c", f"CREATE DATABASE {name}"], check=True)
            self.database_url = f"postgres://postgres@127.0.0.1:5432/{name}"
            self.postgres_database = name
        else:
            self.postgres_database = None
        os.environ.update(
            {
                "DJANGO_SETTINGS_MODULE": "config.settings",
                "SECRET_KEY": "bench-faults-only-key",
                "HTTPS": "0",  # plain HTTP on loopback
                "DATABASE_URL": self.database_url,
                "REDIS_URL": self.redis_url,
                "MEDIA_ROOT": str(self.mount),
                "SHUOHUA_VAR_DIR": str(workdir / "var"),
                "CHANNELS_PREFIX": f"faults{os.getpid()}",
                "WHISPER_MODEL_ENGLISH": "tiny.en",
                "LOG_LEVEL": "WARNING",
                "WORKER_SCRATCH_DIR": str(workdir / "driver-scratch"),
                "ALLOWED_HOSTS": "testserver,127.0.0.1",
                # One resident uploads every reading of the run: the per-user throttle is not under test.
                "UPLOAD_THROTTLE_RATE": "100000/hour",
                **CLOCKS,
            }
        )
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        from testkit import cluster

        self.cluster = cluster
        self.environment = cluster.process_environment(
            database_url=self.database_url,
            media_root=self.mount,
            extra={**CLOCKS, "REDIS_URL": self.redis_url, "CHANNELS_PREFIX": os.environ["CHANNELS_PREFIX"]},
        )
        self.processes: list = []
        self.render_scratch = workdir / "render-host-scratch"
        self.speech = self.start_worker("speech", "speech,default", workdir / "speech-host-scratch")
        self.beat = cluster.celery_beat(self.environment, workdir / "beat")
        self.processes.append(self.beat)
        self.render = self.start_worker("render-0", "render", self.render_scratch)

    def start_worker(self, name: str, queues: str, scratch: Path):
        worker = self.cluster.celery_worker(
            name, queues, {**self.environment, "WORKER_SCRATCH_DIR": str(scratch)}, self.workdir / "logs"
        )
        self.processes.append(worker)
        return worker

    def restart_redis(self, down_seconds: float, during=None) -> None:
        self.redis_process.kill()
        self.redis_process.wait()
        if during:
            during()
        time.sleep(down_seconds)
        # The same port again (clients reconnect to the address they know); redis-server reuses it at once.
        self.redis_process = subprocess.Popen(
            [
                embedded_redis.redis_server_executable(),
                *("--bind", "127.0.0.1", "--port", str(self.redis_port), "--save", "", "--appendonly", "no"),
                *("--dir", str(self.workdir / "redis"), "--loglevel", "warning"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not embedded_redis.answers("127.0.0.1", self.redis_port):
            if self.redis_process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("Redis did not come back on its port")
            time.sleep(0.05)

    def close(self, keep: bool) -> None:
        for process in self.processes:
            process.stop(grace=10)
        self.redis_process.kill()
        from django.db import connections

        connections.close_all()
        if self.postgres_database:
            subprocess.run(
                [
                    "psql",
                    "-h",
                    "127.0.0.1",
                    "-U",
                    "postgres",
                    "-c",
                    f"DROP DATABASE IF EXISTS {self.postgres_database}",
                ],
                capture_output=True,
            )
        if self.tmpfs:
            subprocess.run(["umount", "-l", str(self.mount)], capture_output=True)
        if not keep:
            shutil.rmtree(self.workdir, ignore_errors=True)


class Festival:
    """A festival, a resident and a moderator, driven over the HTTP API."""

    def __init__(self) -> None:
        from django.core.files import File
        from django.test import Client

        from accounts.models import User
        from catalogue.models import Event, Painting, Passage
        from contributions.services import consent_give

        self.event = Event.objects.create(slug=f"faults-{os.getpid()}", title="Fault festival")
        painting = Painting(event=self.event, title="Portrait", artist="Unknown")
        with (REPO / "demo" / "paintings" / "art_2.jpg").open("rb") as handle:
            painting.image.save("art_2.jpg", File(handle), save=False)
        painting.save()
        self.passage = Passage.objects.create(
            event=self.event,
            painting=painting,
            title="静夜思",
            text="床前明月光，疑是地上霜。举头望明月，低头思故乡。",
            language="zh",
            max_seconds=30,
            is_open=True,
        )
        resident = User.objects.create_user("faults-resident", password="x-resident-pass-1", display_name="Li")
        consent_give(user=resident, public_animation=True, open_dataset=False)
        moderator = User.objects.create_user("faults-moderator", password="x-moderator-pass-1")
        from django.contrib.auth.models import Group

        moderator.groups.add(Group.objects.get_or_create(name="moderators")[0])
        self.event.moderators.add(moderator)
        self.resident, self.moderator = Client(raise_request_exception=False), Client(raise_request_exception=False)
        # Logged in through the login page, as people are (django-axes sees a real request).
        for client, username, password in (
            (self.resident, "faults-resident", "x-resident-pass-1"),
            (self.moderator, "faults-moderator", "x-moderator-pass-1"),
        ):
            response = client.post("/accounts/login/", {"username": username, "password": password})
            assert response.status_code == 302, f"login failed for {username}: {response.status_code}"
        self.statuses: list[int] = []
        self.reading = REPO / "demo" / "speech" / "chinese_poem1.flac"

    def upload(self) -> str | None:
        with self.reading.open("rb") as handle:
            response = self.resident.post("/api/recordings/", {"passage": str(self.passage.id), "audio": handle})
        self.statuses.append(response.status_code)
        return response.json()["id"] if response.status_code == 201 else None

    def approve(self, recording_id: str) -> bool:
        response = self.moderator.post(f"/api/moderation/recordings/{recording_id}/approve/")
        self.statuses.append(response.status_code)
        return response.status_code == 200

    def read_and_approve(self) -> str | None:
        recording_id = self.upload()
        if recording_id and self.approve(recording_id):
            return recording_id
        return None

    def server_errors(self) -> int:
        return sum(1 for status in self.statuses if status >= 500)


def animation_of(recording_id: str):
    from animation.models import Animation

    return Animation.objects.filter(recording_id=recording_id).first()


def wait_mid_render(recording_id: str, timeout: float = 300) -> bool:
    from animation.models import Animation

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        animation = animation_of(recording_id)
        if animation and animation.status in (Animation.Status.FAILED, Animation.Status.PUBLISHED):
            return False
        rendering = animation and animation.status == Animation.Status.RENDERING and animation.claimed_at
        if rendering and animation.progress >= 0.45:
            return True
        time.sleep(0.05)
    return False


def wait_finished(recording_ids: list[str], timeout: float) -> float:
    from animation.models import Animation

    started = time.monotonic()
    deadline = started + timeout
    while time.monotonic() < deadline:
        finished = Animation.objects.filter(
            recording_id__in=recording_ids, status__in=(Animation.Status.PUBLISHED, Animation.Status.FAILED)
        ).count()
        if finished >= len(recording_ids):
            break
        time.sleep(0.2)
    return time.monotonic() - started


def audit(recording_ids: list[str], listener) -> dict:
    """Lost, duplicated, orphan files: what a resident, a moderator and an operator would check."""
    from animation.models import Alignment, Animation
    from core import storage

    published = 0
    lost = duplicated = 0
    for recording_id in recording_ids:
        animations = list(Animation.objects.filter(recording_id=recording_id))
        if len(animations) > 1 or Alignment.objects.filter(recording_id=recording_id).count() > 1:
            duplicated += 1
        if not animations or animations[0].status != Animation.Status.PUBLISHED:
            lost += 1
            continue
        published += 1
        messages = listener.published_ids().count(str(animations[0].id))
        if messages > 1:
            duplicated += 1
    known = {str(animation_id) for animation_id in Animation.objects.values_list("id", flat=True)}
    film_names = storage.list_names("animations")
    orphans = [name for name in film_names if name.split("/")[1] not in known]
    incomplete = []
    for animation in Animation.objects.filter(status=Animation.Status.PUBLISHED):
        names = sorted(name.rsplit("/", 1)[1] for name in storage.list_names(f"animations/{animation.id}"))
        if names != ["curves.json", "film.mp4", "poster.jpg", "subtitles.vtt"]:
            incomplete.append(str(animation.id))
    return {
        "readings": len(recording_ids),
        "published": published,
        "lost": lost,
        "duplicated": duplicated,
        "orphan_files": len(orphans),
        "incomplete_films": len(incomplete),
        "attempts": sum(Animation.objects.filter(recording_id__in=recording_ids).values_list("attempts", flat=True)),
        "published_messages": sum(
            listener.published_ids().count(str(a))
            for a in Animation.objects.filter(recording_id__in=recording_ids).values_list("id", flat=True)
        ),
    }


def phase_kill(stack: Stack, festival: Festival, listener, kills: int) -> dict:
    recording_ids, after_kill, missed = [], [], 0
    for number in range(kills):
        recording_id = festival.read_and_approve()
        if recording_id is None:
            continue
        recording_ids.append(recording_id)
        if not wait_mid_render(recording_id):
            missed += 1  # finished (or failed) before we could kill it mid-render
            continue
        stack.render.kill_hard()
        killed_at = time.monotonic()
        stack.render = stack.start_worker(f"render-{number + 1}", "render", stack.render_scratch)
        wait_finished([recording_id], timeout=PUBLISH_DEADLINE + 60)
        after_kill.append(time.monotonic() - killed_at)
    time.sleep(1.5)
    result = audit(recording_ids, listener)
    leftovers = [p for p in stack.render_scratch.rglob("*") if p.is_dir() and p.name.startswith("render-")]
    result.update(
        {
            "kills": len(after_kill),
            "not_caught_mid_render": missed,
            "kill_to_published_max_s": round(max(after_kill, default=0), 1),
            "kill_to_published_median_s": round(sorted(after_kill)[len(after_kill) // 2], 1) if after_kill else 0,
            "late_over_120s": sum(1 for seconds in after_kill if seconds > PUBLISH_DEADLINE),
            "scratch_leftovers": len(leftovers),
        }
    )
    return result


def phase_sigterm(stack: Stack, festival: Festival, listener) -> dict:
    recording_id = festival.read_and_approve()
    caught = bool(recording_id) and wait_mid_render(recording_id)
    stack.render.terminate()
    seconds = wait_finished([recording_id], timeout=PUBLISH_DEADLINE)
    with contextlib.suppress(subprocess.TimeoutExpired):
        stack.render.process.wait(timeout=60)
    exit_code = stack.render.process.returncode
    stack.render = stack.start_worker("render-after-sigterm", "render", stack.render_scratch)
    time.sleep(1.5)
    result = audit([recording_id], listener)
    result.update({"caught_mid_render": caught, "worker_exit_code": exit_code, "finished_after_s": round(seconds, 1)})
    return result


def phase_redis(stack: Stack, festival: Festival, listener, readings: int, new_listener) -> dict:
    in_flight = [rid for rid in (festival.read_and_approve() for _ in range(readings)) if rid]
    during_outage: list[str] = []

    def uploads_while_down() -> None:
        for _ in range(3):
            recording_id = festival.read_and_approve()
            if recording_id:
                during_outage.append(recording_id)

    errors_before = festival.server_errors()
    stack.restart_redis(down_seconds=5, during=uploads_while_down)
    restarted_at = time.monotonic()
    listener = new_listener()  # the old socket died with Redis; films published from now on are counted
    everyone = in_flight + during_outage
    seconds = wait_finished(everyone, timeout=300)
    time.sleep(1.5)
    result = audit(everyone, listener)
    result.update(
        {
            "approved_during_outage": len(during_outage),
            "server_errors_during_outage": festival.server_errors() - errors_before,
            "all_finished_after_restart_s": round(time.monotonic() - restarted_at, 1),
            "waited_s": round(seconds, 1),
        }
    )
    listener.close()
    # Live messages sent while Redis was down are gone: pages catch up over HTTP. Not counted as lost.
    result["published_messages_note"] = "counted from the restart on; during the outage pages catch up over HTTP"
    return result


def phase_postgres(stack: Stack, festival: Festival, listener) -> dict:
    if stack.postgres_database is None:
        return {"skipped": "run with --postgres"}
    if os.geteuid() != 0 or not shutil.which("pg_ctlcluster"):
        return {"skipped": "needs root and pg_ctlcluster"}
    recording_ids = [rid for rid in (festival.read_and_approve() for _ in range(3)) if rid]
    if recording_ids:
        wait_mid_render(recording_ids[0], timeout=120)
    restart = subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", "15", "main", "restart"], capture_output=True, text=True
    )
    from django.db import connections

    connections.close_all()
    if restart.returncode != 0:
        return {"skipped": f"pg_ctlcluster failed: {restart.stderr.strip()[:200]}"}
    more = [rid for rid in (festival.read_and_approve() for _ in range(2)) if rid]
    seconds = wait_finished(recording_ids + more, timeout=300)
    time.sleep(1.5)
    result = audit(recording_ids + more, listener)
    result["finished_after_s"] = round(seconds, 1)
    return result


def phase_disk(stack: Stack, festival: Festival, listener) -> dict:
    from animation.models import Animation
    from core import storage

    if not stack.tmpfs:
        return {"skipped": "media is not on a filesystem of its own (needs root to mount a tmpfs)"}
    recording_id = festival.read_and_approve()
    if recording_id is None or not wait_mid_render(recording_id):
        return {"skipped": "the render was not caught mid-film"}
    ballast = stack.mount / "ballast.bin"
    # Fill the media filesystem while the film renders in the worker's scratch folder.
    subprocess.run(["dd", "if=/dev/zero", f"of={ballast}", "bs=1M", "count=1024"], capture_output=True)
    wait_finished([recording_id], timeout=PUBLISH_DEADLINE)
    animation = animation_of(recording_id)
    half_written = storage.list_names(f"animations/{animation.id}")
    failed_clearly = animation.status == Animation.Status.FAILED and "stored" in animation.error
    ballast.unlink()
    recovered_id = festival.read_and_approve()
    wait_finished([recovered_id] if recovered_id else [], timeout=PUBLISH_DEADLINE + 60)
    recovered = animation_of(recovered_id) if recovered_id else None
    return {
        "status_when_full": animation.status,
        "error_shown": animation.error,
        "failed_clearly": failed_clearly,
        "files_left_for_failed_film": len(half_written),
        "published_after_space_returned": bool(recovered and recovered.status == Animation.Status.PUBLISHED),
    }


def main() -> int:
    arguments = parse_arguments()
    if arguments.production_clocks:
        for name in ("ANIMATION_HEARTBEAT_SECONDS", "ANIMATION_HEARTBEAT_TIMEOUT_SECONDS", "ANIMATION_SWEEP_SECONDS"):
            CLOCKS.pop(name)
    phases = [phase.strip() for phase in arguments.phases.split(",") if phase.strip()]
    workdir = Path(tempfile.mkdtemp(prefix="shuohua-faults-"))
    stack = Stack(workdir, postgres=arguments.postgres)
    results: dict[str, dict] = {"clocks": dict(CLOCKS), "storage": {"tmpfs": stack.tmpfs}}
    listener = None
    try:
        from testkit.cluster import EventListener

        festival = Festival()
        listener = EventListener(f"event.{festival.event.id}")
        # Warm the workers (models load once per process) so the first kill is not a cold start.
        warm = festival.read_and_approve()
        wait_finished([warm] if warm else [], timeout=300)
        for phase in phases:
            started = time.monotonic()
            if phase == "kill":
                results[phase] = phase_kill(stack, festival, listener, arguments.kills)
            elif phase == "sigterm":
                results[phase] = phase_sigterm(stack, festival, listener)
            elif phase == "redis":
                listener.close()  # its connection dies with Redis; a new one after the restart
                results[phase] = phase_redis(
                    stack,
                    festival,
                    listener,
                    arguments.redis_readings,
                    lambda: EventListener(f"event.{festival.event.id}"),
                )
                listener = EventListener(f"event.{festival.event.id}")
            elif phase == "postgres":
                results[phase] = phase_postgres(stack, festival, listener)
            elif phase == "disk":
                results[phase] = phase_disk(stack, festival, listener)
            results[phase]["phase_seconds"] = round(time.monotonic() - started, 1)
            print(f"{phase:>9}: {json.dumps(results[phase], ensure_ascii=False)}", flush=True)
        results["http"] = {"requests": len(festival.statuses), "5xx": festival.server_errors()}
    finally:
        if listener:
            listener.close()
        stack.close(keep=arguments.keep)
    print(f"     http: {json.dumps(results['http'])}")
    print(f"   clocks: {json.dumps(CLOCKS)} (production: heartbeat 10 s, timeout 45 s, sweep 30 s)")
    if arguments.json:
        print(json.dumps(results, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
