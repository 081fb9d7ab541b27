"""Prometheus metrics.

Request counts and durations are measured in each web process (with PROMETHEUS_MULTIPROC_DIR set, the
processes of one host share them, as prometheus_client's multiprocess mode does). Job figures (jobs per
status, stage durations, failures, retries) and queue lengths are read at scrape time from the database
and the broker, so every process reports the whole platform and workers need no scrape port of their own.
"""

from __future__ import annotations

import logging
import os
from datetime import timedelta

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

QUEUES = ("default", "speech", "render", "render-gpu")
STAGES = ("align", "faces", "motion", "render", "encode", "render_task", "store_files")

REQUESTS = Counter("shuohua_http_requests", "HTTP requests answered", ["method", "status"])
REQUEST_SECONDS = Histogram(
    "shuohua_http_request_seconds",
    "Time to answer an HTTP request",
    ["method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


def queue_lengths() -> dict[str, int]:
    from celery import current_app as app

    lengths: dict[str, int] = {}
    with app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1, timeout=2)
        channel = connection.default_channel
        for queue in QUEUES:
            if hasattr(channel, "_size"):
                # Kombu's virtual transports (Redis): the queue's length, declared by a worker or not.
                lengths[queue] = int(channel._size(queue))
                continue
            try:
                lengths[queue] = channel.queue_declare(queue=queue, passive=True).message_count
            except Exception:  # a queue nobody declared yet (RabbitMQ) is empty
                lengths[queue] = 0
                channel = connection.channel()
    return lengths


class PlatformCollector(Collector):
    """Figures read from the database and the broker at each scrape."""

    def collect(self):
        from django.db.models import Count, Sum
        from django.utils import timezone

        from animation.models import Animation

        jobs = GaugeMetricFamily("shuohua_animation_jobs", "Animation jobs by status", labels=["status"])
        counts = dict(Animation.objects.values_list("status").annotate(n=Count("id")).order_by())
        for status in Animation.Status.values:
            jobs.add_metric([status], counts.get(status, 0))
        yield jobs

        retried = Animation.objects.aggregate(total=Sum("attempts"))["total"] or 0
        yield GaugeMetricFamily(
            "shuohua_animation_retries", "Stages taken back from dead workers (all jobs)", value=retried
        )
        since = timezone.now() - timedelta(hours=1)
        failed = Animation.objects.filter(status=Animation.Status.FAILED, updated_at__gte=since).count()
        yield GaugeMetricFamily("shuohua_animation_failures_last_hour", "Jobs failed in the last hour", value=failed)

        stages = GaugeMetricFamily(
            "shuohua_animation_stage_seconds",
            "Stage durations of the last 200 finished films (quantiles)",
            labels=["stage", "quantile"],
        )
        recent = list(
            Animation.objects.filter(status__in=(Animation.Status.READY, Animation.Status.PUBLISHED))
            .order_by("-updated_at")
            .values_list("stage_seconds", flat=True)[:200]
        )
        for stage in STAGES:
            values = sorted(float(seconds[stage]) for seconds in recent if stage in (seconds or {}))
            if values:
                for quantile in (0.5, 0.95):
                    stages.add_metric([stage, str(quantile)], values[min(len(values) - 1, int(quantile * len(values)))])
        yield stages

        queues = GaugeMetricFamily("shuohua_queue_messages", "Messages waiting in a broker queue", labels=["queue"])
        try:
            for queue, length in queue_lengths().items():
                queues.add_metric([queue], length)
        except Exception:
            # The broker being down shows in /health/ready; the other figures still count.
            logger.warning("queue lengths unavailable", exc_info=True)
        yield queues


def render_latest() -> bytes:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(REQUESTS)
        registry.register(REQUEST_SECONDS)
    registry.register(PlatformCollector())
    return generate_latest(registry)
