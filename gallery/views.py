"""Public pages: no login, only published animations."""

from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render

from gallery import events, selectors
from gallery.models import Event, Painting


def home(request):
    return render(request, "gallery/home.html", {"events": selectors.event_list()})


def event_detail(request, slug):
    event = get_object_or_404(Event, slug=slug)
    painting_id = request.GET.get("painting") or None
    language = request.GET.get("language") or None
    animations = selectors.published_animations(event=event, painting_id=painting_id, language=language)
    page = Paginator(animations, 24).get_page(request.GET.get("page"))
    return render(
        request,
        "gallery/event_detail.html",
        {
            "event": event,
            "page": page,
            "cards": [events.animation_card(animation) for animation in page.object_list],
            "paintings": selectors.painting_list(event=event),
            "in_progress": selectors.animations_in_progress_count(event_id=event.id),
            "selected_painting": painting_id,
            "selected_language": language,
        },
    )


def animation_detail(request, animation_id):
    animation = get_object_or_404(
        selectors.published_animations(), id=animation_id
    )
    return render(request, "gallery/animation_detail.html", {"animation": animation, "card": events.animation_card(animation)})


def painting_detail(request, painting_id):
    painting = get_object_or_404(Painting.objects.select_related("event"), id=painting_id)
    animations = selectors.published_animations(painting_id=painting.id)
    return render(
        request,
        "gallery/painting_detail.html",
        {"painting": painting, "cards": [events.animation_card(animation) for animation in animations]},
    )


def wall(request, slug):
    event = get_object_or_404(Event, slug=slug)
    latest = selectors.published_animations(event=event)[:20]
    return render(request, "gallery/wall.html", {"event": event, "cards": [events.animation_card(a) for a in latest]})
