"""Who may do what: moderation decisions, original audio, live sockets, public pages."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from rest_framework.test import APIClient

from contributions import services
from contributions.models import ModerationDecision, Recording
from testkit.media import CHINESE_POEM

ORIGIN = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]


def logged_in(user, password: str) -> list[tuple[bytes, bytes]]:
    """Socket headers of USER's browser: a session cookie from the real login form."""
    from django.conf import settings

    client = Client()
    assert client.post("/accounts/login/", {"username": user.username, "password": password}).status_code == 302
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    return [*ORIGIN, (b"cookie", cookie.encode())]


def submit(festival, resident) -> Recording:
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("take.flac", CHINESE_POEM.read_bytes())
    return services.recording_submit(contributor=resident, passage=festival["chinese"], upload=upload)


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.mark.django_db
def test_a_moderator_rejects_with_a_reason_the_resident_then_sees(festival, resident, moderator):
    recording = submit(festival, resident)
    queue = api(moderator).get("/api/moderation/queue/").json()["results"]
    assert [item["id"] for item in queue] == [str(recording.id)]
    response = api(moderator).post(
        f"/api/moderation/recordings/{recording.id}/reject/", {"reason": "noise", "note": "a dog barks"}
    )
    assert response.status_code == 200
    mine = api(resident).get(f"/api/recordings/{recording.id}/").json()
    assert mine["status"] == "rejected"
    assert mine["rejection_reason"] == "noise"
    assert mine["rejection_note"] == "a dog barks"
    decision = ModerationDecision.objects.get()
    assert (decision.moderator, decision.verdict, decision.reason) == (moderator, "reject", "noise")
    # A decided recording cannot be decided again by a second click or a second moderator.
    assert api(moderator).post(f"/api/moderation/recordings/{recording.id}/approve/").status_code == 409
    assert api(moderator).get("/api/moderation/queue/").json()["results"] == []


@pytest.mark.django_db
def test_residents_and_visitors_cannot_moderate(festival, resident, other_resident):
    recording = submit(festival, resident)
    for client in (api(resident), api(other_resident), api()):
        assert client.get("/api/moderation/queue/").status_code in {401, 403}
        assert client.post(f"/api/moderation/recordings/{recording.id}/approve/").status_code in {401, 403}
    assert Recording.objects.get(id=recording.id).status == Recording.Status.PENDING


@pytest.mark.django_db
def test_a_moderator_of_another_event_cannot_decide(festival, resident, moderator, groups):
    from accounts.models import User

    outsider = User.objects.create_user("outsider", password="outsider-pass-1")
    outsider.groups.add(groups["moderators"])
    festival["event"].moderators.add(moderator)
    recording = submit(festival, resident)
    assert api(outsider).get("/api/moderation/queue/").json()["results"] == []
    assert api(outsider).post(f"/api/moderation/recordings/{recording.id}/approve/").status_code == 403
    assert api(moderator).post(f"/api/moderation/recordings/{recording.id}/approve/").status_code == 200


@pytest.mark.django_db
def test_an_event_nobody_is_assigned_to_is_reviewed_by_nobody_until_a_curator_assigns_someone(
    festival, resident, moderator, groups
):
    """Scoping fails closed: a festival created in the curation pages has no moderator, and no moderator
    reviews it until a curator chooses them (the curation page says so)."""
    from accounts.models import User

    festival["event"].moderators.clear()
    recording = submit(festival, resident)
    assert api(moderator).get("/api/moderation/queue/").json()["results"] == []
    assert api(moderator).post(f"/api/moderation/recordings/{recording.id}/approve/").status_code == 403
    assert api(moderator).post(f"/api/moderation/recordings/{recording.id}/claim/").status_code in {403, 404}

    curator = User.objects.create_user("curator", password="curator-pass-1")
    curator.groups.add(groups["curators"])
    festival["event"].curators.add(curator)
    page = Client()
    page.force_login(curator)
    event = festival["event"]
    assert "No moderator is assigned" in page.get(f"/curation/events/{event.slug}/").content.decode()
    form = {
        "title": event.title,
        "slug": event.slug,
        "description": "",
        "publish_mode": event.publish_mode,
        "is_open": "on",
        "moderators": [str(moderator.id)],
    }
    assert page.post(f"/curation/events/{event.slug}/", form).status_code == 302
    assert list(event.moderators.all()) == [moderator]
    assert [item["id"] for item in api(moderator).get("/api/moderation/queue/").json()["results"]] == [
        str(recording.id)
    ]
    assert api(moderator).post(f"/api/moderation/recordings/{recording.id}/approve/").status_code == 200


@pytest.mark.django_db
def test_original_audio_is_served_only_to_its_owner_and_moderators(festival, resident, other_resident, moderator):
    recording = submit(festival, resident)
    url = f"/recordings/{recording.id}/audio/"
    for user, expected in ((resident, 200), (moderator, 200), (other_resident, 404)):
        client = Client()
        client.force_login(user)
        assert client.get(url).status_code == expected
    assert Client().get(url).status_code == 302  # to the login page
    assert Client().get(f"/media/{recording.original.name}").status_code == 404


@pytest.mark.django_db
def test_withdrawing_deletes_the_audio_and_hides_it(festival, resident, settings):
    recording = submit(festival, resident)
    folder = settings.MEDIA_ROOT / "recordings" / str(recording.id)
    assert any(path.is_file() for path in folder.rglob("*"))
    assert api(resident).delete(f"/api/recordings/{recording.id}/").status_code == 204
    # Storage backends may keep an empty folder: what matters is that no file of the voice remains.
    assert not any(path.is_file() for path in folder.rglob("*"))
    assert Recording.objects.get(id=recording.id).status == Recording.Status.WITHDRAWN
    assert api(resident).get("/api/recordings/").json() == []


@pytest.mark.django_db(transaction=True)
def test_an_anonymous_socket_to_a_residents_progress_stream_is_refused(festival, resident, other_resident):
    from config.asgi import application

    recording = submit(festival, resident)

    async def try_connect(headers) -> bool:
        communicator = WebsocketCommunicator(application, f"/ws/recordings/{recording.id}/", headers=headers)
        connected, _ = await communicator.connect()
        await communicator.disconnect()
        return connected

    assert asyncio.run(try_connect(ORIGIN)) is False
    assert asyncio.run(try_connect(logged_in(other_resident, "neighbour-pass-1"))) is False
    assert asyncio.run(try_connect(logged_in(resident, "resident-pass-1"))) is True


@pytest.mark.django_db(transaction=True)
def test_the_public_event_socket_refuses_unknown_events_and_foreign_origins(festival):
    import uuid

    from config.asgi import application

    async def try_connect(path, headers) -> bool:
        communicator = WebsocketCommunicator(application, path, headers=headers)
        connected, _ = await communicator.connect()
        await communicator.disconnect()
        return connected

    event_path = f"/ws/events/{festival['event'].id}/"
    assert asyncio.run(try_connect(event_path, ORIGIN)) is True
    assert asyncio.run(try_connect(f"/ws/events/{uuid.uuid4()}/", ORIGIN)) is False
    assert asyncio.run(try_connect(event_path, [(b"origin", b"http://evil.example")])) is False


@pytest.mark.django_db
def test_the_public_never_sees_pending_or_rejected_recordings(festival, resident, moderator):
    submit(festival, resident)
    rejected = submit(festival, resident)
    services.recording_reject(recording=rejected, moderator=moderator, reason="noise")
    page = Client().get(f"/events/{festival['event'].slug}/")
    assert page.status_code == 200
    assert page.context["cards"] == []
    catch_up = Client().get(f"/api/events/{festival['event'].id}/animations/").json()
    assert catch_up["animations"] == []


@pytest.mark.django_db(transaction=True)
def test_moderators_hear_of_new_readings_and_decisions_live_and_nobody_else_can_listen(
    festival, resident, moderator, other_resident
):
    from config.asgi import application

    outsider_headers = logged_in(other_resident, "neighbour-pass-1")
    moderator_headers = logged_in(moderator, "moderator-pass-1")

    async def scenario() -> list[dict]:
        outsider = WebsocketCommunicator(application, "/ws/moderation/", headers=outsider_headers)
        assert (await outsider.connect())[0] is False
        console = WebsocketCommunicator(application, "/ws/moderation/", headers=moderator_headers)
        assert (await console.connect())[0] is True
        recording = await sync_to_async(submit)(festival, resident)
        arrived = await console.receive_json_from(timeout=10)
        await sync_to_async(services.recording_reject)(recording=recording, moderator=moderator, reason="noise")
        decided = await console.receive_json_from(timeout=10)
        await console.disconnect()
        return [arrived, decided]

    messages = asyncio.run(scenario())
    assert [message["type"] for message in messages] == ["queue.changed", "queue.changed"]
    assert {message["event_id"] for message in messages} == {str(festival["event"].id)}


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_an_idle_gallery_socket_stays_open_and_still_receives(festival):
    """A gallery page may sit idle for hours between films: its consumer must not die while waiting."""
    from channels.layers import get_channel_layer

    from config.asgi import application
    from gallery.events import event_group

    async def scenario() -> dict:
        communicator = WebsocketCommunicator(application, f"/ws/events/{festival['event'].id}/", headers=ORIGIN)
        assert (await communicator.connect())[0] is True
        await asyncio.sleep(7)  # longer than the channel layer's 5 s blocking wait
        await get_channel_layer().group_send(
            event_group(festival["event"].id), {"type": "animation.progress", "in_progress": 3}
        )
        message = await communicator.receive_json_from(timeout=5)
        await communicator.disconnect()
        return message

    assert asyncio.run(scenario()) == {"type": "animation.progress", "in_progress": 3}
