"""The broker is a setting: the same pipeline over RabbitMQ (CELERY_BROKER_URL=amqp://...), with real
worker processes and a real RabbitMQ server, and the operators' checks answering for it."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from testkit import cluster
from testkit.media import CHINESE_POEM

RABBITMQ_SERVER = Path("/usr/sbin/rabbitmq-server")  # Debian's rabbitmq-server (platform/install_system_packages.sh)


def answers(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def rabbitmq_url():
    """The machine's RabbitMQ on 127.0.0.1:5672, or a private node of Debian's rabbitmq-server started for
    this module (a newcomer's machine runs none); never a skip: without either the test fails, saying why."""
    if answers(5672):
        yield "amqp://guest:guest@127.0.0.1:5672//"
        return
    if not RABBITMQ_SERVER.exists():
        pytest.fail("RabbitMQ is missing: platform/install_system_packages.sh installs rabbitmq-server")
    # Not under pytest's own folder: the broker's user must be able to reach it.
    folder = Path(tempfile.mkdtemp(prefix="shuohua-rabbitmq-"))
    (folder / "enabled_plugins").write_text("[].")
    if os.geteuid() == 0:
        # Debian's wrapper runs the broker as the rabbitmq user: its folders must be that user's.
        import pwd

        account = pwd.getpwnam("rabbitmq")
        for path in (folder, folder / "enabled_plugins"):
            os.chown(path, account.pw_uid, account.pw_gid)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environment = {
        **os.environ,
        "RABBITMQ_NODENAME": f"shuohua-test-{port}@localhost",
        "RABBITMQ_NODE_PORT": str(port),
        "RABBITMQ_DIST_PORT": str(port + 20000 if port < 45000 else port - 20000),
        "RABBITMQ_MNESIA_BASE": str(folder / "mnesia"),
        "RABBITMQ_LOG_BASE": str(folder / "log"),
        "RABBITMQ_ENABLED_PLUGINS_FILE": str(folder / "enabled_plugins"),
        "RABBITMQ_CONFIG_FILE": str(folder / "none"),
    }
    log = (folder / "server.out").open("wb")
    server = subprocess.Popen(
        [str(RABBITMQ_SERVER)], env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        cluster.wait_until(lambda: answers(port) or server.poll() is not None, timeout=90, what="RabbitMQ to start")
        if not answers(port):
            pytest.fail(f"rabbitmq-server did not start: {(folder / 'server.out').read_text()[-1500:]}")
        yield f"amqp://guest:guest@127.0.0.1:{port}//"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        log.close()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def rabbitmq_app(rabbitmq_url):
    """Point this process's Celery app at RabbitMQ for the test, and back at Redis afterwards."""
    from config.celery import app

    # The stored values, not the properties: those fall back to broker_url, and restoring that as an explicit
    # write URL would pin every later publish of the session to it.
    previous = (app.conf.broker_url, app.conf.get("broker_write_url"), app.conf.get("broker_read_url"))

    def switch(url, write, read) -> None:
        app.conf.broker_url, app.conf.broker_write_url, app.conf.broker_read_url = url, write, read
        # New connection and producer pools for the new URL (the old ones are left to the garbage collector:
        # closing them would break producers other threads still hold).
        app._pool = None
        app.amqp._producer_pool = None

    switch(rabbitmq_url, None, None)
    with app.connection_for_write() as connection:
        for queue in ("default", "speech", "render"):
            with contextlib.suppress(Exception):
                connection.channel().queue_purge(queue)
    try:
        yield app
    finally:
        switch(*previous)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_reading_becomes_a_film_over_rabbitmq(
    rabbitmq_app, rabbitmq_url, festival, resident, moderator, settings, tmp_path
):
    from django.db import connection
    from django.test import Client

    from animation.models import Animation
    from contributions import services

    environment = cluster.process_environment(
        database_url=cluster.database_url_of(connection.settings_dict),
        media_root=settings.MEDIA_ROOT,
        extra={"CELERY_BROKER_URL": rabbitmq_url, "SHUOHUA_VAR_DIR": str(tmp_path / "var")},
    )
    worker = cluster.celery_worker("rabbit", "speech,render,default", environment, tmp_path / "logs")
    try:
        upload = SimpleUploadedFile("take.flac", CHINESE_POEM.read_bytes())
        recording = services.recording_submit(contributor=resident, passage=festival["chinese"], upload=upload)
        services.recording_approve(recording=recording, moderator=moderator)
        animation = Animation.objects.get(recording=recording)
        assert animation.enqueued_at is not None, "RabbitMQ did not take the alignment message"
        deadline = time.monotonic() + 300
        while animation.status not in (Animation.Status.PUBLISHED, Animation.Status.FAILED):
            assert worker.alive(), worker.log_tail()
            assert time.monotonic() < deadline, f"still {animation.status}: {worker.log_tail()}"
            time.sleep(0.3)
            animation.refresh_from_db()
        assert animation.status == Animation.Status.PUBLISHED, animation.error

        client = Client()
        ready = client.get("/health/ready/").json()
        assert ready["checks"]["broker"]["ok"] is True, ready
        metrics = client.get("/metrics").content.decode()
        assert 'shuohua_queue_messages{queue="render"} 0.0' in metrics
    finally:
        worker.stop(grace=10)
