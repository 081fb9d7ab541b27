"""A curator waiting for face detection sees the result without pressing reload."""

from __future__ import annotations

import pytest

from gallery.models import Painting
from tests.browser import chromium, log_in


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_painting_page_updates_itself_when_face_detection_finishes(live_server, festival, groups, chromium_path):
    from accounts.models import User
    from gallery.tasks import painting_detect_faces

    curator = User.objects.create_user("curator", password="curator-pass-1")
    curator.groups.add(groups["curators"])
    painting = festival["painting"]
    Painting.objects.filter(id=painting.id).update(face_status=Painting.FaceStatus.PENDING, faces=[])
    with chromium(chromium_path) as browser:
        page = browser.new_page()
        log_in(page, live_server.url, username="curator", password="curator-pass-1", next_path="/curation/")
        page.goto(f"{live_server.url}/curation/paintings/{painting.id}/")
        assert page.locator("#face-status").get_attribute("data-status") == "pending"
        painting_detect_faces(str(painting.id))  # the worker's task, run here: real mediapipe
        page.wait_for_function("document.getElementById('face-status').dataset.status === 'found'", timeout=15_000)
        assert "1 face found" in page.content()
