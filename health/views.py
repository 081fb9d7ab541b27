"""/health/live (the process answers), /health/ready (its dependencies answer), /metrics (Prometheus).

No login: load balancers and Prometheus call them. nginx (platform/nginx/) lets only the
operators' network reach them; they reveal no resident data. /metrics also checks the address itself
(METRICS_ALLOWED_NETWORKS), since Daphne may serve without nginx in front.
"""

from __future__ import annotations

import ipaddress

from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import Http404, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST

from core.client_address import client_ip
from health.checks import run_checks
from health.metrics import render_latest


@never_cache
@require_GET
def live(request):
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
async def ready(request):
    results = await run_checks()
    healthy = all(result["ok"] for result in results.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": results}, status=200 if healthy else 503
    )


@never_cache
@require_GET
async def metrics(request):
    try:
        address = ipaddress.ip_address(client_ip(request))
    except ValueError:
        raise Http404 from None
    if not any(address in ipaddress.ip_network(network) for network in settings.METRICS_ALLOWED_NETWORKS):
        raise Http404  # not for the public: as if there were nothing here
    return HttpResponse(await sync_to_async(render_latest)(), content_type=CONTENT_TYPE_LATEST)
