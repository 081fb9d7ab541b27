"""Failed logins counted per account, from every address together.

django-axes locks a username from one address (config/settings.py AXES_*); an attacker who changes
address on every try never reaches that limit. This counts the account's failures in the shared cache
over the lockout period, and the login view is refused (429) for that account once it reaches
ACCOUNT_LOGIN_FAILURE_LIMIT. A success clears the count.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.cache import cache
from django.dispatch import receiver

from core import counters

logger = logging.getLogger(__name__)


def _key(username: str) -> str:
    return f"login-failures:account:{username.strip().casefold()}"


def _period_seconds() -> int:
    return max(60, round(float(settings.AXES_COOLOFF_TIME) * 3600))


def account_failures(username: str) -> int:
    try:
        return int(cache.get(_key(username)) or 0)
    except Exception:  # the shared cache is down: the per-address lockout in the database still holds
        logger.warning("login failures of an account could not be read", exc_info=True)
        return 0


def account_locked(username: str) -> bool:
    return bool(username) and account_failures(username) >= settings.ACCOUNT_LOGIN_FAILURE_LIMIT


@receiver(user_login_failed)
def count_failed_login(sender, credentials, request=None, **kwargs) -> None:
    username = (credentials or {}).get("username") or ""
    if not username:
        return
    try:
        counters.increment(_key(username), timeout=_period_seconds())
    except Exception:
        logger.warning("a failed login could not be counted for its account", exc_info=True)


@receiver(user_logged_in)
def clear_failed_logins(sender, request, user, **kwargs) -> None:
    try:
        cache.delete(_key(user.get_username()))
    except Exception:
        logger.warning("an account's failed logins could not be cleared", exc_info=True)
