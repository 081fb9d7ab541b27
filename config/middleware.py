"""Request-body limits, applied before a body is read and before anyone is authenticated.

Two layers, because Django's ASGI handler reads the whole body (spooling it to disk) before any
Django middleware runs:

- ``BodyLimitASGI`` wraps the ASGI application (config/asgi.py): a declared Content-Length over the
  cap is answered 413 at once, without reading a byte; a body without one (chunked) is counted as it
  arrives and refused with 413 the moment it passes the cap.
- ``RequestBodyLimitMiddleware`` is the first Django middleware: the same check on Content-Length for
  any other server (a WSGI server, the test client).

The cap (REQUEST_MAX_BYTES) is the largest upload plus room for the form around it. Refusals are
JSON for the API and plain text elsewhere, in the client's language (Accept-Language), since locale
middleware has not run yet.
"""

from __future__ import annotations

import json
import logging

from django.conf import settings
from django.http import HttpResponse
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.login_limits import account_locked


def request_max_bytes() -> int:
    return int(settings.REQUEST_MAX_BYTES)


def _language(accept_language: str) -> str:
    from django.utils.translation.trans_real import parse_accept_lang_header

    for code, _quality in parse_accept_lang_header(accept_language):
        if code == "*":
            continue
        try:
            return translation.get_supported_language_variant(code, strict=False)
        except LookupError:
            continue
    return settings.LANGUAGE_CODE


def too_large_body(*, path: str, accept_language: str) -> tuple[bytes, str]:
    """The 413 body and its content type for PATH, in the language of ACCEPT_LANGUAGE."""
    with translation.override(_language(accept_language)):
        message = _("The request is larger than %(limit)d MB.") % {"limit": request_max_bytes() // 2**20}
    if path.startswith("/api/"):
        return json.dumps({"detail": message, "code": "too_large"}, ensure_ascii=False).encode(), "application/json"
    return message.encode(), "text/plain; charset=utf-8"


def _declared_length(value: str | None) -> int | None:
    """Content-Length as a number; -1 when it is present but not a number (refused as well)."""
    if value is None or value == "":
        return None
    value = value.strip()
    return int(value) if value.isdigit() else -1


class RequestBodyLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        length = _declared_length(request.META.get("CONTENT_LENGTH"))
        if length is not None and (length < 0 or length > request_max_bytes()):
            content, content_type = too_large_body(
                path=request.path, accept_language=request.META.get("HTTP_ACCEPT_LANGUAGE", "")
            )
            return HttpResponse(content, status=413 if length >= 0 else 400, content_type=content_type)
        return self.get_response(request)


class BodyTooLarge(Exception):
    """Raised from inside ``receive`` to stop Django reading a body past the cap."""


class BodyLimitASGI:
    """ASGI middleware refusing HTTP bodies over the cap, declared or streamed, before Django reads them."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {name.lower(): value for name, value in scope.get("headers", [])}
        limit = request_max_bytes()
        length = _declared_length(headers.get(b"content-length", b"").decode("latin-1") or None)
        if length is not None and (length < 0 or length > limit):
            return await self._refuse(scope, headers, send, status=413 if length >= 0 else 400)
        received = 0
        started = False

        async def counted_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        async def watched_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except BodyTooLarge:
            if not started:
                await self._refuse(scope, headers, send, status=413)

    async def _refuse(self, scope, headers, send, *, status: int) -> None:
        content, content_type = too_large_body(
            path=scope.get("path", ""), accept_language=headers.get(b"accept-language", b"").decode("latin-1")
        )
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", content_type.encode()),
                    (b"content-length", str(len(content)).encode()),
                    # The rest of the body is never read: the client must not reuse the connection.
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": content})


# ---------------------------------------------------------------------------------------------------
# Rate limits


def client_ip(request) -> str:
    """The client's address: REMOTE_ADDR, or the address TRUSTED_PROXY_COUNT proxies saw (X-Forwarded-For)."""
    proxies = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0))
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies > 0 and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= proxies:
            return hops[-proxies]
    # In-process logins (Django's test client, force_login) carry no address; axes stores the value in an
    # inet column, which PostgreSQL refuses for anything but an address: the unspecified one stands in.
    return request.META.get("REMOTE_ADDR", "") or "0.0.0.0"


_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """ "30/10m" -> (30, 600); "30/hour" -> (30, 3600)."""
    count, _slash, period = rate.partition("/")
    digits = "".join(character for character in period if character.isdigit())
    unit = period[len(digits) :][:1].lower() or "s"
    return int(count), int(digits or 1) * _PERIODS[unit]


class RateLimitMiddleware:
    """Fixed-window limits on the views where a password or heavy work is involved (settings.RATE_LIMITS).

    Only POSTs count: showing a form costs nothing. Keys are the client address, and for the upload
    form the user as well, so that one household behind one address is not blocked by a neighbour.
    """

    VIEWS = {"login": "login", "signup": "signup", "password_reset": "password_reset", "record": "record"}

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.method != "POST" or request.resolver_match is None:
            return None
        rule = self.VIEWS.get(request.resolver_match.url_name or "")
        if rule is None or rule not in settings.RATE_LIMITS:
            return None
        if rule == "login" and account_locked(request.POST.get("username", "")):
            return login_locked_out(request, None)
        limit, period = parse_rate(settings.RATE_LIMITS[rule])
        if rule == "record" and request.user.is_authenticated:
            who = f"user:{request.user.pk}"
        else:
            who = f"ip:{client_ip(request)}"
        if _count(f"ratelimit:{rule}:{who}", period) <= limit:
            return None
        message = _("Too many attempts. Please wait a little and try again.")
        response = HttpResponse(message, status=429, content_type="text/plain; charset=utf-8")
        response["Retry-After"] = str(period)
        return response


def _count(key: str, period: int) -> int:
    import time

    from django.core.cache import cache

    window_key = f"{key}:{int(time.time()) // period}"
    try:
        cache.add(window_key, 0, timeout=period + 5)
        return cache.incr(window_key)
    except ValueError:  # expired between add and incr
        cache.set(window_key, 1, timeout=period + 5)
        return 1
    except Exception:
        # The shared cache (Redis) is down: let the request through rather than fail every login; the
        # failed-login lockout lives in the database and still holds.
        logging.getLogger(__name__).warning("rate-limit counter unavailable", exc_info=True)
        return 0


def login_locked_out(request, credentials, *args, **kwargs):
    """django-axes' answer once a username is locked out from an address: 429, in the user's language."""
    minutes = round(float(settings.AXES_COOLOFF_TIME) * 60)
    message = _("Too many failed logins. Please try again in %(minutes)d minutes.") % {"minutes": minutes}
    response = HttpResponse(message, status=429, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(minutes * 60)
    return response


# ---------------------------------------------------------------------------------------------------
# Daphne


def limit_daphne_request_bodies() -> None:
    """Refuse oversized bodies inside Daphne itself, as they arrive.

    Daphne (Twisted) receives a request's whole body, spooled to a temporary file, before the
    application hears of the request, so BodyLimitASGI alone would act only after a multi-GB upload
    had filled the disk. Called from config/asgi.py when Daphne is the server. The refusal is a 413,
    then the write side is closed; what the client still sends is discarded, and the connection is
    dropped a few seconds later.
    """
    from daphne.http_protocol import WebRequest
    from twisted.internet import reactor

    if getattr(WebRequest, "shuohua_body_limit", False):
        return
    original_got_length = WebRequest.gotLength
    original_content_chunk = WebRequest.handleContentChunk
    original_process = WebRequest.process

    def refuse(request, status: int) -> None:
        request.shuohua_refused = True
        path = request.uri.decode("latin-1", "replace").split("?")[0]
        accept_language = (request.getHeader(b"accept-language") or b"").decode("latin-1")
        content, content_type = too_large_body(path=path, accept_language=accept_language)
        reason = b"Payload Too Large" if status == 413 else b"Bad Request"
        head = b"HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % (
            status,
            reason,
            content_type.encode(),
            len(content),
        )
        transport = request.channel.transport
        transport.write(head + content)
        if hasattr(transport, "loseWriteConnection"):
            transport.loseWriteConnection()
        reactor.callLater(5, transport.loseConnection)

    def got_length(request, length):
        request.shuohua_received = 0
        request.shuohua_refused = False
        if length is not None and length > request_max_bytes():
            original_got_length(request, 0)
            refuse(request, 413)
            return
        original_got_length(request, length)

    def content_chunk(request, data):
        if getattr(request, "shuohua_refused", False):
            return
        request.shuohua_received = getattr(request, "shuohua_received", 0) + len(data)
        if request.shuohua_received > request_max_bytes():
            refuse(request, 413)
            return
        original_content_chunk(request, data)

    def process(request):
        if getattr(request, "shuohua_refused", False):
            return None
        return original_process(request)

    WebRequest.gotLength = got_length
    WebRequest.handleContentChunk = content_chunk
    WebRequest.process = process
    WebRequest.shuohua_body_limit = True


# ---------------------------------------------------------------------------------------------------
# API errors


def _api_error_messages() -> dict[int, str]:
    return {
        400: _("The request is not valid."),
        401: _("Please log in."),
        403: _("You may not do this."),
        404: _("Not found."),
        405: _("This method is not allowed here."),
        413: _("The request is too large."),
        429: _("Too many attempts. Please wait a little and try again."),
        500: _("Something went wrong on our side. Please try again in a moment."),
    }


class ApiErrorsAsJsonMiddleware:
    """Under /api/, an error is JSON in the client's language, never an HTML page.

    DRF views already answer JSON; this catches what happens outside them: an unknown /api/ URL
    (Django's 404 page), a CSRF refusal, an unhandled exception (the 500 page), a rate limit.
    Sits below LocaleMiddleware so the client's language is active.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            request.path.startswith("/api/")
            and response.status_code >= 400
            and not response.get("Content-Type", "").startswith("application/json")
            and not response.streaming
        ):
            messages = _api_error_messages()
            detail = messages.get(response.status_code) or messages[500 if response.status_code >= 500 else 400]
            replacement = HttpResponse(
                json.dumps({"detail": detail}, ensure_ascii=False),
                status=response.status_code,
                content_type="application/json",
            )
            for header in ("Retry-After", "Allow", "Vary", "Content-Language"):
                if header in response:
                    replacement[header] = response[header]
            return replacement
        return response


def api_exception_handler(exc, context):
    """DRF's handler, except that a Django Http404 becomes DRF's own translated "Not found."

    get_object_or_404's message names the model in English ("No Recording matches the given query."):
    neither in the client's language nor anything a client should learn.
    """
    from django.http import Http404
    from rest_framework import exceptions
    from rest_framework.views import exception_handler

    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    return exception_handler(exc, context)
