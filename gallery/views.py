"""Public pages: no login, only published animations (the selectors never return anything else)."""

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from animation import selectors as animation_selectors
from catalogue.models import Event, Painting
from core.query_params import uuid_param
from gallery import events, selectors
from gallery.page_cache import cached_public_page

# The front page's "Newest films": two rows on a laptop, four on a phone.
HOME_NEWEST_COUNT = 8


@cached_public_page
def home(request):
    """The front door: the festival's paintings and newest films first, one way to take part."""
    event = selectors.featured_event()
    context = {"events": selectors.event_list().order_by("-starts_on", "title"), "event": event}
    if event is not None:
        context.update(
            paintings=selectors.painting_list(event=event),
            cards=[
                events.animation_card(animation)
                for animation in selectors.published_animations(event=event)[:HOME_NEWEST_COUNT]
            ],
            newest_count=HOME_NEWEST_COUNT,
            live_text=live_text(),
            voices=selectors.event_voices_count(event=event),
        )
    return render(request, "gallery/home.html", context)


@cached_public_page
def event_detail(request, slug):
    event = get_object_or_404(Event, slug=slug)
    painting_id = uuid_param(request.GET, "painting") or ""
    language = request.GET.get("language") or ""
    animations = selectors.published_animations(event=event, painting_id=painting_id, language=language)
    page = Paginator(animations, selectors.PAGE_SIZE).get_page(request.GET.get("page"))
    # Page links keep the filters; the page number is added by the template.
    filter_query = "&".join(
        f"{key}={value}" for key, value in (("painting", painting_id), ("language", language)) if value
    )
    return render(
        request,
        "gallery/event_detail.html",
        {
            "event": event,
            "page": page,
            "cards": [events.animation_card(animation) for animation in page.object_list],
            "paintings": selectors.painting_list(event=event),
            "passage_languages": selectors.event_languages(event=event),
            "in_progress": animation_selectors.animations_in_progress_count(event_id=event.id),
            "selected_painting": painting_id,
            "selected_language": language,
            "filter_query": filter_query,
            "live_text": live_text(),
        },
    )


def live_text() -> dict:
    """Sentences the scripts put together for new cards and screen readers, in the page's language."""
    return {
        "read_by": _("read by %(reader)s"),
        "published": _("New animation: %(title)s"),
        "removed": _("An animation was removed."),
    }


@cached_public_page
def animation_detail(request, animation_id):
    animation = selectors.published_animation(animation_id=animation_id)
    if animation is None:
        gone = selectors.withdrawn_animation(animation_id=animation_id)
        if gone is None:
            raise Http404
        return render(request, "gallery/animation_gone.html", {"event": gone.event}, status=410)
    newer, older = selectors.animation_neighbours(animation=animation)
    passage = animation.recording.passage
    dialogue = passage.kind == passage.Kind.DIALOGUE
    # A dialogue's text is its lines, each with its role; the film's own subtitles say who speaks when.
    alignment = None if dialogue else selectors.animation_alignment(animation=animation)
    return render(
        request,
        "gallery/animation_detail.html",
        {
            "animation": animation,
            "card": events.animation_card(animation),
            "passage": animation.recording.passage,
            "painting": animation.recording.passage.painting,
            "units": alignment.units if alignment else [],
            "lines": passage.lines.select_related("role") if dialogue else [],
            "newer": newer,
            "older": older,
            "share_url": request.build_absolute_uri(),
        },
    )


@cached_public_page
def painting_detail(request, painting_id):
    painting = get_object_or_404(Painting.objects.select_related("event"), id=painting_id)
    animations = selectors.published_animations(painting_id=painting.id)
    handscroll = selectors.painting_is_handscroll(painting=painting)
    guide = selectors.painting_figure_guide(painting=painting) if handscroll else []
    return render(
        request,
        "gallery/painting_detail.html",
        {
            "painting": painting,
            # The faces found are the curator's working material (curation pages), not the public's; a
            # handscroll marks its speaking figures, numbered, with what each of them says.
            "cards": [events.animation_card(animation) for animation in animations],
            "handscroll": handscroll,
            "guide": guide,
            "guide_figures": [entry["figure"] for entry in guide],
        },
    )


def wall(request, slug):
    event = get_object_or_404(Event, slug=slug)
    latest = selectors.published_animations(event=event)[: selectors.PAGE_SIZE]
    record_url = request.build_absolute_uri(reverse("passages"))
    return render(
        request,
        "gallery/wall.html",
        {
            "event": event,
            "cards": [events.animation_card(a) for a in latest],
            "live_text": live_text(),
            "record_url": record_url,
            "record_qr": qr_svg(record_url),
        },
    )


def qr_svg(url: str) -> str:
    """URL as a QR code in inline SVG (drawn on the server: no script, no image request)."""
    import io

    import segno

    buffer = io.BytesIO()
    segno.make(url, error="m").save(
        buffer, kind="svg", xmldecl=False, svgns=True, nl=False, border=2, dark="#000", light="#fff",
        omitsize=True, title=url,
    )  # fmt: skip
    return mark_safe(buffer.getvalue().decode())  # noqa: S308 (segno writes the SVG; the URL is escaped in its title)
