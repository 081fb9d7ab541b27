"""Curator pages: thin views over gallery.services; every one requires the curators group and, for a
festival's pages, a curator of that festival (Event.curators), except the festival's dashboard, which
the festival's own moderators may read too (``organiser_required``)."""

from __future__ import annotations

import csv
import json
from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import time_format as format_time
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from catalogue import selectors as catalogue_selectors
from catalogue import services as catalogue_services
from catalogue.models import DialogueRole, Event, Figure, Painting, Passage
from core.media import storage_file_response
from gallery import dashboard as festival_dashboard
from gallery import selectors, services
from gallery.curation import dashboard_page
from gallery.curation.forms import (
    EventForm,
    FigureForm,
    PaintingForm,
    PaintingStoryForm,
    PassageForm,
    PreviewForm,
)
from gallery.models import PassagePreview


def curator_required(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not request.user.is_curator():
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def require_curates(request, event_id) -> None:
    """Refuse (403) a curator who does not curate the festival EVENT_ID: curators are per festival."""
    if not catalogue_selectors.event_curated_by(event_id=event_id, user=request.user):
        raise PermissionDenied


def with_the_editor(request, curators) -> list:
    """The festival's chosen curators, always with the curator saving the form (superusers excepted):
    nobody locks themselves out of the festival they are editing."""
    chosen = list(curators or [])
    if not request.user.is_superuser and request.user not in chosen:
        chosen.append(request.user)
    return chosen


def organiser_required(view):
    """The festival's organisers: its curators and the moderators of that festival
    (Event.moderators, as the moderation queue scopes them). The view gets the event instead of its slug."""

    @wraps(view)
    def wrapper(request, slug, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        event = get_object_or_404(Event, slug=slug)
        if not festival_dashboard.dashboard_visible(event=event, user=request.user):
            raise PermissionDenied
        return view(request, event, *args, **kwargs)

    return wrapper


@curator_required
def dashboard(request):
    return render(request, "gallery/curation/dashboard.html", {"events": selectors.curated_events(user=request.user)})


@curator_required
def event_new(request):
    form = EventForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        fields = form.cleaned_data | {"curators": with_the_editor(request, form.cleaned_data.get("curators"))}
        try:
            event = catalogue_services.event_create(**fields)
        except catalogue_services.CurationError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Festival created."))
            return redirect("curation-event", slug=event.slug)
    return render(request, "gallery/curation/event_form.html", {"form": form})


@curator_required
def event_edit(request, slug):
    event = get_object_or_404(Event, slug=slug)
    require_curates(request, event.id)
    form = EventForm(instance=event)
    painting_form = PaintingForm()
    if request.method == "POST" and request.POST.get("action") == "painting":
        painting_form = PaintingForm(request.POST, request.FILES)
        if painting_form.is_valid():
            try:
                painting = catalogue_services.painting_create(event=event, **painting_form.cleaned_data)
            except catalogue_services.CurationError as error:
                painting_form.add_error("image", error.message)
            else:
                messages.success(request, _("Painting uploaded: its faces are being looked for."))
                return redirect("curation-painting", painting_id=painting.id)
    elif request.method == "POST":
        form = EventForm(request.POST, instance=Event.objects.get(id=event.id))
        if form.is_valid():
            fields = form.cleaned_data | {"curators": with_the_editor(request, form.cleaned_data.get("curators"))}
            try:
                catalogue_services.event_update(event=event, **fields)
            except catalogue_services.CurationError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, _("Festival saved."))
                return redirect("curation-event", slug=event.slug)
    return render(
        request,
        "gallery/curation/event.html",
        {
            "event": event,
            "form": form,
            "painting_form": painting_form,
            "paintings": selectors.curated_paintings(event=event),
        },
    )


@curator_required
def painting_edit(request, painting_id):
    painting = get_object_or_404(Painting.objects.select_related("event"), id=painting_id)
    require_curates(request, painting.event_id)
    story_form = PaintingStoryForm(initial={field: getattr(painting, field) for field in PaintingStoryForm.base_fields})
    figures = catalogue_selectors.painting_figures(painting=painting)
    speakers = [figure for figure in figures if not figure.hidden]
    passage_form = PassageForm(figures=speakers)
    if request.method == "POST" and request.POST.get("action") == "story":
        story_form = PaintingStoryForm(request.POST)
        if story_form.is_valid():
            catalogue_services.painting_update(painting=painting, **story_form.cleaned_data)
            messages.success(request, _("Painting saved."))
            return redirect("curation-painting", painting_id=painting.id)
    elif request.method == "POST" and request.POST.get("action") == "passage":
        passage_form = PassageForm(request.POST, figures=speakers)
        if passage_form.is_valid():
            try:
                passage = catalogue_services.passage_create(painting=painting, **passage_form.cleaned_data)
            except catalogue_services.CurationError as error:
                passage_form.add_error(None, error.message)
            else:
                messages.success(request, _("Passage written. Make a test film before opening it."))
                return redirect("curation-passage", passage_id=passage.id)
    if any(not figure.thumbnail for figure in figures):
        catalogue_services.painting_request_figure_thumbnails(painting=painting)
    if not painting.tiles:
        catalogue_services.painting_request_tiles(painting=painting)  # the overview's deep zoom
    return render(
        request,
        "gallery/curation/painting.html",
        {
            "painting": painting,
            "figures": figures,
            "story_form": story_form,
            "passage_form": passage_form,
            "passages": selectors.curated_passages(painting=painting),
        },
    )


@curator_required
@require_POST
def figure_edit(request, figure_id):
    """Name a figure, hide it, or remove it (a hand-placed one; a corrected one goes back to detection)."""
    figure = get_object_or_404(Figure.objects.select_related("painting"), id=figure_id)
    require_curates(request, figure.painting.event_id)
    if request.POST.get("action") == "remove":
        catalogue_services.figure_remove(figure=figure)
        messages.success(request, _("Figure removed; its passages are closed until a new test film."))
        return redirect("curation-painting", painting_id=figure.painting_id)
    form = FigureForm(request.POST)
    if form.is_valid():
        try:
            catalogue_services.figure_update(figure=figure, **form.cleaned_data)
        except catalogue_services.CurationError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Figure saved."))
    else:
        messages.error(request, _("The figure's name is too long."))
    return redirect(f"{reverse('curation-painting', args=[figure.painting_id])}#figure-{figure.id}")


@curator_required
@require_POST
def painting_detect(request, painting_id):
    painting = get_object_or_404(Painting, id=painting_id)
    require_curates(request, painting.event_id)
    catalogue_services.painting_detect_faces_again(painting=painting)
    messages.success(request, _("The faces are being looked for again."))
    return redirect("curation-painting", painting_id=painting.id)


@curator_required
def landmarks_editor(request, painting_id):
    """GET: the editor page, for figure ?figure=<id> or for a new figure. POST (JSON from the editor):
    save the key points on that figure, or as a new one."""
    painting = get_object_or_404(Painting, id=painting_id)
    require_curates(request, painting.event_id)
    if request.method == "POST":
        try:
            payload = json.loads(request.body or b"{}")
        except ValueError:
            return JsonResponse({"error": _("The editor sent something that is not JSON.")}, status=400)
        if not isinstance(payload, dict):
            return JsonResponse({"error": _("The editor sent something that is not JSON.")}, status=400)
        try:
            figure = catalogue_services.figure_save_landmarks(
                painting=painting, landmarks=payload.get("landmarks", payload), figure_id=payload.get("figure")
            )
        except catalogue_services.CurationError as error:
            return JsonResponse({"error": error.message}, status=400)
        return JsonResponse({"saved": True, "figure": str(figure.id), "face_status": painting.face_status})
    figures = catalogue_selectors.painting_figures(painting=painting)
    figure = next((f for f in figures if str(f.id) == request.GET.get("figure", "")), None)
    # A new figure (a face detection missed) starts from a plain face, to drag or fit where the face is.
    start = (
        figure.face if figure else catalogue_services.landmarks_template(width=painting.width, height=painting.height)
    )
    return render(
        request,
        "gallery/curation/landmarks.html",
        {
            "painting": painting,
            "figure": figure,
            "start": {"landmarks": start["landmarks"]},
            "editor_text": editor_text(),
        },
    )


def editor_text() -> dict:
    """Words the landmark editor's script shows and reads out, in the page's language."""
    return {
        "point": _("%(group)s, point %(number)s"),
        "saved": _("Saved: these key points are used from now on."),
        "fitting": _("Fitting the key points to the face…"),
        "fitted": _("Key points fitted: check them, move any that are off, then save."),
        "failed": _("Not saved: %(reason)s"),
        "groups": {
            "left_eye": _("left eye"),
            "right_eye": _("right eye"),
            "left_iris": _("left iris"),
            "right_iris": _("right iris"),
            "left_brow": _("left eyebrow"),
            "right_brow": _("right eyebrow"),
            "mouth_outer": _("lips, outer edge"),
            "mouth_inner": _("lips, inner edge"),
            "nose_tip": _("tip of the nose"),
            "nose_bridge": _("bridge of the nose"),
            "nose_base": _("base of the nose"),
            "jaw": _("jaw"),
            "face_oval": _("outline of the face"),
        },
    }


@curator_required
@require_POST
def landmarks_fit(request, painting_id):
    """Two clicks: JSON {"box": [x, y, w, h]} or {"centre": [x, y]} -> key points fitted there (not saved)."""
    painting = get_object_or_404(Painting, id=painting_id)
    require_curates(request, painting.event_id)
    try:
        payload = json.loads(request.body or b"{}")
    except ValueError:
        return JsonResponse({"error": _("The editor sent something that is not JSON.")}, status=400)
    if not isinstance(payload, dict):
        return JsonResponse({"error": _("The editor sent something that is not JSON.")}, status=400)
    try:
        fitted = catalogue_services.landmarks_fit(
            painting=painting, box=payload.get("box"), centre=payload.get("centre")
        )
    except catalogue_services.CurationError as error:
        return JsonResponse({"error": error.message}, status=400)
    return JsonResponse(fitted)


@curator_required
def passage_edit(request, passage_id):
    passage = get_object_or_404(Passage.objects.select_related("painting__event"), id=passage_id)
    require_curates(request, passage.event_id)
    painting = passage.painting
    initial = {name: getattr(passage, name) for name in PassageForm.base_fields if name != "figure"}
    initial["figure"] = str(passage.figure_id or "")
    speakers = catalogue_selectors.painting_figures(painting=painting, visible_only=True)
    form = PassageForm(initial=initial, figures=speakers)
    preview_form = PreviewForm()
    if request.method == "POST" and request.POST.get("action") == "cast":
        role = get_object_or_404(DialogueRole, id=request.POST.get("role"), passage=passage)
        figure = next((f for f in speakers if str(f.id) == request.POST.get("figure")), None)
        try:
            catalogue_services.dialogue_role_cast(role=role, figure=figure, name_en=request.POST.get("name_en"))
        except catalogue_services.CurationError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Role cast. Make a test film before opening the dialogue."))
        return redirect("curation-passage", passage_id=passage.id)
    if request.method == "POST" and request.POST.get("action") == "preview":
        preview_form = PreviewForm(request.POST, request.FILES)
        if preview_form.is_valid():
            try:
                services.passage_preview_request(
                    passage=passage, sample_voice=preview_form.cleaned_data["sample_voice"], requested_by=request.user
                )
            except catalogue_services.CurationError as error:
                preview_form.add_error("sample_voice", error.message)
            else:
                messages.success(request, _("The test film is being made; this page shows it as soon as it is ready."))
                return redirect("curation-passage", passage_id=passage.id)
    elif request.method == "POST":
        form = PassageForm(request.POST, figures=speakers)
        if form.is_valid():
            try:
                catalogue_services.passage_update(passage=passage, **form.cleaned_data)
            except catalogue_services.CurationError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, _("Passage saved."))
                return redirect("curation-passage", passage_id=passage.id)
    return render(
        request,
        "gallery/curation/passage.html",
        {
            "passage": passage,
            "painting": painting,
            "form": form,
            "preview_form": preview_form,
            "preview": selectors.latest_preview(passage=passage),
            "speakers": speakers,
            "framing": catalogue_selectors.passage_framing(passage=passage)
            if passage.kind != Passage.Kind.DIALOGUE
            else None,
            "roles": passage.roles.select_related("figure") if passage.kind == Passage.Kind.DIALOGUE else [],
        },
    )


@curator_required
@require_POST
def passage_set_open(request, passage_id):
    passage = get_object_or_404(Passage, id=passage_id)
    require_curates(request, passage.event_id)
    if request.POST.get("open") == "1":
        try:
            services.passage_open(passage=passage)
        except catalogue_services.CurationError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("The passage is open for recordings."))
    else:
        services.passage_close(passage=passage)
        messages.success(request, _("The passage is closed for recordings."))
    return redirect("curation-passage", passage_id=passage.id)


@curator_required
def preview_file(request, preview_id, kind):
    """Test films are not public: they are served through this view, to the festival's curators only,
    by byte ranges (a phone's player asks for them) and streamed (never read whole under Daphne)."""
    preview = get_object_or_404(PassagePreview.objects.select_related("passage"), id=preview_id)
    require_curates(request, preview.passage.event_id)
    field = {"video": preview.video, "poster": preview.poster, "subtitles": preview.subtitles}.get(kind)
    if not field:
        raise Http404
    return storage_file_response(request, field.name, storage=field.storage)


# ---------------------------------------------------------------------------------------------------
# The festival's dashboard (organisers: curators and the festival's moderators)


def _dashboard_context(request, event) -> dict:
    now = timezone.now()
    figures = festival_dashboard.event_figures(event=event, now=now)
    return {
        "event": event,
        "figures": figures,
        "shown": dashboard_page.page(figures),
        "updated": timezone.localtime(now),
        "is_curator": catalogue_selectors.event_curated_by(event_id=event.id, user=request.user),
    }


@require_GET
@never_cache
@organiser_required
def event_dashboard(request, event):
    return render(request, "gallery/curation/event_dashboard.html", _dashboard_context(request, event))


@require_GET
@never_cache
@organiser_required
def event_dashboard_data(request, event):
    """The page's figures as JSON, polled by the page: the numbers, and the figures' part of the page
    drawn by the same template, so what refreshes is exactly what a reload would show."""
    context = _dashboard_context(request, event)
    html = render_to_string("gallery/curation/_event_dashboard_figures.html", context, request=request)
    updated = format_time(context["updated"], "H:i:s")
    return JsonResponse({"figures": context["figures"], "updated": updated, "html": html})


def spreadsheet_safe(value: str) -> str:
    """VALUE, with a leading quote when a spreadsheet would read it as a formula (titles are typed by people)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


@require_GET
@never_cache
@organiser_required
def event_dashboard_csv(request, event):
    """One row per reading: its status, reason, duration and times, passage and painting. Nobody's name,
    e-mail or account is in it. A byte-order mark first, so that spreadsheets read the Chinese right."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{event.slug}-readings.csv"'
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow(festival_dashboard.CSV_HEADER)
    for row in festival_dashboard.event_reading_rows(event=event):
        writer.writerow([spreadsheet_safe(value) for value in row])
    return response
