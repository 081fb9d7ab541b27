"""Curators' pages for the festival as an event (issue 26): its programme (readings in the library's
reading rooms) and its curators' choice of films. Thin views over gallery.services; every one requires
a curator of that festival, as the other curation pages do."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from animation.models import Animation
from catalogue.models import Event
from catalogue.services import CurationError
from gallery import selectors, services
from gallery.curation.forms import FeaturedFilmForm, ProgrammeItemForm
from gallery.curation.views import curator_required, require_curates
from gallery.models import FeaturedFilm, ProgrammeItem


@curator_required
def programme(request, slug):
    """EVENT's programme, and a form for a new item."""
    event = get_object_or_404(Event, slug=slug)
    require_curates(request, event.id)
    form = ProgrammeItemForm(request.POST or None, event=event)
    if request.method == "POST" and form.is_valid():
        try:
            services.programme_item_create(event=event, **form.cleaned_data)
        except CurationError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Added to the programme."))
            return redirect("curation-programme", slug=event.slug)
    return render(
        request,
        "gallery/curation/programme.html",
        {"event": event, "form": form, "items": selectors.programme_items(event=event)},
    )


@curator_required
def programme_item(request, item_id):
    item = get_object_or_404(ProgrammeItem.objects.select_related("event"), id=item_id)
    require_curates(request, item.event_id)
    initial = {name: getattr(item, name) for name in services.PROGRAMME_FIELDS}
    initial |= {"paintings": list(item.paintings.all()), "passages": list(item.passages.all())}
    form = ProgrammeItemForm(request.POST or None, initial=initial, event=item.event)
    if request.method == "POST" and form.is_valid():
        try:
            services.programme_item_update(item=item, **form.cleaned_data)
        except CurationError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Programme item saved."))
            return redirect("curation-programme", slug=item.event.slug)
    return render(request, "gallery/curation/programme_item.html", {"event": item.event, "item": item, "form": form})


@curator_required
@require_POST
def programme_item_delete(request, item_id):
    item = get_object_or_404(ProgrammeItem.objects.select_related("event"), id=item_id)
    require_curates(request, item.event_id)
    services.programme_item_delete(item=item)
    messages.success(request, _("Taken off the programme."))
    return redirect("curation-programme", slug=item.event.slug)


@curator_required
def featured(request, slug):
    """EVENT's curators' choice in its order, and its other published films to add."""
    event = get_object_or_404(Event, slug=slug)
    require_curates(request, event.id)
    if request.method == "POST":
        animation = Animation.objects.filter(event=event, id=_uuid(request.POST.get("animation"))).first()
        form = FeaturedFilmForm(request.POST)
        if animation is None or not form.is_valid():
            messages.error(request, _("Choose one of this festival's published films."))
        else:
            try:
                services.featured_film_add(
                    event=event, animation=animation, featured_by=request.user, **form.cleaned_data
                )
            except CurationError as error:
                messages.error(request, error.message)
            else:
                messages.success(request, _("Added to the curators' choice."))
        return redirect("curation-featured", slug=event.slug)
    entries = list(selectors.curated_featured_films(event=event))
    for entry in entries:
        entry.form = FeaturedFilmForm(initial={"note": entry.note, "note_en": entry.note_en}, prefix=str(entry.id))
    return render(
        request,
        "gallery/curation/featured.html",
        {
            "event": event,
            "entries": entries,
            "films": selectors.featurable_films(event=event)[:60],
            "published": Animation.Status.PUBLISHED,
        },
    )


@curator_required
@require_POST
def featured_item(request, featured_id):
    """One entry of the selection: save its note, move it up or down, or take it out."""
    entry = get_object_or_404(FeaturedFilm.objects.select_related("event"), id=featured_id)
    require_curates(request, entry.event_id)
    action = request.POST.get("action")
    if action == "save":
        form = FeaturedFilmForm(request.POST, prefix=str(entry.id))
        if not form.is_valid():
            return HttpResponseBadRequest(_("The note could not be saved."))
        services.featured_film_update(entry=entry, **form.cleaned_data)
        messages.success(request, _("Note saved."))
    elif action in ("up", "down"):
        services.featured_film_move(entry=entry, offset=-1 if action == "up" else 1)
    elif action == "remove":
        services.featured_film_remove(entry=entry)
        messages.success(request, _("Taken out of the curators' choice."))
    else:
        return HttpResponseBadRequest(_("Unknown action."))
    return redirect("curation-featured", slug=entry.event.slug)


def _uuid(value):
    import uuid

    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None
