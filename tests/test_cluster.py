"""The whole platform as a cluster on this machine: each role a separate process with its own working
folders and scratch (no shared MEDIA_ROOT), sharing only what separate machines share: the database,
Redis, and S3 object storage (a real SeaweedFS).

nginx (body limit, static files, websockets) -> two Daphne web processes; a speech worker; two render
workers on two "hosts"; beat. A resident uploads and a moderator approves through nginx; the film is
published live to sockets on both web processes and through nginx; then a render worker is killed
mid-film and the other one finishes it.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests

from testkit import cluster
from testkit.cluster import GRACE_SECONDS
from testkit.media import CHINESE_POEM

REPO = Path(__file__).resolve().parent.parent
HEARTBEAT = {
    "ANIMATION_HEARTBEAT_SECONDS": "0.5",
    "ANIMATION_HEARTBEAT_TIMEOUT_SECONDS": "4",
    "ANIMATION_SWEEP_SECONDS": "1",
}


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_http(url: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=10).status_code == 200:
                return
        except requests.RequestException:
            pass  # not listening yet, or still importing Django on a busy machine
        time.sleep(0.3)
    raise AssertionError(f"{url} never answered")


@pytest.fixture
def object_storage(seaweedfs, settings):
    bucket = f"cluster-{uuid.uuid4().hex[:12]}"
    seaweedfs.create_bucket(bucket)
    settings.STORAGES = {**settings.STORAGES, "default": seaweedfs.storage_settings(bucket)}
    return seaweedfs.environment(bucket)


@pytest.fixture
def platform_cluster(object_storage, transactional_db, tmp_path):
    if not shutil.which("nginx"):
        pytest.fail("nginx is missing: platform/install_system_packages.sh installs Debian's nginx")
    from django.db import connection

    from config.celery import app

    with app.connection_for_write() as broker:
        for queue in ("default", "speech", "render"):
            broker.default_channel.queue_purge(queue)
    database_url = cluster.database_url_of(connection.settings_dict)
    static_root = tmp_path / "proxy-host" / "static"

    def host_environment(host: str) -> dict:
        folder = tmp_path / host
        return cluster.process_environment(
            database_url=database_url,
            media_root=folder / "media-unused",  # object storage: nothing may land here
            extra={
                **object_storage,
                **HEARTBEAT,
                "WORKER_SCRATCH_DIR": str(folder / "scratch"),
                "SHUOHUA_VAR_DIR": str(folder / "var"),
                "STATIC_ROOT": str(static_root),
                "ALLOWED_HOSTS": "127.0.0.1,localhost",
            },
        )

    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=REPO,
        env=host_environment("proxy-host"),
        check=True,
    )
    processes: dict[str, cluster.PlatformProcess] = {}
    web_ports = [free_port(), free_port()]
    for number, port in enumerate(web_ports, start=1):
        command = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"]
        name = f"web{number}"
        processes[name] = cluster.PlatformProcess(name, command, host_environment(f"{name}-host"), tmp_path / "logs")
    processes["speech"] = cluster.celery_worker("speech", "speech,default", host_environment("speech-host"), tmp_path)
    for name in ("render-b", "render-c"):
        processes[name] = cluster.celery_worker(name, "render", host_environment(f"{name}-host"), tmp_path / "logs")
    processes["beat"] = cluster.celery_beat(host_environment("beat-host"), tmp_path / "beat-host")

    sys.path.insert(0, str(REPO / "platform"))
    import render_nginx

    proxy_port = free_port()
    config = render_nginx.render(
        prefix=tmp_path / "proxy-host" / "nginx",
        listen=f"127.0.0.1:{proxy_port}",
        web=[f"127.0.0.1:{port}" for port in web_ports],
        static_root=static_root,
        max_body_bytes=26 * 1024 * 1024,
    )
    nginx = cluster.start_nginx(config)
    try:
        for port in web_ports:
            wait_http(f"http://127.0.0.1:{port}/health/live/")
        wait_http(f"http://127.0.0.1:{proxy_port}/health/live/")
        yield {
            "proxy": f"127.0.0.1:{proxy_port}",
            "web": [f"127.0.0.1:{port}" for port in web_ports],
            "processes": processes,
            "folders": tmp_path,
        }
    finally:
        nginx.terminate()
        nginx.wait(timeout=20)
        for process in processes.values():
            process.stop(grace=5)


def logged_in(base: str, username: str, password: str) -> requests.Session:
    session = requests.Session()
    session.get(f"{base}/accounts/login/", timeout=10)
    response = session.post(
        f"{base}/accounts/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": session.cookies["csrftoken"]},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 302, response.text[:500]
    session.headers["X-CSRFToken"] = session.cookies["csrftoken"]
    return session


async def listen(url: str, stop_after: set[str], timeout: float, grace: float = GRACE_SECONDS) -> list[dict]:
    """Messages on a gallery socket until one of the STOP_AFTER types arrived (or the timeout), and
    every message of the GRACE seconds after it."""
    import websockets

    messages: list[dict] = []
    origin = "http://127.0.0.1"
    async with websockets.connect(url, origin=origin, open_timeout=10) as socket:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                message = json.loads(await asyncio.wait_for(socket.recv(), timeout=deadline - time.monotonic()))
            except TimeoutError:
                break
            messages.append(message)
            if message.get("type") in stop_after:
                deadline = min(deadline, time.monotonic() + grace)
                stop_after = set()  # from here, only the grace period ends the listening
    return messages


def published_ids(messages: list[dict]) -> list[str]:
    return [m["animation"]["id"] for m in messages if m.get("type") == "animation.published"]


@pytest.mark.slow
def test_the_spine_runs_through_a_cluster_of_separate_hosts_and_survives_a_dead_render_worker(
    object_storage, festival, resident, moderator, platform_cluster, settings
):
    from animation.models import Animation

    # The web processes run the production settings: passwords hashed as they expect (not the suite's MD5).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    for user, password in ((resident, "resident-pass-1"), (moderator, "moderator-pass-1")):
        user.set_password(password)
        user.save()

    base = f"http://{platform_cluster['proxy']}"
    event_path = f"/ws/events/{festival['event'].id}/"
    sockets = [f"ws://{address}{event_path}" for address in [*platform_cluster["web"], platform_cluster["proxy"]]]

    # nginx refuses an oversized body itself, and serves static files without Django.
    too_big = requests.post(f"{base}/api/recordings/", data=b"\0" * (27 * 1024 * 1024), timeout=60)
    assert too_big.status_code == 413 and "nginx" in too_big.headers.get("Server", "")
    static = next((platform_cluster["folders"] / "proxy-host" / "static").rglob("*.js"))
    relative = static.relative_to(platform_cluster["folders"] / "proxy-host" / "static").as_posix()
    served = requests.get(f"{base}/static/{relative}", timeout=10)
    assert served.status_code == 200 and served.content == static.read_bytes()

    resident_session = logged_in(base, "resident", "resident-pass-1")
    moderator_session = logged_in(base, "moderator", "moderator-pass-1")

    def read_and_approve() -> str:
        with CHINESE_POEM.open("rb") as handle:
            response = resident_session.post(
                f"{base}/api/recordings/",
                data={"passage": str(festival["chinese"].id)},
                files={"audio": ("take.flac", handle, "audio/flac")},
                timeout=60,
            )
        assert response.status_code == 201, response.text[:500]
        recording_id = response.json()["id"]
        response = moderator_session.post(f"{base}/api/moderation/recordings/{recording_id}/approve/", timeout=30)
        assert response.status_code == 200, response.text[:500]
        return recording_id

    async def first_film() -> list[list[dict]]:
        listeners = [asyncio.create_task(listen(url, {"animation.published"}, 300)) for url in sockets]
        await asyncio.sleep(1.0)  # every socket joined its group before the reading goes in
        await asyncio.to_thread(read_and_approve)
        return await asyncio.gather(*listeners)

    received = asyncio.run(first_film())
    film_ids = {tuple(published_ids(messages)) for messages in received}
    assert len(film_ids) == 1 and len(next(iter(film_ids))) == 1, received  # every socket, exactly once
    animation = Animation.objects.get(id=next(iter(film_ids))[0])
    assert animation.status == Animation.Status.PUBLISHED
    # The published film's bytes come from object storage by range, through the URL the card carries.
    card = next(m for m in received[0] if m.get("type") == "animation.published")["animation"]
    video_url = card["video_url"] if card["video_url"].startswith("http") else base + card["video_url"]
    head = requests.get(video_url, headers={"Range": "bytes=0-99"}, timeout=10)
    assert head.status_code == 206 and head.content[4:8] == b"ftyp"
    # Separate hosts: no file of the pipeline on any host's own disk.
    for host in ("web1-host", "web2-host", "speech-host", "render-b-host", "render-c-host"):
        local = platform_cluster["folders"] / host / "media-unused"
        assert not local.exists() or not any(p.is_file() for p in local.rglob("*")), host

    # A render worker dies mid-film; the other host's worker takes the job back and the film arrives.
    async def second_film() -> tuple[list[dict], str, float]:
        listener = asyncio.create_task(listen(sockets[0], {"animation.published"}, 300))
        await asyncio.sleep(1.0)
        recording_id = await asyncio.to_thread(read_and_approve)

        def kill_the_holder() -> float:
            deadline = time.monotonic() + 240
            while time.monotonic() < deadline:
                held = Animation.objects.filter(
                    recording_id=recording_id, status=Animation.Status.RENDERING, claimed_at__isnull=False
                ).first()
                if held and held.progress >= 0.45:
                    # The row names host:pid of the pool process; each worker is a session of its own.
                    pid = held.worker.rsplit(":", 1)[1]
                    holder = next(
                        name
                        for name in ("render-b", "render-c")
                        if pid
                        in subprocess.run(
                            ["pgrep", "-s", str(platform_cluster["processes"][name].pid)],
                            capture_output=True,
                            text=True,
                        ).stdout.split()
                    )
                    platform_cluster["processes"][holder].kill_hard()
                    return time.monotonic()
                time.sleep(0.05)
            raise AssertionError("the render was never caught mid-film")

        killed_at = await asyncio.to_thread(kill_the_holder)
        messages = await listener
        return messages, recording_id, time.monotonic() - killed_at

    messages, recording_id, seconds = asyncio.run(second_film())
    second = Animation.objects.get(recording_id=recording_id)
    assert second.status == Animation.Status.PUBLISHED, second.error
    assert published_ids(messages) == [str(second.id)]
    assert second.attempts == 1
    assert seconds < 120
    print(f"cluster: second film published {seconds:.1f} s after its render worker was killed")
