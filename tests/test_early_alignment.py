"""The text is aligned to the voice while the reading waits for review (#25): approval costs no Whisper.

Real Whisper, real files; the tasks are called as the speech worker calls them.
"""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from testkit.media import CHINESE_POEM


def submit(festival, resident):
    from contributions import services

    upload = SimpleUploadedFile("take.flac", CHINESE_POEM.read_bytes())
    return services.recording_submit(contributor=resident, passage=festival["chinese"], upload=upload)


def forbid_whisper(monkeypatch):
    from animation.engine import align

    def refused(*_arguments, **_keywords):
        raise AssertionError("Whisper ran after the approval although the text was aligned on arrival")

    monkeypatch.setattr(align, "align_text", refused)


@pytest.mark.slow
@pytest.mark.django_db
def test_an_approved_reading_goes_to_the_render_without_a_whisper_pass(festival, resident, moderator, monkeypatch):
    from animation.models import Alignment, Animation
    from animation.tasks import animation_align, recording_align_early
    from contributions import services

    recording = submit(festival, resident)
    recording_align_early(str(recording.id))
    early = Alignment.objects.get(recording=recording)
    assert early.text == festival["chinese"].text and len(early.units) >= 20
    recording_align_early(str(recording.id))  # a duplicated message keeps the one alignment
    assert Alignment.objects.filter(recording=recording).count() == 1

    services.recording_approve(recording=recording, moderator=moderator)
    animation = Animation.objects.get(recording=recording)
    forbid_whisper(monkeypatch)
    animation_align(str(animation.id))
    animation.refresh_from_db()
    assert animation.status == Animation.Status.RENDERING, animation.error
    assert animation.stage_seconds["align"] == 0
    assert Alignment.objects.get(recording=recording).units == early.units


@pytest.mark.slow
@pytest.mark.django_db
def test_an_early_alignment_of_text_edited_since_is_not_used(festival, resident, moderator, monkeypatch):
    from animation.models import Alignment, Animation
    from animation.tasks import animation_align, recording_align_early
    from catalogue import services as catalogue_services
    from contributions import services

    recording = submit(festival, resident)
    recording_align_early(str(recording.id))
    catalogue_services.passage_update(passage=festival["chinese"], text="床前明月光，疑是地上霜。")
    services.recording_approve(recording=recording, moderator=moderator)
    animation = Animation.objects.get(recording=recording)
    animation_align(str(animation.id))  # a real Whisper pass on the edited text
    assert Alignment.objects.get(recording=recording).text == "床前明月光，疑是地上霜。"
    animation.refresh_from_db()
    assert animation.status == Animation.Status.RENDERING and animation.stage_seconds["align"] > 0


@pytest.mark.django_db
def test_a_withdrawn_or_rejected_reading_gets_no_early_alignment(festival, resident, moderator):
    from animation.models import Alignment
    from animation.services import alignment_record_early
    from animation.tasks import recording_align_early
    from contributions import services

    withdrawn = submit(festival, resident)
    services.recording_withdraw(recording=withdrawn)
    recording_align_early(str(withdrawn.id))
    result = {"language": "zh", "units": [], "phrases": []}
    # The alignment finishing after the withdrawal (the task checked before, the voice went meanwhile).
    assert (
        alignment_record_early(recording_id=withdrawn.id, text="x", result=result, webvtt="", model_name="m", seconds=1)
        is None
    )
    rejected = submit(festival, resident)
    services.recording_reject(recording=rejected, moderator=moderator, reason=rejected.RejectionReason.values[0])
    recording_align_early(str(rejected.id))
    assert not Alignment.objects.filter(recording_id__in=[withdrawn.id, rejected.id]).exists()
