"""Operators' endpoints: liveness, readiness against the real database, broker, channel layer and
storage, and Prometheus metrics whose figures match what the broker and the database hold."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from testkit.media import CHINESE_POEM


def metric_value(text: str, name: str, **labels: str) -> float:
    wanted = name + ("{" + ",".join(f'{key}="{value}"' for key, value in labels.items()) + "}" if labels else "")
    for line in text.splitlines():
        if line.startswith(wanted + " "):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{wanted} not in the metrics")


@pytest.mark.django_db(transaction=True)
def test_liveness_and_readiness_check_every_dependency_for_real(client):
    assert client.get("/health/live/").json() == {"status": "ok"}
    response = client.get("/health/ready/")
    body = response.json()
    assert response.status_code == 200, body
    assert set(body["checks"]) == {"database", "broker", "channel_layer", "storage"}
    assert all(check["ok"] for check in body["checks"].values()), body


@pytest.mark.django_db(transaction=True)
def test_readiness_fails_and_names_the_broker_when_it_does_not_answer(client):
    from config.celery import app

    previous = app.conf.get("broker_write_url")  # the stored value (the property falls back to broker_url)
    app.conf.broker_write_url = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    try:
        response = client.get("/health/ready/")
    finally:
        app.conf.broker_write_url = previous
    body = response.json()
    assert response.status_code == 503
    assert body["checks"]["broker"]["ok"] is False and body["checks"]["database"]["ok"] is True
    assert client.get("/health/live/").status_code == 200  # alive, just not ready


@pytest.mark.django_db(transaction=True)
def test_readiness_fails_when_storage_cannot_be_written(client, settings):
    blocker = settings.MEDIA_ROOT / "not-a-folder"
    blocker.write_bytes(b"")
    settings.MEDIA_ROOT = blocker / "media"  # a folder below a plain file: no write can succeed, even as root
    response = client.get("/health/ready/")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["storage"]["ok"] is False and checks["database"]["ok"] is True


@pytest.mark.django_db(transaction=True)
def test_metrics_count_requests_jobs_and_the_messages_waiting_in_the_broker(client, festival, resident, moderator):
    import redis

    from config.celery import app
    from contributions import services

    with app.connection_for_write() as connection:
        for queue in ("default", "speech", "render"):
            connection.default_channel.queue_purge(queue)
    upload = SimpleUploadedFile("take.flac", CHINESE_POEM.read_bytes())
    recording = services.recording_submit(contributor=resident, passage=festival["chinese"], upload=upload)
    services.recording_approve(recording=recording, moderator=moderator)
    # No worker runs in this test: the messages wait in the broker.
    waiting = redis.Redis.from_url(app.conf.broker_url).llen("speech")
    assert waiting >= 2  # the transcript, the voice copy or the alignment

    before = client.get("/metrics").content.decode()
    client.get("/health/live/")
    text = client.get("/metrics").content.decode()
    assert metric_value(text, "shuohua_queue_messages", queue="speech") == waiting
    assert metric_value(text, "shuohua_queue_messages", queue="render") == 0
    assert metric_value(text, "shuohua_animation_jobs", status="queued") == 1
    assert metric_value(text, "shuohua_animation_jobs", status="published") == 0
    assert (
        metric_value(text, "shuohua_http_requests_total", method="GET", status="200")
        - metric_value(before, "shuohua_http_requests_total", method="GET", status="200")
        == 2  # the liveness probe and the first scrape
    )


@pytest.mark.django_db
def test_metrics_answer_only_the_operators_networks(client):
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 404
    assert client.get("/metrics", REMOTE_ADDR="2001:db8::1").status_code == 404
