"""A curator waiting for face detection sees the result without pressing reload."""

from __future__ import annotations

import pytest

from catalogue.models import Painting
from testkit.browser import chromium, log_in


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_painting_page_updates_itself_when_face_detection_finishes(
    asgi_live_server, festival, groups, chromium_path
):
    from accounts.models import User
    from catalogue.tasks import painting_detect_faces

    curator = User.objects.create_user("curator", password="curator-pass-1")
    curator.groups.add(groups["curators"])
    festival["event"].curators.add(curator)
    painting = festival["painting"]
    Painting.objects.filter(id=painting.id).update(face_status=Painting.FaceStatus.PENDING, faces=[])
    with chromium(chromium_path) as browser:
        page = browser.new_page()
        log_in(page, asgi_live_server.url, username="curator", password="curator-pass-1", next_path="/curation/")
        page.goto(f"{asgi_live_server.url}/curation/paintings/{painting.id}/")
        assert page.locator("#face-status").get_attribute("data-status") == "pending"
        painting_detect_faces(str(painting.id))  # the worker's task, run here: real mediapipe
        page.wait_for_function(
            "() => document.getElementById('face-status').dataset.status === 'found'", timeout=15_000
        )
        assert "1 figure, numbered in reading order." in page.content()
        # The new figure's face is in the strip (its crop made after detection) and on the painting.
        page.wait_for_selector("#figure-strip .figure-card", timeout=5_000)
        assert page.locator("#painting-overview .face-box").count() == 1


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_curator_drags_a_key_point_and_the_saved_points_override_detection(
    asgi_live_server, festival, groups, chromium_path
):
    from accounts.models import User
    from catalogue.tasks import painting_detect_faces

    curator = User.objects.create_user("curator", password="curator-pass-1")
    curator.groups.add(groups["curators"])
    festival["event"].curators.add(curator)
    painting = festival["painting"]
    painting_detect_faces(str(painting.id))
    painting.refresh_from_db()
    chin_before = painting.faces[0]["landmarks"]["jaw"]
    figure = painting.figures.get()
    with chromium(chromium_path) as browser:
        page = browser.new_page(viewport={"width": 1200, "height": 1000})
        log_in(page, asgi_live_server.url, username="curator", password="curator-pass-1", next_path="/curation/")
        page.goto(f"{asgi_live_server.url}/curation/paintings/{painting.id}/landmarks/?figure={figure.id}")
        handle = page.locator('circle[data-group="jaw"]').nth(len(chin_before) // 2)
        box = handle.bounding_box()
        start = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        # Groups share points (the jaw's chin is also the face oval's): drag whichever is on top there.
        group, index = page.evaluate(
            "([x, y]) => { const c = document.elementFromPoint(x, y); return [c.dataset.group, +c.dataset.index]; }",
            list(start),
        )
        page.mouse.move(*start)
        page.mouse.down()
        page.mouse.move(start[0] + 12, start[1] + 25, steps=5)
        page.mouse.up()
        page.locator(f'circle[data-group="{group}"]').nth(index).focus()
        page.keyboard.press("ArrowDown")  # the keyboard path moves points too
        page.click("#save-landmarks")
        page.wait_for_function("() => document.getElementById('save-status').textContent.length > 0", timeout=10_000)

    painting.refresh_from_db()
    original = painting.faces[0]["landmarks"][group][index]
    figure.refresh_from_db()
    moved = figure.face["landmarks"][group][index]
    assert moved[1] - original[1] > 10, (group, index, original, moved)
    assert painting.face_status == Painting.FaceStatus.MANUAL
    # The figure was corrected, not duplicated: the painting still has exactly one.
    assert figure.corrected and painting.figures.count() == 1
