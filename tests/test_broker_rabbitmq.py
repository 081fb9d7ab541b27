"""The broker is a setting: the same pipeline over RabbitMQ (CELERY_BROKER_URL=amqp://...), with real
worker processes and a real RabbitMQ server, and the operators' checks answering for it."""

from __future__ import annotations

import contextlib
import socket
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from testkit import cluster
from testkit.media import CHINESE_POEM

RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672//"


def rabbitmq_answers() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 5672), timeout=1).close()
        return True
    except OSError:
        return False


@pytest.fixture
def rabbitmq_app():
    """Point this process's Celery app at RabbitMQ for the test, and back at Redis afterwards."""
    if not rabbitmq_answers():
        pytest.skip("no RabbitMQ on 127.0.0.1:5672 (apt-get install rabbitmq-server)")
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

    switch(RABBITMQ_URL, None, None)
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
def test_a_reading_becomes_a_film_over_rabbitmq(rabbitmq_app, festival, resident, moderator, settings, tmp_path):
    from django.db import connection
    from django.test import Client

    from animation.models import Animation
    from contributions import services

    environment = cluster.process_environment(
        database_url=cluster.database_url_of(connection.settings_dict),
        media_root=settings.MEDIA_ROOT,
        extra={"CELERY_BROKER_URL": RABBITMQ_URL, "SHUOHUA_VAR_DIR": str(tmp_path / "var")},
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
