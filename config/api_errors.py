"""Errors under /api/ as JSON in the client's language: the middleware for what happens outside DRF's
views, and DRF's exception handler (REST_FRAMEWORK["EXCEPTION_HANDLER"])."""

from __future__ import annotations

import json

from django.http import HttpResponse
from django.utils.translation import gettext as _


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
