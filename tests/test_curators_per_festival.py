"""Curators are per festival, as moderators are (issue 19): a curator edits, and sees the unpublished
films and the decisions of, the festivals they curate only. Whoever creates a festival curates it; the
festivals that existed before keep every curator they had (the migration)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from testkit.media import CHINESE_POEM


def make_curator(name: str, groups, *events):
    from accounts.models import User

    user = User.objects.create_user(name, password=f"{name}-pass-1", display_name=name.title())
    user.groups.add(groups["curators"])
    for event in events:
        event.curators.add(user)
    return user


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def two_festivals(festival, groups):
    from catalogue.models import Event

    other = Event.objects.create(slug="autumn-reading", title="Autumn Reading")
    ours = make_curator("ours", groups, festival["event"])
    theirs = make_curator("theirs", groups, other)
    return {"ours": ours, "theirs": theirs, "other": other, **festival}


@pytest.mark.django_db
def test_a_curator_sees_and_edits_only_the_festivals_they_curate(two_festivals):
    ours, theirs = logged_in(two_festivals["ours"]), logged_in(two_festivals["theirs"])
    event, painting, passage = two_festivals["event"], two_festivals["painting"], two_festivals["chinese"]
    listing = theirs.get("/curation/").content.decode()
    assert "Autumn Reading" in listing and event.title not in listing
    assert event.title in ours.get("/curation/").content.decode()
    for url in (
        f"/curation/events/{event.slug}/",
        f"/curation/paintings/{painting.id}/",
        f"/curation/paintings/{painting.id}/landmarks/",
        f"/curation/passages/{passage.id}/",
        f"/curation/events/{event.slug}/dashboard/",
    ):
        assert ours.get(url).status_code == 200, url
        assert theirs.get(url).status_code == 403, url
    # Changes too: the other festival's curator can neither close a passage nor rename the festival.
    assert theirs.post(f"/curation/passages/{passage.id}/open/", {"open": "0"}).status_code == 403
    passage.refresh_from_db()
    assert passage.is_open
    answer = theirs.post(f"/curation/events/{event.slug}/", {"title": "Taken over", "slug": event.slug})
    assert answer.status_code == 403
    event.refresh_from_db()
    assert event.title != "Taken over"


@pytest.mark.django_db
def test_whoever_creates_a_festival_curates_it_and_cannot_drop_themselves(groups):
    from catalogue.models import Event

    maker = make_curator("maker", groups)
    colleague = make_curator("colleague", groups)
    client = logged_in(maker)
    fields = {"title": "Winter Reading", "slug": "winter-reading", "publish_mode": "auto", "is_open": "on"}
    assert client.post("/curation/events/new/", fields).status_code == 302
    event = Event.objects.get(slug="winter-reading")
    assert list(event.curators.all()) == [maker]
    assert logged_in(colleague).get(f"/curation/events/{event.slug}/").status_code == 403
    # The maker adds the colleague and leaves themselves out of the boxes: they stay a curator.
    answer = client.post(f"/curation/events/{event.slug}/", {**fields, "curators": [colleague.pk]})
    assert answer.status_code == 302
    assert set(event.curators.all()) == {maker, colleague}
    assert logged_in(colleague).get(f"/curation/events/{event.slug}/").status_code == 200


@pytest.mark.django_db
def test_unpublished_films_and_decisions_of_another_festival_stay_hidden(two_festivals, resident, moderator):
    from animation.models import Animation
    from contributions import services
    from contributions.models import ModerationDecision
    from testkit.roles import make_film

    upload = SimpleUploadedFile("take.flac", CHINESE_POEM.read_bytes())
    recording = services.recording_submit(contributor=resident, passage=two_festivals["chinese"], upload=upload)
    services.recording_approve(recording=recording, moderator=moderator)
    film = Animation.objects.create(recording=recording, event=two_festivals["event"], status=Animation.Status.READY)
    make_film(film)
    ours, theirs = logged_in(two_festivals["ours"]), logged_in(two_festivals["theirs"])
    video = f"/media/animations/{film.id}/film.mp4"
    assert ours.get(video).status_code == 200
    assert theirs.get(video).status_code == 404
    decision = ModerationDecision.objects.get(recording=recording)
    for client, seen in ((ours, True), (theirs, False)):
        listed = {item["id"] for item in client.get("/api/moderation/decisions/").json()["results"]}
        assert (decision.id in listed) is seen
        reverse_form = reverse("moderation-reverse", kwargs={"decision_id": decision.id})
        assert (reverse_form in client.get("/moderation/audit/").content.decode()) is seen
    # Nor can they reverse it, over the API or the audit page.
    answer = theirs.post(
        f"/api/moderation/decisions/{decision.id}/reverse/", {"reason": "noise"}, content_type="application/json"
    )
    assert answer.status_code == 403
    page_reversal = reverse("moderation-reverse", kwargs={"decision_id": decision.id})
    assert theirs.post(page_reversal, {"reason": "noise"}).status_code == 403
    decision.refresh_from_db()
    assert decision.reversed_at is None
    # Published, it is everyone's.
    Animation.objects.filter(id=film.id).update(status=Animation.Status.PUBLISHED, published_at=timezone.now())
    assert theirs.get(video).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_the_festivals_that_existed_keep_every_curator_they_had():
    """Before per-festival curators, every curator curated every festival: nobody loses one on upgrade."""
    executor = MigrationExecutor(connection)
    latest = list(executor.loader.graph.leaf_nodes())
    executor.migrate([("catalogue", "0007_painting_head_motion")])
    old = MigrationExecutor(connection).loader.project_state([("catalogue", "0007_painting_head_motion")]).apps
    try:
        Group = old.get_model("auth", "Group")
        User = old.get_model("accounts", "User")
        curators = Group.objects.create(name="curators")
        curator = User.objects.create(username="curator-before")
        curator.groups.add(curators)
        User.objects.create(username="resident-before")
        old.get_model("catalogue", "Event").objects.create(slug="before", title="Before")
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(latest)
    from catalogue.models import Event

    assert [user.username for user in Event.objects.get(slug="before").curators.all()] == ["curator-before"]
