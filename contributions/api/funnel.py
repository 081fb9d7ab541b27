"""Where readers drop out of the recording flow: the recording page reports each step it reaches.

A plain Django view, not DRF: Django's CSRF check then holds for every visitor (DRF skips it for
anonymous requests), and the page's fetch (keepalive, so a count sent while the page unloads still
arrives) carries the X-CSRFToken header. Rate-limited per resident or address (config/rate_limits.py,
FUNNEL_RATE). Nothing personal is read or kept: only the passage, the step and the day.
"""

from __future__ import annotations

import json

from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from contributions import selectors, services
from contributions.models import RecordingFunnelCount


@require_POST
def funnel_step(request):
    """JSON {"passage": id, "step": one of RecordingFunnelCount.Step}: 204 counted, 400 bad step, 404 no passage."""
    try:
        payload = json.loads(request.body or b"{}")
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        return JsonResponse({"detail": _("Send a JSON object."), "code": "json"}, status=400)
    step = payload.get("step")
    if not isinstance(step, str) or step not in RecordingFunnelCount.Step.values:
        return JsonResponse({"detail": _("Unknown step of the recording flow."), "code": "step"}, status=400)
    passage = selectors.passage_find(passage_id=payload.get("passage"))
    if passage is None:
        return JsonResponse({"detail": _("No such passage."), "code": "passage"}, status=404)
    services.recording_funnel_count(passage=passage, step=step)
    return HttpResponse(status=204)
