"""{% painting_image %}: a painting as an <img> that lets the browser pick the smallest copy it needs."""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from core.media import served_name_url, served_prefix_url, served_url

register = template.Library()


@register.simple_tag
def painting_image(painting, sizes: str = "", *, alt: str | None = None, css_class: str = "", lazy: bool = True,
                   priority: bool = False, fallback_width: int = 480, box: str = "",
                   strip_height: int = 0, strip_max_width: int = 600):  # fmt: skip
    """PAINTING as <img src srcset sizes>: SIZES says how wide it is drawn (the CSS `sizes` syntax).

    The smaller copies (Painting.renditions) and the original make the srcset; src is the first copy at
    least FALLBACK_WIDTH wide, else the original. width and height are the original's (or BOX, "WxH",
    for a fixed thumbnail), so the page keeps the proportions before it loads. STRIP_HEIGHT: drawn at
    that height and its own proportions (at most STRIP_MAX_WIDTH wide), which gives SIZES. A painting
    without copies yet shows its original.
    """
    if strip_height and painting.width and painting.height:
        drawn = min(strip_max_width, round(strip_height * painting.width / painting.height))
        sizes = f"{drawn}px"
        fallback_width = drawn
    original = served_url(painting.image)
    candidates = [(served_name_url(copy["name"]), copy["width"]) for copy in painting.renditions or []]
    if painting.width:
        candidates.append((original, painting.width))
    fallback = next((url for url, width in candidates if width >= fallback_width), original)
    srcset = ", ".join(f"{url} {width}w" for url, width in candidates)
    width, height = (int(side) for side in box.split("x")) if box else (painting.width or 512, painting.height or 512)
    return format_html(
        '<img src="{}"{} sizes="{}" alt="{}"{} width="{}" height="{}"{}{}>',
        fallback,
        format_html(' srcset="{}"', srcset) if len(candidates) > 1 else "",
        sizes,
        painting.title if alt is None else alt,
        format_html(' class="{}"', css_class) if css_class else "",
        width,
        height,
        mark_safe(' loading="lazy"') if lazy and not priority else "",
        mark_safe(' fetchpriority="high"') if priority else "",
    )


@register.filter
def media_name_url(name: str) -> str:
    """The address of a stored file no model field holds (a figure's crop, a painting's copy)."""
    return served_name_url(name)


@register.filter
def painting_tiles_url(painting) -> str:
    """The address of the folder of PAINTING's deep-zoom tiles (<level>/<column>_<row>.jpg below it):
    the media folder itself where it is served as one (Django's /media/, a web server's), else the
    platform's tile route, which sends each tile on to its own presigned URL (gallery.media_views)."""
    tiles = painting.tiles or {}
    prefix = tiles.get("prefix", "")
    if not prefix:
        return ""
    served = served_prefix_url(prefix)
    if served:
        return served
    # The route's address of the first tile, less its "<level>/<column>_<row>.<format>".
    first = reverse(
        "painting-tile",
        kwargs={
            "painting_id": painting.id,
            "folder": prefix.rsplit("/", 1)[-1],
            "level": 0,
            "column": 0,
            "row": 0,
            "extension": tiles.get("format", "jpg"),
        },
    )
    return first.rsplit("/", 2)[0]
