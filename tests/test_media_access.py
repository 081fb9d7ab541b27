"""Film files follow the film's state, and videos answer byte ranges (phones need them to play)."""

from __future__ import annotations

import pytest
from django.test import Client

from animation.models import Animation
from contributions.models import Consent, Passage, Recording


@pytest.fixture
def film(festival, resident, settings):
    recording = Recording.objects.create(
        passage=festival["chinese"], contributor=resident, consent=Consent.objects.get(user=resident)
    )
    animation = Animation.objects.create(recording=recording, event=festival["event"], status=Animation.Status.READY)
    folder = settings.MEDIA_ROOT / "animations" / str(animation.id)
    folder.mkdir(parents=True)
    (folder / "film.mp4").write_bytes(bytes(range(256)) * 40)
    return animation


@pytest.mark.django_db
def test_a_film_held_for_review_is_not_public_until_published(film, moderator, other_resident):
    url = f"/media/animations/{film.id}/film.mp4"
    assert Client().get(url).status_code == 404
    stranger = Client()
    stranger.force_login(other_resident)
    assert stranger.get(url).status_code == 404
    reviewer = Client()
    reviewer.force_login(moderator)
    assert reviewer.get(url).status_code == 200
    Animation.objects.filter(id=film.id).update(status=Animation.Status.PUBLISHED)
    assert Client().get(url).status_code == 200


@pytest.mark.django_db
def test_videos_answer_byte_ranges(film):
    Animation.objects.filter(id=film.id).update(status=Animation.Status.PUBLISHED)
    url = f"/media/animations/{film.id}/film.mp4"
    whole = Client().get(url)
    assert whole["Accept-Ranges"] == "bytes"
    assert whole["Content-Type"] == "video/mp4"
    body = b"".join(whole.streaming_content)
    assert len(body) == 10240
    part = Client().get(url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part["Content-Range"] == "bytes 100-199/10240"
    assert part.content == body[100:200]
    tail = Client().get(url, headers={"Range": "bytes=-10"})
    assert tail.content == body[-10:]
    assert Client().get(url, headers={"Range": "bytes=99999-"}).status_code == 416


@pytest.mark.django_db
def test_media_outside_the_public_folders_is_never_served(film, festival, settings):
    assert Client().get("/media/recordings/anything/original.webm").status_code == 404
    assert Client().get(f"/media/animations/{film.id}/../../secret").status_code == 404
    assert Passage.objects.exists()


@pytest.mark.django_db
def test_a_residents_own_recording_plays_with_its_audio_type_and_byte_ranges(festival, resident):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from conftest import CHINESE_POEM
    from contributions.services import recording_submit

    recording = recording_submit(
        contributor=resident,
        passage=festival["chinese"],
        upload=SimpleUploadedFile("t.flac", CHINESE_POEM.read_bytes()),
    )
    client = Client()
    client.force_login(resident)
    response = client.get(f"/recordings/{recording.id}/audio/", headers={"Range": "bytes=0-99"})
    assert response.status_code == 206
    assert response["Content-Type"] == "audio/flac"
    assert response.content[:4] == b"fLaC"
