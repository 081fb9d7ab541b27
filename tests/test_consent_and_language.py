"""Consent can be withdrawn at any time; residents read refusals in their own language; the API is documented."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.test import APIClient

from contributions import selectors, services
from contributions.models import Recording
from testkit.media import CHINESE_POEM


@pytest.mark.django_db
def test_withdrawing_consent_deletes_every_recording_and_asks_again_before_recording(festival, resident, settings):
    recordings = [
        services.recording_submit(
            contributor=resident,
            passage=festival["chinese"],
            upload=SimpleUploadedFile("t.flac", CHINESE_POEM.read_bytes()),
        )
        for _ in range(2)
    ]
    client = Client()
    client.force_login(resident)
    response = client.post("/consent/withdraw/", follow=True)
    assert "2 recordings have been deleted" in response.content.decode()
    assert set(Recording.objects.values_list("status", flat=True)) == {Recording.Status.WITHDRAWN}
    for recording in recordings:
        # Files go through the storage API, which has no folders to delete: no file may be left.
        folder = settings.MEDIA_ROOT / "recordings" / str(recording.id)
        assert not [path for path in folder.rglob("*") if path.is_file()], list(folder.rglob("*"))
    assert selectors.consent_current(user=resident) is None
    assert client.get(f"/record/{festival['chinese'].id}/").url.startswith("/consent/")


@pytest.mark.django_db
def test_consent_never_redirects_to_another_site(resident):
    client = Client()
    client.force_login(resident)
    response = client.post("/consent/?next=https://evil.example/", {"public_animation": "on"})
    assert response.url == "/passages/"


@pytest.mark.django_db
def test_a_refused_upload_is_explained_in_the_residents_language(tmp_path, festival, resident):
    text_file = tmp_path / "poem.webm"
    text_file.write_text("not audio at all " * 100)
    client = APIClient()
    client.force_authenticate(resident)
    with text_file.open("rb") as handle:
        response = client.post(
            "/api/recordings/",
            {"passage": str(festival["chinese"].id), "audio": handle},
            format="multipart",
            HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9",
        )
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert any("\u4e00" <= character <= "\u9fff" for character in detail), detail


@pytest.mark.django_db
def test_the_openapi_schema_is_published():
    response = Client().get("/api/schema/")
    assert response.status_code == 200
    schema = response.content.decode()
    assert "/api/recordings/" in schema and "/api/moderation/queue/" in schema


@pytest.mark.django_db
def test_the_api_docs_page_needs_no_internet():
    page = Client().get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in page
    assert "cdn" not in page.lower()
    from django.contrib.staticfiles import finders

    # Served from our own static files (make run's ASGI static handler, or collectstatic in a deployment).
    assert finders.find("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")


@pytest.mark.django_db
def test_the_consent_api_says_in_chinese_that_no_consent_was_given():
    from accounts.models import User

    client = APIClient()
    client.force_authenticate(User.objects.create_user("newcomer", password="newcomer-pass-1"))
    response = client.get("/api/consent/", HTTP_ACCEPT_LANGUAGE="zh-Hans")
    assert response.status_code == 404
    assert response.json()["detail"] == "尚未给出同意。"
