"""The open dataset's pages for curators (issue 26): a festival's releases, to download or make anew,
and, for superusers only, the releases of every festival. Thin: animation.datasets builds and decides
who may see what."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from animation import datasets
from animation.models import DatasetRelease
from catalogue.models import Event
from core.media import storage_file_response
from gallery.curation.dashboard_page import duration
from gallery.curation.views import curator_required, require_curates


def _page(request, *, event: Event | None):
    if request.method == "POST":
        again = redirect("curation-event-dataset", slug=event.slug) if event else redirect("curation-datasets")
        if not datasets.dataset_outlook(event=event)["ready"]:
            messages.error(request, _("No reading is ready for a release yet: nothing was made."))
            return again
        release = datasets.dataset_release_request(event=event)
        messages.success(
            request,
            _("Release %(version)d is being made: it appears below when it is ready.") % {"version": release.version},
        )
        return again
    releases = list(datasets.dataset_releases(event=event))
    for release in releases:
        release.voice = duration(release.counts.get("seconds"))  # type: ignore[attr-defined]
    return render(
        request,
        "gallery/curation/dataset.html",
        {
            "event": event,
            "releases": releases,
            "outlook": datasets.dataset_outlook(event=event),
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
@curator_required
def event_dataset(request, slug):
    """A festival's releases (its curators): download one, or make a new one of what is given now."""
    event = get_object_or_404(Event, slug=slug)
    require_curates(request, event.id)
    return _page(request, event=event)


@never_cache
@require_http_methods(["GET", "POST"])
@curator_required
def all_datasets(request):
    """Releases of every festival at once: superusers only (no curator curates them all)."""
    if not request.user.is_superuser:
        raise PermissionDenied
    return _page(request, event=None)


@never_cache
@require_GET
@curator_required
def dataset_download(request, release_id):
    """The release's zip, for the curators of its festival (a release of every festival: superusers)."""
    release = get_object_or_404(DatasetRelease.objects.select_related("event"), id=release_id)
    if not datasets.dataset_release_visible(release=release, user=request.user):
        raise PermissionDenied
    if release.status != DatasetRelease.Status.READY or not release.archive:
        raise Http404
    response = storage_file_response(request, release.archive.name, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{datasets.dataset_release_file_name(release)}"'
    return response
