"""Two clicks in a real browser: a curator boxes a face that detection missed, the key points are fitted
there, and once saved they are what the painting's films use."""

from __future__ import annotations

import numpy as np
import pytest

from catalogue.models import Painting
from testkit.browser import chromium, log_in


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_curator_boxes_a_missed_face_and_saves_the_fitted_key_points(
    asgi_live_server, festival, groups, chromium_path
):
    from accounts.models import User
    from animation.engine.faces import find_faces

    curator = User.objects.create_user("curator", password="curator-pass-1")
    curator.groups.add(groups["curators"])
    festival["event"].curators.add(curator)
    painting = festival["painting"]
    # As if detection had found nothing: the editor starts from the template in the middle.
    Painting.objects.filter(id=painting.id).update(face_status=Painting.FaceStatus.NONE, faces=[])
    _, faces = find_faces(painting.image.path)
    x, y, w, h = faces[0].box
    true_mouth = faces[0].landmarks["mouth_outer"].mean(0)
    with chromium(chromium_path) as browser:
        page = browser.new_page(viewport={"width": 1200, "height": 1000})
        log_in(page, asgi_live_server.url, username="curator", password="curator-pass-1", next_path="/curation/")
        page.goto(f"{asgi_live_server.url}/curation/paintings/{painting.id}/landmarks/")
        svg = page.locator("#landmark-svg").bounding_box()
        scale = svg["width"] / painting.width

        def screen(px: float, py: float) -> tuple[float, float]:
            return svg["x"] + px * scale, svg["y"] + py * scale

        # Drag from the box's lower right corner to its upper left one (off the template's points).
        page.mouse.move(*screen(x + w, y + h))
        page.mouse.down()
        page.mouse.move(*screen(x + w / 2, y + h / 2), steps=4)
        page.mouse.move(*screen(x, y), steps=4)
        page.mouse.up()
        page.wait_for_function(
            "() => document.getElementById('landmark-editor').dataset.fitted === 'true'", timeout=20_000
        )
        assert "Key points fitted" in page.locator("#save-status").inner_text()
        page.click("#save-landmarks")
        page.wait_for_function(
            "() => document.getElementById('landmark-editor').dataset.dirty === 'false'", timeout=10_000
        )
    painting.refresh_from_db()
    assert painting.face_status == Painting.FaceStatus.MANUAL
    placed = painting.figures.get()
    assert placed.origin == placed.Origin.PLACED
    mouth = np.array(placed.face["landmarks"]["mouth_outer"]).mean(0)
    assert np.linalg.norm(mouth - true_mouth) < 0.1 * w
