"""Whisper's transcript against the passage, on real clips read partly differently from the text:
the console's diff names what was misread, skipped and added, and the score is the error rate."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from catalogue.models import Passage
from contributions import services
from contributions.tasks import recording_transcribe
from testkit.media import CHINESE_POEM, ENGLISH_CLIP


def review_after_transcription(festival, resident, moderator, *, text: str, language: str, clip) -> dict:
    passage = Passage.objects.create(
        event=festival["event"], painting=festival["painting"], title="edited", text=text, language=language
    )
    upload = SimpleUploadedFile(clip.name, clip.read_bytes())
    recording = services.recording_submit(contributor=resident, passage=passage, upload=upload)
    client = APIClient()
    client.force_authenticate(moderator)
    before = client.get(f"/api/moderation/recordings/{recording.id}/").json()
    assert before["transcript_ready"] is False
    assert before["facts"]["diff"] == []
    recording_transcribe(str(recording.id))  # the Celery task's own code, run here with the real Whisper
    return client.get(f"/api/moderation/recordings/{recording.id}/").json()


@pytest.mark.slow
@pytest.mark.django_db
def test_an_english_reading_of_an_edited_text_shows_misread_skipped_and_added_words(festival, resident, moderator):
    # The clip says "a time of celebrating with loved ones ... Wisconsin's cold". The passage drops
    # "time", says "dancing" for "celebrating" and adds "our" before "loved".
    edited = (
        "The holidays are a of dancing with our loved ones, enjoying the festivities and muddling through "
        "Wisconsin's cold. But for many this year has been"
    )
    review = review_after_transcription(festival, resident, moderator, text=edited, language="en", clip=ENGLISH_CLIP)
    assert review["transcript_ready"] is True
    assert review["transcript_language"] == "en"
    assert review["transcript"].lower().startswith("the holidays are a time of celebrating with loved ones")
    facts = review["facts"]
    operations = [(operation["op"], operation["ref"], operation["hyp"]) for operation in facts["diff"]]
    assert ("insert", "", "time") in operations  # said, not in the passage
    assert ("replace", "dancing", "celebrating") in operations  # misread
    assert ("delete", "our", "") in operations  # in the passage, skipped
    assert facts["unit"] == "word" and facts["separator"] == " "
    assert facts["counts"]["added"] >= 1 and facts["counts"]["skipped"] >= 1 and facts["counts"]["misread"] >= 1
    reference_words = len(edited.split())
    edits = facts["counts"]["added"] + facts["counts"]["skipped"] + facts["counts"]["misread"]
    # Word error rate: edits over the passage's words (tiny.en may hear one more word differently).
    assert facts["error_rate"] == pytest.approx(edits / reference_words, abs=0.01)
    assert 0.1 <= facts["error_rate"] <= 0.25
    assert review["match_score"] == pytest.approx(1 - facts["error_rate"], abs=1e-4)
    assert "match" not in {warning["code"] for warning in facts["warnings"]}


@pytest.mark.slow
@pytest.mark.django_db
def test_a_chinese_reading_of_a_text_with_changed_characters_shows_them_misread(festival, resident, moderator):
    # The recitation says 疑是地上霜; the passage has 疑是天上雪 (two characters changed).
    edited = "床前明月光，疑是天上雪。举头望明月，低头思故乡。"
    review = review_after_transcription(festival, resident, moderator, text=edited, language="zh", clip=CHINESE_POEM)
    facts = review["facts"]
    assert review["transcript_language"] == "zh"
    assert facts["unit"] == "character" and facts["separator"] == ""
    misread_in_passage = "".join(operation["ref"] for operation in facts["diff"] if operation["op"] == "replace")
    heard_instead = "".join(operation["hyp"] for operation in facts["diff"] if operation["op"] == "replace")
    assert "天" in misread_in_passage and "雪" in misread_in_passage
    assert "地" in heard_instead and "霜" in heard_instead
    equal = "".join(operation["ref"] for operation in facts["diff"] if operation["op"] == "equal")
    assert "床前明月光" in equal and "举头望明月" in equal
    # Character error rate: over the 20 characters of the passage, the two changed ones count.
    assert facts["error_rate"] >= 2 / 20
    assert review["match_score"] == pytest.approx(1 - facts["error_rate"], abs=1e-4)
    # The same clip against the poem as written scores better: the changed characters are the difference.
    faithful = review_after_transcription(
        festival,
        resident,
        moderator,
        text="床前明月光，疑是地上霜。举头望明月，低头思故乡。",
        language="zh",
        clip=CHINESE_POEM,
    )
    assert faithful["facts"]["error_rate"] == pytest.approx(facts["error_rate"] - 2 / 20, abs=1e-3)


@pytest.mark.slow
@pytest.mark.django_db
def test_a_faithful_chinese_reading_scores_high_although_whisper_writes_homophones(festival, resident, moderator):
    # Whisper writes 疑是 as 一世 and 思故乡 as 丝骨箱 for this recitation: by characters 75 %, by sound
    # (pinyin, tones weighted lightly) it is the poem as written.
    poem = "床前明月光，疑是地上霜。举头望明月，低头思故乡。"
    review = review_after_transcription(festival, resident, moderator, text=poem, language="zh", clip=CHINESE_POEM)
    assert review["match_score"] >= 0.95
    facts = review["facts"]
    assert facts["counts"] == {"misread": 0, "skipped": 0, "added": 0}
    assert "match" not in {warning["code"] for warning in facts["warnings"]}


@pytest.mark.slow
@pytest.mark.django_db
def test_a_line_the_reader_skipped_is_shown_as_exactly_that_line(festival, resident, moderator):
    text = "床前明月光，疑是地上霜。春眠不觉晓，举头望明月，低头思故乡。"  # the recitation has no 春眠不觉晓
    review = review_after_transcription(festival, resident, moderator, text=text, language="zh", clip=CHINESE_POEM)
    changes = [
        (operation["op"], operation["ref"]) for operation in review["facts"]["diff"] if operation["op"] != "equal"
    ]
    assert changes == [("delete", "春眠不觉晓")]
    assert review["facts"]["counts"] == {"misread": 0, "skipped": 5, "added": 0}
    # What the score means, not what Whisper printed on one CPU: five of the passage's 25 characters unread
    # cost at least five edits (at most 0.8); every other character was heard (counts above), so at worst
    # each of the 20 costs its tone (a quarter edit, compare.py): at least 1 - (5 + 20 / 4) / 25 = 0.6.
    assert 0.6 <= review["match_score"] <= 0.8 + 1e-9
    assert review["match_score"] == pytest.approx(1 - review["facts"]["error_rate"], abs=1e-4)
    poem = "床前明月光，疑是地上霜。举头望明月，低头思故乡。"
    faithful = review_after_transcription(festival, resident, moderator, text=poem, language="zh", clip=CHINESE_POEM)
    assert review["match_score"] < faithful["match_score"]
