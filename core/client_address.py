"""The client's address, as the rate limits, django-axes (AXES_CLIENT_IP_CALLABLE) and /metrics see it."""

from __future__ import annotations

from django.conf import settings


def client_ip(request) -> str:
    """The client's address: REMOTE_ADDR, or the address TRUSTED_PROXY_COUNT proxies saw (X-Forwarded-For)."""
    proxies = int(settings.TRUSTED_PROXY_COUNT)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies > 0 and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= proxies:
            return hops[-proxies]
    # In-process logins (Django's test client, force_login) carry no address; axes stores the value in an
    # inet column, which PostgreSQL refuses for anything but an address: the unspecified one stands in.
    return request.META.get("REMOTE_ADDR", "") or "0.0.0.0"
