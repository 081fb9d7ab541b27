"""Request-body limits, applied before a body is read and before anyone is authenticated.

Two layers, because Django's ASGI handler reads the whole body (spooling it to disk) before any
Django middleware runs:

- ``BodyLimitASGI`` wraps the ASGI application (config/asgi.py): a declared Content-Length over the
  cap is answered 413 at once, without reading a byte; a body without one (chunked) is counted as it
  arrives and refused with 413 the moment it passes the cap.
- ``RequestBodyLimitMiddleware`` is the first Django middleware: the same check on Content-Length for
  any other server (a WSGI server, the test client).

Daphne reads a whole body before the application hears of it: config/daphne_limits.py applies the
same cap inside Daphne.

The cap (REQUEST_MAX_BYTES) is the largest upload plus room for the form around it. Refusals are
JSON for the API and plain text elsewhere, in the client's language (Accept-Language), since locale
middleware has not run yet.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.http import HttpResponse
from django.utils import translation
from django.utils.translation import gettext as _


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
