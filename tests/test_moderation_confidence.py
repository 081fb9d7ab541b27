"""The moderation console shows, before the approval, how sure the alignment is of each unit (issue 24):
the API's recording gives ``unit_confidence`` from the reading's alignment, and the console marks the
units below half."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.test import APIClient

from animation.models import Alignment
from contributions import services
from testkit.media import CHINESE_POEM


def _review(recording, moderator) -> dict:
    client = APIClient()
    client.force_authenticate(moderator)
    return client.get(f"/api/moderation/recordings/{recording.id}/").json()


@pytest.mark.django_db
def test_the_console_api_gives_each_units_confidence_from_the_alignment(festival, resident, moderator):
    passage = festival["chinese"]
    upload = SimpleUploadedFile(CHINESE_POEM.name, CHINESE_POEM.read_bytes())
    recording = services.recording_submit(contributor=resident, passage=passage, upload=upload)
    Alignment.objects.filter(recording=recording).delete()
    assert _review(recording, moderator)["unit_confidence"] == []  # not aligned yet

    text = recording.text_to_read
    units = [
        {"text": character, "start": 0.1 * index, "end": 0.1 * index + 0.1, "confidence": 0.9, "skipped": False}
        for index, character in enumerate(text)
    ]
    units[2]["confidence"] = 0.31
    units[3].update(confidence=0.0, skipped=True)
    Alignment.objects.create(recording=recording, language="zh", text=text, model_name="base", units=units, webvtt="")
    shown = _review(recording, moderator)["unit_confidence"]
    assert [unit["text"] for unit in shown] == list(text)
    assert shown[2] == {"text": text[2], "confidence": 0.31, "skipped": False}
    assert shown[3] == {"text": text[3], "confidence": 0.0, "skipped": True}
    assert all(0.0 <= unit["confidence"] <= 1.0 for unit in shown)

    # An alignment of the passage's older text says nothing about what is read now.
    Alignment.objects.filter(recording=recording).update(text=text + "旧")
    assert _review(recording, moderator)["unit_confidence"] == []


@pytest.mark.django_db
def test_the_console_page_has_the_confidence_line_and_its_legend(festival, moderator):
    client = Client()
    client.force_login(moderator)
    page = client.get("/moderation/").content.decode()
    assert 'id="unit-confidence"' in page and 'class="low-confidence"' in page
    assert 'data-key="confidence"' in page
