"""Public pages of the festival as an event (issue 26): its programme, and calendar files of it."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from catalogue.models import Event
from catalogue.templatetags.bilingual import in_language
from gallery import calendar, selectors
from gallery.models import ProgrammeItem
from gallery.page_cache import cached_public_page


@cached_public_page
def programme(request, slug):
    event = get_object_or_404(Event, slug=slug)
    return render(
        request,
        "gallery/programme.html",
        {"event": event, "sections": selectors.programme_sections(event=event)},
    )


def _calendar_response(request, items, *, name: str, filename: str) -> HttpResponse:
    def url_of(item) -> str:
        return request.build_absolute_uri(reverse("event-programme", args=[item.event.slug]) + f"#item-{item.id}")

    body = calendar.programme_calendar(
        items, name=name, texts=in_language, url_of=url_of, host=request.get_host().split(":")[0]
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def programme_calendar(request, slug):
    """The whole programme, for a calendar app (in the visitor's language)."""
    event = get_object_or_404(Event, slug=slug)
    items = selectors.programme_items(event=event).select_related("event")
    return _calendar_response(request, items, name=in_language(event, "title"), filename=f"{event.slug}.ics")


def programme_item_calendar(request, item_id):
    item = get_object_or_404(ProgrammeItem.objects.select_related("event"), id=item_id)
    return _calendar_response(
        request, [item], name=in_language(item.event, "title"), filename=f"{item.event.slug}-{item.id}.ics"
    )
