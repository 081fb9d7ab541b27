"""Fixed-window rate limits on the views where a password or heavy work is involved, and django-axes'
answer to a locked-out login (AXES_LOCKOUT_CALLABLE). Counters: core/counters.py, in the shared cache."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from django.utils.translation import gettext as _

from accounts.login_limits import account_locked
from core.client_address import client_ip
from core.counters import count_in_window

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
    form and the curators' heavy work the user instead, so that one household (or one library) behind
    one address is not blocked by a neighbour.
    """

    VIEWS = {
        "login": "login",
        "signup": "signup",
        "password_reset": "password_reset",
        "record": "record",
        # Heavy work a curator starts: a key-point fit or a face search runs the face networks.
        "curation-landmarks-fit": "curation_fit",
        "curation-painting-detect": "curation_fit",
        # Anonymous counts of the recording flow: cheap, but nobody should be able to skew them at will.
        "api-funnel": "funnel",
    }
    # Forms whose one action is heavy: a test film renders a whole film.
    ACTIONS = {("curation-passage", "preview"): "curation_render"}
    # Counted per account, not per address: colleagues share a library's address.
    PER_USER = {"record", "curation_fit", "curation_render", "funnel"}

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.method != "POST" or request.resolver_match is None:
            return None
        name = request.resolver_match.url_name or ""
        rule = self.VIEWS.get(name) or self.ACTIONS.get((name, request.POST.get("action", "")))
        if rule is None or rule not in settings.RATE_LIMITS:
            return None
        if rule == "login" and account_locked(request.POST.get("username", "")):
            return login_locked_out(request, None)
        limit, period = parse_rate(settings.RATE_LIMITS[rule])
        if rule in self.PER_USER and request.user.is_authenticated:
            who = f"user:{request.user.pk}"
        else:
            who = f"ip:{client_ip(request)}"
        if count_in_window(f"ratelimit:{rule}:{who}", period) <= limit:
            return None
        message = _("Too many attempts. Please wait a little and try again.")
        response = HttpResponse(message, status=429, content_type="text/plain; charset=utf-8")
        response["Retry-After"] = str(period)
        return response


def login_locked_out(request, credentials, *args, **kwargs):
    """django-axes' answer once a username is locked out from an address: 429, in the user's language."""
    minutes = round(float(settings.AXES_COOLOFF_TIME) * 60)
    message = _("Too many failed logins. Please try again in %(minutes)d minutes.") % {"minutes": minutes}
    response = HttpResponse(message, status=429, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(minutes * 60)
    return response
