"""Counters in the shared cache (Redis), one store every web process shares.

``increment`` adds one to a counter that lives TIMEOUT seconds from its first count (the per-account
failed logins, accounts/login_limits.py); ``count_in_window`` counts in fixed windows of a period and
fails open when the cache is down (the rate limits, config/rate_limits.py).
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref

from django.core.cache import cache

logger = logging.getLogger(__name__)


def increment(key: str, *, timeout: int) -> int:
    """Add one to the counter KEY (created at 0, living TIMEOUT seconds) and return its new value.

    Raises what the cache raises when it is unreachable: the caller decides how to fail.
    """
    try:
        cache.add(key, 0, timeout=timeout)
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=timeout)
        return 1


def count_in_window(key: str, period_seconds: int) -> int:
    """Count one more under KEY in the current window of PERIOD_SECONDS; the window's count so far.

    0 when the cache is down (logged): the request is let through rather than every login failing;
    the failed-login lockout lives in the database and still holds.
    """
    window_key = f"{key}:{int(time.time()) // period_seconds}"
    try:
        return increment(window_key, timeout=period_seconds + 5)
    except Exception:
        logger.warning("rate-limit counter unavailable", exc_info=True)
        return 0


# One asyncio Redis client per event loop (a connection pool belongs to the loop that made it): Daphne
# runs one loop per process, tests run a loop each.
_async_clients: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _async_redis():
    """A redis.asyncio client on the cache's own Redis, or None when the cache is not Redis."""
    from django.conf import settings

    config = settings.CACHES["default"]
    if not config["BACKEND"].endswith("RedisCache"):
        return None
    loop = asyncio.get_running_loop()
    client = _async_clients.get(loop)
    if client is None:
        import redis.asyncio

        location = config["LOCATION"]
        url = location[0] if isinstance(location, (list, tuple)) else location
        client = redis.asyncio.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2)
        _async_clients[loop] = client
    return client


async def aadd_and_count(key: str, delta: int, *, timeout: int) -> int:
    """Add DELTA to the counter KEY (created at 0, living TIMEOUT seconds from its first count); its new
    value. For consumers: one Redis round trip on the event loop, where Django's async cache methods
    would hop to the one thread the process keeps for synchronous code (a thousand sockets connecting
    at once queued behind each other there, past Daphne's handshake timeout).

    Raises what Redis raises when it is unreachable: the caller decides how to fail.
    """
    client = _async_redis()
    full_key = cache.make_key(key)
    if client is None:  # another cache backend (tests may use one): its own async API
        await cache.aadd(key, 0, timeout=timeout)
        return await cache.aincr(key, delta)
    async with client.pipeline(transaction=True) as pipeline:
        pipeline.set(full_key, 0, ex=timeout, nx=True)
        pipeline.incrby(full_key, delta)
        _created, value = await pipeline.execute()
    if int(value) < 0:  # a decrement after the counter expired: it starts again from nothing
        await client.set(full_key, 0, ex=timeout)
        return 0
    return int(value)
