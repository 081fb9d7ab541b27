"""Dialogues (issue 22): a curator writes a dialogue, casts each role to a figure; residents read a
role each; moderators approve each reading; a film is asked for once every role has an approved reading,
taken down when one of its voices is withdrawn, and made again with the next approved reading."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.test import APIClient

from animation.models import Animation
from catalogue import selectors as catalogue_selectors
from catalogue import services as catalogue_services
from catalogue.models import DialogueRole, Passage
from contributions import services as contribution_services
from contributions.models import Recording
from testkit.media import CHINESE_POEM
from tests.test_figures import face_at

SCRIPT = "宝玉：这个妹妹我曾见过的。\n黛玉：何以见得？\n\n宝玉：虽然未曾见过，却看着面善。"


@pytest.fixture
def curator(db, groups, festival):
    from accounts.models import User

    user = User.objects.create_user("curator", password="curator-pass-1")
    user.groups.add(groups["curators"])
    festival["event"].curators.add(user)  # curators are per festival
    return user


@pytest.fixture
def two_figures(festival):
    painting = festival["painting"]
    painting.width, painting.height = 3000, 600
    painting.save(update_fields=["width", "height"])
    catalogue_services.painting_record_faces(painting_id=painting.id, faces=[face_at(300, 200), face_at(1800, 150)])
    return catalogue_selectors.painting_figures(painting=painting)


@pytest.fixture
def dialogue(festival, two_figures):
    passage = catalogue_services.passage_create(
        painting=festival["painting"], title="初见", text=SCRIPT, language="zh", max_seconds=30, kind="dialogue"
    )
    baoyu, daiyu = passage.roles.order_by("order")
    catalogue_services.dialogue_role_cast(role=baoyu, figure=two_figures[0])
    catalogue_services.dialogue_role_cast(role=daiyu, figure=two_figures[1])
    Passage.objects.filter(id=passage.id).update(is_open=True)
    passage.refresh_from_db()
    return passage


def take() -> SimpleUploadedFile:
    return SimpleUploadedFile("take.flac", CHINESE_POEM.read_bytes())


@pytest.mark.django_db
def test_a_script_becomes_roles_and_lines_in_order(dialogue):
    roles = list(dialogue.roles.order_by("order"))
    assert [role.name for role in roles] == ["宝玉", "黛玉"]
    assert [(line.role.name, line.text) for line in dialogue.lines.order_by("order")] == [
        ("宝玉", "这个妹妹我曾见过的。"), ("黛玉", "何以见得？"), ("宝玉", "虽然未曾见过，却看着面善。"),
    ]  # fmt: skip
    assert roles[0].text() == "这个妹妹我曾见过的。\n虽然未曾见过，却看着面善。"


@pytest.mark.django_db
def test_a_line_without_a_role_is_refused_with_its_number(festival, curator, two_figures):
    response = Client()
    response.force_login(curator)
    page = response.post(
        f"/curation/paintings/{festival['painting'].id}/",
        {"action": "passage", "title": "x", "text": "宝玉：你好\n这一行没有角色", "language": "zh",
         "max_seconds": 30, "kind": "dialogue"},
    )  # fmt: skip
    assert page.status_code == 200
    assert "Line 2 has no role" in page.content.decode()
    assert not Passage.objects.filter(title="x").exists()
    with pytest.raises(catalogue_services.CurationError):
        catalogue_services.dialogue_parse("宝玉：只有一个角色\n宝玉：还是他")


@pytest.mark.django_db
def test_editing_the_script_keeps_the_casting_and_never_drops_a_role_someone_read(dialogue, resident, two_figures):
    baoyu = dialogue.roles.get(name="宝玉")
    catalogue_services.passage_update(passage=dialogue, text=SCRIPT + "\n黛玉：好。")
    baoyu.refresh_from_db()
    assert baoyu.figure_id == two_figures[0].id
    assert dialogue.lines.count() == 4
    dialogue.refresh_from_db()
    Passage.objects.filter(id=dialogue.id).update(is_open=True)
    dialogue.refresh_from_db()
    contribution_services.recording_submit(contributor=resident, passage=dialogue, upload=take(), role=baoyu)
    with pytest.raises(catalogue_services.CurationError, match="宝玉"):
        catalogue_services.passage_update(passage=dialogue, text="袭人：来了\n黛玉：好。")
    assert DialogueRole.objects.filter(passage=dialogue, name="宝玉").exists()


@pytest.mark.django_db
def test_a_dialogue_opens_only_with_every_role_cast(festival, two_figures):
    from gallery import services as gallery_services
    from gallery.models import PassagePreview

    passage = catalogue_services.passage_create(
        painting=festival["painting"], title="初见", text=SCRIPT, language="zh", max_seconds=30, kind="dialogue"
    )
    PassagePreview.objects.create(passage=passage, status=PassagePreview.Status.READY)
    with pytest.raises(catalogue_services.CurationError, match="Cast every role"):
        gallery_services.passage_open(passage=passage)
    for role, figure in zip(passage.roles.order_by("order"), two_figures, strict=True):
        catalogue_services.dialogue_role_cast(role=role, figure=figure)
    gallery_services.passage_open(passage=passage)
    passage.refresh_from_db()
    assert passage.is_open


@pytest.mark.django_db
def test_a_resident_reads_one_role_and_the_reading_is_of_its_lines_only(dialogue, resident):
    client = APIClient()
    client.force_authenticate(resident)
    refused = client.post("/api/recordings/", {"passage": str(dialogue.id), "audio": take()}, format="multipart")
    assert refused.status_code == 400 and refused.json()["code"] == "role_required"
    daiyu = dialogue.roles.get(name="黛玉")
    made = client.post(
        "/api/recordings/", {"passage": str(dialogue.id), "role": str(daiyu.id), "audio": take()}, format="multipart"
    )
    assert made.status_code == 201, made.content
    recording = Recording.objects.get(id=made.json()["id"])
    assert recording.role_id == daiyu.id and recording.text_to_read == "何以见得？"
    # The record page offers the roles, then shows the chosen role's lines among the others' cues.
    page = Client()
    page.force_login(resident)
    choice = page.get(f"/record/{dialogue.id}/").content.decode()
    assert 'id="role-choice"' in choice and 'id="recorder"' not in choice
    chosen = page.get(f"/record/{dialogue.id}/?role={daiyu.id}").content.decode()
    assert f'data-role-id="{daiyu.id}"' in chosen and chosen.count('class="is-mine"') == 1


@pytest.mark.django_db(transaction=True)
def test_the_film_waits_for_every_role_and_goes_with_a_withdrawn_voice(
    dialogue, resident, other_resident, moderator, django_capture_on_commit_callbacks
):
    baoyu, daiyu = dialogue.roles.order_by("order")
    first = contribution_services.recording_submit(contributor=resident, passage=dialogue, upload=take(), role=baoyu)
    second = contribution_services.recording_submit(
        contributor=other_resident, passage=dialogue, upload=take(), role=daiyu
    )
    contribution_services.recording_approve(recording=first, moderator=moderator)
    # One role read and approved: no film yet, and never a one-voice film of a dialogue's role.
    assert not Animation.objects.filter(recording__passage=dialogue).exists()
    contribution_services.recording_approve(recording=second, moderator=moderator)
    film = Animation.objects.get(recording__passage=dialogue)
    assert {(voice.role_id, voice.recording_id) for voice in film.voices.all()} == {
        (baoyu.id, first.id), (daiyu.id, second.id),
    }  # fmt: skip
    from animation import services as animation_services

    assert animation_services.dialogue_film_request(passage=dialogue).id == film.id  # idempotent

    # The second reader withdraws: the film goes. A new reading of that role makes a new film.
    contribution_services.recording_withdraw(recording=second)
    film.refresh_from_db()
    assert film.status == Animation.Status.REMOVED
    assert Animation.objects.filter(recording__passage=dialogue).count() == 1
    again = contribution_services.recording_submit(contributor=resident, passage=dialogue, upload=take(), role=daiyu)
    contribution_services.recording_approve(recording=again, moderator=moderator)
    newer = Animation.objects.exclude(id=film.id).get(recording__passage=dialogue)
    assert {voice.recording_id for voice in newer.voices.all()} == {first.id, again.id}


@pytest.mark.django_db
def test_a_moderator_reviewing_one_role_sees_the_whole_dialogue_and_hears_the_other_voice(
    dialogue, resident, other_resident, moderator
):
    baoyu, daiyu = dialogue.roles.order_by("order")
    first = contribution_services.recording_submit(contributor=resident, passage=dialogue, upload=take(), role=baoyu)
    second = contribution_services.recording_submit(
        contributor=other_resident, passage=dialogue, upload=take(), role=daiyu
    )
    client = APIClient()
    client.force_authenticate(moderator)
    before = client.get(f"/api/moderation/recordings/{second.id}/").json()["dialogue"]
    assert before["role"] == "黛玉"
    assert [(line["role"], line["mine"]) for line in before["lines"]] == [
        ("宝玉", False), ("黛玉", True), ("宝玉", False),
    ]  # fmt: skip
    assert before["lines"][1]["text"] == "何以见得？"
    # 宝玉 has no approved reading yet: the console says so, with nothing to play.
    assert before["voices"] == [{"role": "宝玉", "credited_as": "", "audio_url": ""}]
    contribution_services.recording_approve(recording=first, moderator=moderator)
    after = client.get(f"/api/moderation/recordings/{second.id}/").json()["dialogue"]
    [voice] = after["voices"]
    assert voice["role"] == "宝玉" and voice["credited_as"] == first.credit
    # The moderator may play it: it is a reading of the festival they moderate.
    page = Client()
    page.force_login(moderator)
    assert page.get(voice["audio_url"]).status_code == 200
    # A plain passage's reading has no dialogue around it.
    plain = contribution_services.recording_submit(
        contributor=resident, passage=dialogue.painting.passages.exclude(id=dialogue.id).first(), upload=take()
    )
    assert client.get(f"/api/moderation/recordings/{plain.id}/").json()["dialogue"] is None
