"""Deep zoom in Chromium (issues 22 and 26): a long handscroll on its public page and on the curator's
painting page, browsed from its tiles at a phone's (390 px), a laptop's (1366) and a desktop's (1920)
width, its figures marked on them."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from catalogue import selectors as catalogue_selectors
from catalogue import services as catalogue_services
from catalogue.models import Passage

# Screenshots to look at after a run (the system's temporary folder).
SHOTS = Path(tempfile.gettempdir())
WIDTH, HEIGHT, FACE = 12_000, 1_200, 150
# Where the figures stand, and the colour each is painted in (a face box's centre shows its colour).
FIGURES = [
    (800, (220, 30, 30)),
    (3_200, (30, 160, 40)),
    (6_200, (40, 60, 220)),
    (9_000, (200, 40, 200)),
    (11_300, (20, 170, 190)),
]


def painted_scroll(path) -> None:
    """A beige scroll with a gentle texture and a coloured square where each figure's face is."""
    x = np.linspace(0, 24 * np.pi, WIDTH // 10, dtype=np.float32)[None, :]
    y = np.linspace(0, 3 * np.pi, HEIGHT // 10, dtype=np.float32)[:, None]
    texture = (10 * np.sin(x) * np.cos(y)).astype(np.float32)
    small = np.stack([225 + texture, 212 + texture, 190 + texture], axis=-1).clip(0, 255).astype(np.uint8)
    image = Image.fromarray(small, "RGB").resize((WIDTH, HEIGHT), Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(image)
    for left, colour in FIGURES:
        draw.rectangle((left, 500, left + FACE - 1, 500 + FACE - 1), fill=colour)
    image.save(path, "JPEG", quality=90)


def face_at(x: float, y: float, size: float) -> dict:
    template = catalogue_services.landmarks_template(width=1000, height=1000)["landmarks"]
    scale = size / 300.0
    landmarks = {
        name: [[x + size / 2 + (px - 500) * scale, y + size / 2 + (py - 500) * scale] for px, py in points]
        for name, points in template.items()
    }
    return {"box": [x, y, size, size], "score": 0.9, "landmarks": landmarks}


def view_of(page, selector: str) -> tuple[float, float, float, int]:
    x, y, scale, level = page.get_attribute(selector, "data-view").split(",")
    return float(x), float(y), float(scale), int(level)


def wait_for_tiles(page, selector: str) -> None:
    """Until every tile the viewer wants at its level is drawn."""
    page.wait_for_function(
        """(selector) => { const root = document.querySelector(selector);
             const tiles = root.querySelectorAll('.deep-zoom-tile.is-current');
             return root.dataset.view && tiles.length > 0
                    && [...tiles].every(t => t.complete && t.naturalWidth > 0); }""",
        arg=selector,
        timeout=10_000,
    )


def tile_requests(page) -> list[str]:
    return page.evaluate(
        "() => performance.getEntriesByType('resource').map(e => e.name).filter(n => n.includes('/tiles/'))"
    )


def colour_at(page, x: float, y: float) -> tuple[int, int, int]:
    shot = page.screenshot(clip={"x": x - 3, "y": y - 3, "width": 6, "height": 6})
    pixels = np.asarray(Image.open(io.BytesIO(shot)).convert("RGB"), dtype=float).reshape(-1, 3)
    return tuple(int(value) for value in pixels.mean(axis=0))


def marks_on_their_figures(page, selector: str, mark_prefix: str, figures) -> int:
    """Each mark in view is drawn on its figure: where the viewer's view puts the face, and the painting's
    pixels under its centre are that figure's colour. Returns how many marks were in view."""
    root = page.locator(selector).bounding_box()
    x0, y0, scale, _level = view_of(page, selector)
    seen = 0
    for figure, (_left, colour) in zip(figures, FIGURES, strict=True):
        box = page.locator(f"#{mark_prefix}{figure.id}").bounding_box()
        centre = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        fx, fy, fw, fh = figure.box
        expected = (root["x"] + (fx + fw / 2 - x0) * scale, root["y"] + (fy + fh / 2 - y0) * scale)
        assert abs(centre[0] - expected[0]) < 2 and abs(centre[1] - expected[1]) < 2, (figure.number, centre, expected)
        assert box["width"] == pytest.approx(fw * scale, abs=2)
        inside = root["x"] + 5 < centre[0] < root["x"] + root["width"] - 5
        if inside and root["y"] + 5 < centre[1] < root["y"] + root["height"] - 5:
            seen += 1
            drawn = colour_at(page, *centre)
            assert max(abs(a - b) for a, b in zip(drawn, colour, strict=True)) < 40, (figure.number, drawn, colour)
    return seen


def no_page_overflow(page) -> int:
    from testkit.browser import horizontal_overflow

    assert page.evaluate("() => document.scrollingElement.scrollWidth - window.innerWidth") <= 0
    return horizontal_overflow(page)


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.parametrize("size", ["laptop", "phone", "desktop"])
@pytest.mark.django_db(transaction=True)
def test_a_handscroll_is_browsed_from_its_tiles_with_its_figures_marked(
    size, asgi_live_server, festival, groups, chromium_path, tmp_path
):
    from django.core.files import File

    from accounts.models import User
    from catalogue import tasks as catalogue_tasks
    from testkit.browser import LAPTOP, PHONE, WALL_HD, chromium, log_in, show_figure_from_its_thumb

    painting = festival["painting"]
    path = tmp_path / "scroll.jpg"
    painted_scroll(path)
    with path.open("rb") as handle:
        painting.image.save("scroll.jpg", File(handle), save=True)
    catalogue_services.painting_record_faces(
        painting_id=painting.id, faces=[face_at(left, 500, FACE) for left, _colour in FIGURES]
    )
    catalogue_tasks.painting_make_tiles(str(painting.id))
    catalogue_services.painting_make_renditions(painting_id=painting.id)
    figures = catalogue_selectors.painting_figures(painting=painting)
    second = figures[1]
    catalogue_services.figure_update(figure=second, name="韩熙载", name_en="Han Xizai")
    Passage.objects.filter(id=festival["chinese"].id).update(figure=second, is_open=True)
    painting.refresh_from_db()
    level_tiles = {level["level"]: level["columns"] * level["rows"] for level in painting.tiles["levels"]}

    curator = User.objects.create_user("curator", password="curator-pass-1")
    curator.groups.add(groups["curators"])
    festival["event"].curators.add(curator)
    viewport = {"laptop": LAPTOP, "phone": PHONE, "desktop": WALL_HD}[size]
    with chromium(chromium_path) as browser:
        page = browser.new_page(**viewport)
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        # The public page: the scroll shown as a scroll, from a few tiles, never a large copy.
        page.goto(f"{asgi_live_server.url}/paintings/{painting.id}/")
        wait_for_tiles(page, "#handscroll")
        page.screenshot(path=SHOTS / f"deep_zoom_public_first_{size}.png")
        assert no_page_overflow(page) == 0
        drawn = page.locator("#handscroll").bounding_box()
        assert drawn["width"] <= viewport["viewport"]["width"] and drawn["height"] >= 240
        assert drawn["width"] > drawn["height"]  # a scroll is seen as a scroll, wider than tall, on a phone too
        x, _y, scale, level = view_of(page, "#handscroll")
        assert scale == pytest.approx(drawn["height"] / HEIGHT, rel=0.02)  # the scroll's whole height
        requested = tile_requests(page)
        assert 1 < len(requested) <= 40 and len(requested) < level_tiles[level] / 2, (len(requested), level)
        big = page.evaluate(
            """() => performance.getEntriesByType('resource').map(e => e.name)
                       .filter(n => n.includes('/media/paintings/') && !n.includes('/tiles/'))"""
        )
        assert big == [], big
        assert marks_on_their_figures(page, "#handscroll", "mark-", figures) >= 1
        assert "韩熙载" in page.get_attribute(f"#mark-{second.id}", "aria-label")
        assert page.locator(".face-box").count() == 0  # numbered figures, not the curator's detection boxes
        # Along the scroll: the keyboard to its end, where the last figure is.
        page.focus("#handscroll")
        page.keyboard.press("End")
        page.wait_for_function(
            "(x) => +document.querySelector('#handscroll').dataset.view.split(',')[0] > x + 1000", arg=x
        )
        page.wait_for_timeout(400)  # the move eases in over 300 ms
        wait_for_tiles(page, "#handscroll")
        x, _y, scale, level = view_of(page, "#handscroll")
        inner = page.eval_on_selector("#handscroll", "root => root.clientWidth")  # within its border
        assert x + inner / scale == pytest.approx(WIDTH, abs=2)
        assert marks_on_their_figures(page, "#handscroll", "mark-", figures) >= 1
        assert len(tile_requests(page)) > len(requested)
        # A drag back to the left.
        page.mouse.move(drawn["x"] + drawn["width"] * 0.2, drawn["y"] + drawn["height"] / 2)
        page.mouse.down()
        page.mouse.move(drawn["x"] + drawn["width"] * 0.8, drawn["y"] + drawn["height"] / 2, steps=8)
        page.mouse.up()
        dragged, _y, _scale, _level = view_of(page, "#handscroll")
        assert x - dragged == pytest.approx(drawn["width"] * 0.6 / scale, rel=0.1)
        # Read right to left, as a handscroll is unrolled: the beginning is its right end.
        page.click("[data-deep-zoom-for=handscroll] [data-deep-zoom-action=direction]")
        page.wait_for_function(
            "(s) => +document.querySelector('#handscroll').dataset.view.split(',')[0] > s - 2",
            arg=WIDTH - inner / scale,
        )
        assert page.get_attribute("[data-deep-zoom-action=direction]", "aria-pressed") == "true"
        page.click("[data-deep-zoom-for=handscroll] [data-deep-zoom-action=start]")
        page.wait_for_timeout(400)
        assert view_of(page, "#handscroll")[0] == pytest.approx(WIDTH - inner / scale, abs=2)
        page.click("[data-deep-zoom-for=handscroll] [data-deep-zoom-action=direction]")  # back to left to right
        # The strip of the whole scroll under the view: a click in its middle goes to the scroll's middle.
        strip = page.locator("#handscroll + .deep-zoom-map").bounding_box()
        assert strip["width"] == pytest.approx(min(inner, 90 * WIDTH / HEIGHT), abs=3)  # at most 90 px tall
        assert strip["height"] == pytest.approx(strip["width"] * HEIGHT / WIDTH, abs=2)
        page.mouse.click(strip["x"] + strip["width"] / 2, strip["y"] + strip["height"] / 2)
        page.wait_for_function(
            "(s) => { const v = document.querySelector('#handscroll').dataset.view.split(',');"
            "         return Math.abs(+v[0] + s - 6000) < 60; }",
            arg=inner / 2 / scale,
        )
        # The wheel moves along the scroll.
        page.mouse.move(drawn["x"] + drawn["width"] / 2, drawn["y"] + drawn["height"] / 2)
        before, _y, _scale, _level = view_of(page, "#handscroll")
        page.mouse.wheel(0, 300)
        page.wait_for_function(
            "(x) => +document.querySelector('#handscroll').dataset.view.split(',')[0] > x + 100", arg=before
        )
        # Zoomed in twice: the view is four times larger, drawn from tiles sharp enough for it.
        page.click("[data-deep-zoom-for=handscroll] [data-deep-zoom-action=in]")
        page.click("[data-deep-zoom-for=handscroll] [data-deep-zoom-action=in]")
        page.wait_for_function(  # drawn on the next frame
            "(s) => Math.abs(document.querySelector('#handscroll').dataset.view.split(',')[2] - s) < 0.01 * s",
            arg=4 * scale,
        )
        wait_for_tiles(page, "#handscroll")
        _x, _y, zoomed, level = view_of(page, "#handscroll")
        assert zoomed == pytest.approx(4 * scale, rel=0.01)
        density = 2 ** (len(level_tiles) - 1 - level)  # painting pixels per pixel of the level drawn
        assert 1 / density >= min(1.0, zoomed * viewport.get("device_scale_factor", 1)) - 1e-6
        assert marks_on_their_figures(page, "#handscroll", "mark-", figures) >= 0
        # The guide names who speaks, with the passage to read; its number shows the figure on the scroll.
        guide = page.locator(f"#guide-{second.id}")
        assert "韩熙载" in guide.inner_text() and festival["chinese"].title in guide.inner_text()
        page.click("[data-deep-zoom-for=handscroll] [data-deep-zoom-action=fit]")
        guide.locator("a.figure-number").click()
        page.wait_for_timeout(500)
        root = page.locator("#handscroll").bounding_box()
        mark = page.locator(f"#mark-{second.id}").bounding_box()
        assert root["x"] <= mark["x"] and mark["x"] + mark["width"] <= root["x"] + root["width"]
        # Reached with the keyboard (Tab), a figure out of view is brought into it.
        third = figures[2]
        page.focus(f"#mark-{third.id}")
        page.wait_for_function(
            """(id) => { const mark = document.getElementById('mark-' + id).getBoundingClientRect();
                         const frame = document.getElementById('handscroll').getBoundingClientRect();
                         return mark.left >= frame.left && mark.right <= frame.right; }""",
            arg=str(third.id),
            timeout=5_000,
        )
        assert no_page_overflow(page) == 0
        page.screenshot(path=SHOTS / f"deep_zoom_public_{size}.png", full_page=True)

        # The festival's page shows the scroll as a strip, not a square cut out of it.
        page.goto(f"{asgi_live_server.url}/events/{festival['event'].slug}/")
        strip = page.locator(f".painting-strip a[href='/paintings/{painting.id}/'] img").bounding_box()
        assert strip["width"] >= 4 * strip["height"], strip
        assert no_page_overflow(page) == 0
        page.screenshot(path=SHOTS / f"deep_zoom_event_{size}.png")

        # The curator's page: the same viewer, boxes on the faces, the strip bringing a face into view.
        log_in(page, asgi_live_server.url, username="curator", password="curator-pass-1", next_path="/curation/")
        page.goto(f"{asgi_live_server.url}/curation/paintings/{painting.id}/")
        wait_for_tiles(page, "#painting-overview")
        assert no_page_overflow(page) == 0
        assert marks_on_their_figures(page, "#painting-overview", "box-", figures) >= 1
        labels = page.eval_on_selector_all(
            "#painting-overview .face-box span",
            "spans => spans.map(s => [+s.textContent, s.getBoundingClientRect().x])",
        )
        assert [label[0] for label in sorted(labels, key=lambda label: label[1])] == list(range(1, len(figures) + 1))
        last = figures[-1]
        show_figure_from_its_thumb(page, last.id)
        page.wait_for_timeout(400)
        wait_for_tiles(page, "#painting-overview")
        assert marks_on_their_figures(page, "#painting-overview", "box-", figures) >= 1
        # A box on the painting shows its card, ready to be named.
        page.locator(f"#box-{last.id}").click()
        page.wait_for_function(
            "(id) => document.activeElement === document.querySelector('#figure-' + id + ' input[name=name]')",
            arg=str(last.id),
        )
        page.locator("#painting-overview").scroll_into_view_if_needed()
        page.screenshot(path=SHOTS / f"deep_zoom_curation_{size}.png", full_page=True)
        assert errors == []
