"""A resident downloads everything kept about them, and deletes their account (#19), as Common Voice offers."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from contributions.models import Consent, ModerationDecision, Recording
from testkit.media import CHINESE_POEM


def submit(festival, resident) -> Recording:
    from contributions import services

    upload = SimpleUploadedFile("take.flac", CHINESE_POEM.read_bytes())
    return services.recording_submit(contributor=resident, passage=festival["chinese"], upload=upload)


def logged_in(user, password: str) -> Client:
    client = Client()
    assert client.post("/accounts/login/", {"username": user.username, "password": password}).status_code == 302
    return client


@pytest.mark.django_db
def test_a_resident_downloads_their_data_with_their_audio(festival, resident, moderator):
    from contributions import services

    kept = submit(festival, resident)
    rejected = submit(festival, resident)
    services.recording_reject(recording=rejected, moderator=moderator, reason="noise", note="a dog barks")
    client = logged_in(resident, "resident-pass-1")
    assert "download my data" in client.get("/me/recordings/").content.decode()
    response = client.get("/me/account/data.zip")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert "attachment" in response["Content-Disposition"]
    bundle = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    data = json.loads(bundle.read("data.json"))
    assert data["account"]["username"] == "resident" and data["consents"][0]["public_animation"] is True
    by_id = {reading["id"]: reading for reading in data["readings"]}
    assert set(by_id) == {str(kept.id), str(rejected.id)}
    assert by_id[str(rejected.id)]["rejection_note"] == "a dog barks"
    assert by_id[str(kept.id)]["text"] == festival["chinese"].text
    audio = bundle.read(f"recordings/{kept.id}.flac")
    assert audio[:4] == b"fLaC"
    # Nobody else's: another resident's download holds none of these readings.
    assert Client().get("/me/account/data.zip").status_code == 302


@pytest.mark.django_db
def test_deleting_the_account_erases_the_readings_and_anonymises_what_the_audit_log_keeps(
    festival, resident, moderator, settings
):
    from core import storage

    kept = submit(festival, resident)
    rejected = submit(festival, resident)
    from contributions import services

    services.recording_reject(recording=rejected, moderator=moderator, reason="noise", note="Li Ming, the dog")
    client = logged_in(resident, "resident-pass-1")
    page = client.get("/me/account/")
    assert page.status_code == 200 and "Delete my account" in page.content.decode()
    assert client.post("/me/account/", {"password": "wrong"}).status_code == 200  # refused, said on the page
    resident.refresh_from_db()
    assert resident.is_active

    assert client.post("/me/account/", {"password": "resident-pass-1"}).status_code == 302
    resident.refresh_from_db()
    assert not resident.is_active and resident.username.startswith("deleted-")
    assert (resident.email, resident.display_name) == ("", "")
    assert not resident.has_usable_password()
    # Every reading withdrawn and erased, files gone; the rows stay for the audit, with no note.
    for recording in (kept, rejected):
        recording.refresh_from_db()
        assert recording.status == Recording.Status.WITHDRAWN and recording.erased_at is not None
        assert not recording.original and recording.transcript == "" and recording.rejection_note == ""
        assert storage.list_names(f"recordings/{recording.id}") == []
    assert ModerationDecision.objects.filter(recording=rejected, note="").count() == 1
    assert Consent.objects.filter(user=resident, withdrawn_at__isnull=False).exists()
    # The session ended; the old login no longer works.
    assert client.get("/me/recordings/").status_code == 302
    assert Client().post("/accounts/login/", {"username": "resident", "password": "resident-pass-1"}).status_code == 200
