"""Two clicks in the key-point editor: a curator boxes a face (or clicks it) and gets fitted key points."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from animation.engine.faces import REQUIRED_GROUPS, face_from_landmarks


@pytest.fixture
def curator_client(client, groups, festival):
    from accounts.models import User

    user = User.objects.create_user("curator-fit", password="curator-pass-1", display_name="Li Hua")
    user.groups.add(groups["curators"])
    festival["event"].curators.add(user)
    client.force_login(user)
    return client


def test_a_curators_box_gets_key_points_that_the_renderer_accepts(curator_client, festival):
    painting = festival["painting"]
    url = reverse("curation-landmarks-fit", args=[painting.id])
    # The demo portrait's face, boxed roughly as a curator would drag it.
    box = [0.3 * painting.width, 0.2 * painting.height, 0.4 * painting.width, 0.45 * painting.height]
    response = curator_client.post(url, json.dumps({"box": box}), content_type="application/json")
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["score"] > 0.5
    face = face_from_landmarks(data, (painting.height, painting.width, 3))
    for name in REQUIRED_GROUPS:
        assert name in face.landmarks
    x, y, w, h = box
    mouth = face.landmarks["mouth_outer"].mean(0)
    assert x < mouth[0] < x + w and y < mouth[1] < y + h
    assert face.landmarks["right_eye"].mean(0)[1] < mouth[1]
    # Not saved: the curator refines and saves.
    assert not painting.figures.exists()

    clicked = curator_client.post(url, json.dumps({"centre": [x + w / 2, y + h / 2]}), content_type="application/json")
    assert clicked.status_code == 200


def test_a_box_off_the_painting_is_refused_with_a_reason(curator_client, festival):
    painting = festival["painting"]
    url = reverse("curation-landmarks-fit", args=[painting.id])
    response = curator_client.post(
        url, json.dumps({"box": [painting.width + 50, 10, 40, 40]}), content_type="application/json"
    )
    assert response.status_code == 400
    assert "outside" in response.json()["error"]
    response = curator_client.post(url, json.dumps({"centre": ["a", 3]}), content_type="application/json")
    assert response.status_code == 400
