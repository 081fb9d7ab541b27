"""Readiness checks: each dependency the web process needs, tried for real with a short timeout."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
import uuid
from collections.abc import Awaitable, Callable

from asgiref.sync import sync_to_async

CHECK_TIMEOUT_SECONDS = 3.0


def _database() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone()[0] == 1


def _broker() -> None:
    from celery import current_app as app

    with app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1, timeout=CHECK_TIMEOUT_SECONDS)
        channel = connection.default_channel  # AMQP: opening a channel is a round trip
        client = getattr(channel, "client", None)
        if client is not None and hasattr(client, "ping"):
            client.ping()  # Redis connects lazily: ask it something


def _storage() -> None:
    from core import storage

    name = storage.save_bytes(b"ok", f"health/{socket.gethostname()}-{uuid.uuid4().hex}.txt")
    try:
        assert storage.read_bytes(name) == b"ok"
    finally:
        storage.delete(name)


async def _channel_layer() -> None:
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    # A channel of this process (pub/sub layer: subscribed before the ping is sent, or the ping is lost).
    channel = await layer.new_channel("health.")
    try:
        await layer.send(channel, {"type": "health.ping"})
        message = await layer.receive(channel)
        assert message["type"] == "health.ping"
    finally:
        # The layer forgets a channel when a receive on it is cancelled, as when a consumer leaves:
        # a check every few seconds must not leave a subscription behind each time.
        leaving = asyncio.ensure_future(layer.receive(channel))
        await asyncio.sleep(0)
        leaving.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await leaving


CHECKS: dict[str, Callable[[], Awaitable[None]]] = {
    "database": sync_to_async(_database, thread_sensitive=False),
    "broker": sync_to_async(_broker, thread_sensitive=False),
    "channel_layer": _channel_layer,
    "storage": sync_to_async(_storage, thread_sensitive=False),
}


async def run_checks() -> dict[str, dict]:
    """Every check at once; each result says ok or the error, and how long it took."""

    async def one(name: str, check: Callable[[], Awaitable[None]]) -> tuple[str, dict]:
        started = time.monotonic()
        try:
            await asyncio.wait_for(check(), timeout=CHECK_TIMEOUT_SECONDS)
        except Exception as error:  # any failure means "not ready", reported by name
            detail = {"ok": False, "error": f"{type(error).__name__}: {error}"[:300]}
        else:
            detail = {"ok": True}
        detail["seconds"] = round(time.monotonic() - started, 4)
        return name, detail

    return dict(await asyncio.gather(*(one(name, check) for name, check in CHECKS.items())))
