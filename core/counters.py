"""Counters in the shared cache (Redis), one store every web process shares.

``increment`` adds one to a counter that lives TIMEOUT seconds from its first count (the per-account
failed logins, accounts/login_limits.py); ``count_in_window`` counts in fixed windows of a period and
fails open when the cache is down (the rate limits, config/rate_limits.py).
"""

from __future__ import annotations

import logging
import time

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
