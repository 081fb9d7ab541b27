"""Anonymous visitors' gallery pages from the shared cache (issue 25): a festival night's front page and
event page are the same for every visitor who is not logged in, so they are rendered once per language
and served from Redis until something they show changes.

What changes them bumps one generation number (``pages_changed``): a film published or taken down, a
festival, painting, passage or figure saved. Every cached page's key holds the generation, so a bump
retires them all at once; PAGE_SECONDS bounds what no signal announces (the "being animated now"
count, a reader's new display name).

The one per-visitor part of these pages is the CSRF token of the language form: it is stored as a
placeholder and each response gets the visitor's own token, so a cached page never hands one
visitor's token to another.
"""

from __future__ import annotations

import hashlib
import logging
import re
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.utils.cache import patch_vary_headers

logger = logging.getLogger(__name__)

GENERATION_KEY = "gallery:pages:generation"
TOKEN_PLACEHOLDER = "__shuohua_csrf_token__"  # noqa: S105 (a marker in the page, not a secret)
_TOKEN_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def pages_changed() -> None:
    """Something the public pages show changed: every cached page is retired."""
    try:
        if not cache.add(GENERATION_KEY, 1, timeout=None):
            cache.incr(GENERATION_KEY)
    except Exception:
        # The cache is down: nothing is being served from it either.
        logger.warning("could not retire the cached gallery pages", exc_info=True)


def _personal(request) -> bool:
    """A request whose page may differ from everyone else's: logged in, or carrying a session or
    messages (a flash message is shown once, to that visitor)."""
    if request.method not in ("GET", "HEAD"):
        return True
    cookies = request.COOKIES
    if settings.SESSION_COOKIE_NAME in cookies or "messages" in cookies:
        return True
    return bool(getattr(request, "user", None) and request.user.is_authenticated)


def _key(request, generation: int) -> str:
    where = f"{request.scheme}://{request.get_host()}{request.get_full_path()}"
    digest = hashlib.sha256(where.encode()).hexdigest()[:32]
    return f"gallery:page:{generation}:{getattr(request, 'LANGUAGE_CODE', '')}:{digest}"


def cached_public_page(view):
    """Serve VIEW's page to anonymous visitors from the cache (see the module's docstring)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        seconds = settings.GALLERY_PAGE_CACHE_SECONDS
        if not seconds or _personal(request):
            return view(request, *args, **kwargs)
        try:
            generation = cache.get(GENERATION_KEY) or 0
            key = _key(request, generation)
            stored = cache.get(key)
        except Exception:
            logger.warning("page cache unavailable; rendering", exc_info=True)
            return view(request, *args, **kwargs)
        if stored is not None:
            content_type, body = stored
            response = HttpResponse(body.replace(TOKEN_PLACEHOLDER, get_token(request)), content_type=content_type)
            response["X-Page-Cache"] = "hit"
        else:
            response = view(request, *args, **kwargs)
            if response.status_code != 200 or response.streaming or response.cookies:
                return response
            body = response.content.decode(response.charset)
            tokens = set(_TOKEN_FIELD.findall(body))
            for token in tokens:
                body = body.replace(f'value="{token}"', f'value="{TOKEN_PLACEHOLDER}"')
            try:
                cache.set(key, (response["Content-Type"], body), seconds)
            except Exception:
                logger.warning("could not keep a gallery page in the cache", exc_info=True)
            response["X-Page-Cache"] = "miss"
        # The language comes from the cookie or Accept-Language: caches between us and the visitor must
        # keep the pages apart as the key above does.
        patch_vary_headers(response, ("Cookie", "Accept-Language"))
        return response

    return wrapper
