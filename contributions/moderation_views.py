"""Moderation pages: the keyboard console, the film gate, and the curators' audit log.

The console and film pages are shells run by static/js/moderation.js over the moderation API; the
audit log is plain HTML with forms. Anonymous visitors go to the login page; signed-in people
without the role get 403.
"""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from contributions import selectors, services
from contributions.forms import RejectForm
from contributions.models import ModerationDecision, Recording
from core.query_params import int_param, uuid_param

AUDIT_PAGE_SIZE = 50


def _role_required(check, message: str):
    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not check(request.user):
                # The festival's own 403 page (templates/403.html), saying why, in the visitor's language.
                raise PermissionDenied(str(message))
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


moderator_required = _role_required(
    lambda user: user.is_moderator(), gettext_lazy("Only moderators can review recordings.")
)
curator_required = _role_required(lambda user: user.is_curator(), gettext_lazy("Only curators can read the audit log."))


def _keyed_reasons(choices) -> list[dict]:
    return [{"key": str(number), "value": value, "label": label} for number, (value, label) in enumerate(choices, 1)]


@moderator_required
def moderation_queue(request):
    """The console: one recording at a time, claimed for a few minutes, decided from the keyboard."""
    queue = selectors.moderation_queue(moderator=request.user)
    return render(
        request,
        "contributions/moderation_queue.html",
        {
            "filters": selectors.moderation_filters(moderator=request.user),
            "reasons": _keyed_reasons(Recording.RejectionReason.choices),
            "config": {
                "mode": "recordings",
                "reasons": _keyed_reasons(Recording.RejectionReason.choices),
                "claimSeconds": services.claim_seconds(),
                "undoSeconds": services.undo_seconds(),
            },
            "fallback_queue": queue[:20],
            "queue_size": queue.count(),
            "reject_form": RejectForm(),
        },
    )


@moderator_required
@require_POST
def moderation_decide(request, recording_id):
    """The form fallback for browsers without JavaScript, over the same services as the API."""
    recording = get_object_or_404(Recording.objects.select_related("passage__event"), id=recording_id)
    if not selectors.moderator_may_review(moderator=request.user, recording=recording):
        return HttpResponseForbidden(_("You do not moderate this event."))
    try:
        if request.POST.get("verdict") == "approve":
            services.recording_approve(recording=recording, moderator=request.user)
            messages.success(request, _("Approved: the animation is being made."))
        else:
            form = RejectForm(request.POST)
            if not form.is_valid():
                messages.error(request, _("Choose a reason to reject."))
                return redirect("moderation")
            services.recording_reject(recording=recording, moderator=request.user, **form.cleaned_data)
            messages.success(request, _("Rejected. The resident will see the reason."))
    except services.InvalidTransition as error:
        messages.warning(request, str(error))
    return redirect("moderation")


@moderator_required
def moderation_films(request):
    """The second gate: finished films of events that review them before they go public."""
    reasons = _keyed_reasons(ModerationDecision.FilmRejectionReason.choices)
    return render(
        request,
        "contributions/moderation_films.html",
        {
            "reasons": reasons,
            "config": {"mode": "films", "reasons": reasons, "undoSeconds": services.undo_seconds()},
        },
    )


@curator_required
def moderation_audit(request):
    decisions = selectors.moderation_audit(
        curator=request.user,
        event_id=uuid_param(request.GET, "event"),
        moderator_id=int_param(request.GET, "moderator"),
    )
    page = Paginator(decisions, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "contributions/moderation_audit.html",
        {
            "page": page,
            "recording_reasons": Recording.RejectionReason.choices,
            "film_reasons": ModerationDecision.FilmRejectionReason.choices,
        },
    )


@curator_required
@require_POST
def moderation_reverse(request, decision_id):
    decision = get_object_or_404(ModerationDecision, id=decision_id)
    try:
        services.decision_reverse(
            decision=decision,
            curator=request.user,
            reason=request.POST.get("reason", ""),
            note=request.POST.get("note", "").strip(),
        )
    except ValueError:
        messages.error(request, _("Choose a reason: the resident will see it."))
    except services.InvalidTransition as error:
        messages.warning(request, str(error))
    else:
        messages.success(request, _("Decision reversed."))
    return redirect("moderation-audit")
