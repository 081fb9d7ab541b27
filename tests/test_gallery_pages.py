"""Public pages and curator pages without a browser: what the public may see, filters, pages, sockets,
uploads, faces, key points and test films. Real database, Redis channel layer, engine and Pillow."""

from __future__ import annotations

import asyncio
import io
from datetime import timedelta

import pytest
from channels.testing import WebsocketCommunicator
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from PIL import Image

from animation.models import Animation
from catalogue import services as catalogue_services
from catalogue import tasks as catalogue_tasks
from catalogue.models import Painting
from contributions import services as contribution_services
from gallery import tasks
from gallery.models import PassagePreview
from testkit.media import CHINESE_POEM

ORIGIN = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]


def film(festival, resident, *, status=Animation.Status.PUBLISHED, passage="chinese", minutes_ago=0) -> Animation:
    """A recording through the real submit service and an animation row in STATUS (no render needed)."""
    upload = SimpleUploadedFile("take.flac", CHINESE_POEM.read_bytes())
    recording = contribution_services.recording_submit(contributor=resident, passage=festival[passage], upload=upload)
    published = status == Animation.Status.PUBLISHED
    return Animation.objects.create(
        recording=recording,
        event=festival["event"],
        status=status,
        published_at=timezone.now() - timedelta(minutes=minutes_ago) if published else None,
        video=f"animations/{recording.id}/film.mp4",
        poster=f"animations/{recording.id}/poster.jpg",
        subtitles=f"animations/{recording.id}/subtitles.vtt",
    )


@pytest.mark.django_db
def test_the_public_sees_only_published_films_everywhere(festival, resident):
    shown = film(festival, resident)
    hidden = [
        film(festival, resident, status=status)
        for status in (
            Animation.Status.QUEUED,
            Animation.Status.READY,
            Animation.Status.FAILED,
            Animation.Status.REMOVED,
        )
    ]
    event, client = festival["event"], Client()
    page = client.get(f"/events/{event.slug}/")
    assert [card["id"] for card in page.context["cards"]] == [str(shown.id)]
    assert page.context["in_progress"] == 1  # the queued one counts, and only as a number
    catch_up = client.get(f"/api/events/{event.id}/animations/").json()
    assert [card["id"] for card in catch_up["animations"]] == [str(shown.id)]
    wall = client.get(f"/events/{event.slug}/wall/")
    assert [card["id"] for card in wall.context["cards"]] == [str(shown.id)]
    painting = client.get(f"/paintings/{festival['painting'].id}/")
    assert [card["id"] for card in painting.context["cards"]] == [str(shown.id)]
    assert client.get(f"/animations/{shown.id}/").status_code == 200
    for animation in hidden[:-1]:
        assert client.get(f"/animations/{animation.id}/").status_code == 404
        assert str(animation.id) not in page.content.decode()
    # A film taken down after it was public: its old link says so (410), and shows nothing of it.
    gone = client.get(f"/animations/{hidden[-1].id}/")
    assert gone.status_code == 410
    assert "withdrawn" in gone.content.decode()
    assert "film.mp4" not in gone.content.decode() and "poster.jpg" not in gone.content.decode()
    assert str(hidden[-1].id) not in page.content.decode()


@pytest.mark.django_db
def test_the_grid_is_newest_first_paginated_and_filtered(festival, resident, other_resident):
    chinese = [film(festival, resident, minutes_ago=minutes) for minutes in range(20, 45)]
    english = [film(festival, other_resident, passage="english", minutes_ago=minutes) for minutes in range(5)]
    client, slug = Client(), festival["event"].slug
    first = client.get(f"/events/{slug}/")
    ids = [card["id"] for card in first.context["cards"]]
    assert len(ids) == 24
    assert ids[:5] == [str(animation.id) for animation in english]
    second = client.get(f"/events/{slug}/?page=2")
    assert [card["id"] for card in second.context["cards"]] == [str(animation.id) for animation in chinese[-6:]]
    only_english = client.get(f"/events/{slug}/?language=en")
    assert {card["language"] for card in only_english.context["cards"]} == {"en"}
    assert len(only_english.context["cards"]) == 5
    other = Painting.objects.create(event=festival["event"], title="Another", image=festival["painting"].image.name)
    assert client.get(f"/events/{slug}/?painting={other.id}").context["cards"] == []
    assert len(client.get(f"/events/{slug}/?painting={festival['painting'].id}").context["cards"]) == 24
    assert client.get(f"/events/{slug}/?painting=not-a-uuid").status_code == 400  # a filter that is not an id
    # Page links keep the filters.
    assert "language=en" not in first.content.decode()
    assert "?language=zh&amp;page=2" in client.get(f"/events/{slug}/?language=zh").content.decode()


@pytest.mark.django_db
def test_the_film_page_has_its_story_label_share_tags_and_neighbours(festival, resident):
    older, middle, newer = (film(festival, resident, minutes_ago=minutes) for minutes in (30, 20, 10))
    festival["painting"].era = "Qing dynasty"
    festival["painting"].save()
    page = Client().get(f"/animations/{middle.id}/")
    html = page.content.decode()
    assert page.context["newer"] == newer and page.context["older"] == older
    assert f"/animations/{newer.id}/" in html and f"/animations/{older.id}/" in html
    assert "Animated by AI from a reading by Li Ming." in html
    assert "Qing dynasty" in html and "Unknown" in html
    assert (
        f'<meta property="og:image" content="http://testserver/media/animations/{middle.recording_id}/poster.jpg">'
        in html
    )
    assert '<meta name="twitter:card" content="summary_large_image">' in html
    assert '<track kind="captions"' in html and "default>" in html


@pytest.mark.django_db
def test_the_film_page_reads_its_pinyin_once_and_anew_after_the_text_changes(festival, resident, monkeypatch):
    import pypinyin

    from animation.models import Alignment
    from contributions.templatetags.reading import han_run_pinyin

    asked = []
    lazy_pinyin = pypinyin.lazy_pinyin
    monkeypatch.setattr(
        pypinyin, "lazy_pinyin", lambda text, **options: asked.append(text) or lazy_pinyin(text, **options)
    )
    han_run_pinyin.cache_clear()
    shown, passage, client = film(festival, resident), festival["chinese"], Client()

    def align(text: str) -> None:
        units = [{"text": c, "start": i * 0.3, "end": i * 0.3 + 0.25} for i, c in enumerate(text) if c not in "，。"]
        Alignment.objects.update_or_create(
            recording=shown.recording, defaults={"language": "zh", "text": text, "units": units, "webvtt": "WEBVTT\n"}
        )

    align(passage.text)

    def text_shown() -> str:
        page = client.get(f"/animations/{shown.id}/").content.decode()
        return page.split('id="passage-text">', 1)[1].split("</p>", 1)[0]

    first = text_shown()
    assert "<ruby>床<rt>chuáng</rt></ruby>" in first and asked
    asked.clear()
    assert text_shown() == first
    assert asked == [], "the second view read the pinyin again"

    # An edited passage (and its new alignment) is read afresh: 长 in 长大 is zhǎng, not cháng.
    passage.text = "长大了。"
    passage.save()
    align(passage.text)
    edited = text_shown()
    assert asked == ["长大了"]
    assert "<ruby>长<rt>zhǎng</rt></ruby>" in edited and "chuáng" not in edited


@pytest.mark.django_db(transaction=True)
def test_sockets_carry_published_removed_and_only_counts_of_progress(festival, resident):
    from animation import services as animation_services
    from config.asgi import application

    ready = film(festival, resident, status=Animation.Status.READY)
    queued = film(festival, resident, status=Animation.Status.QUEUED)

    async def scenario():
        path = f"/ws/events/{festival['event'].id}/"
        writer = WebsocketCommunicator(application, path, headers=ORIGIN)
        assert (await writer.connect())[0]
        # Writing on the socket publishes nothing: the socket is read-only, the server hangs up on it.
        await writer.send_json_to({"type": "animation.published", "animation": {"id": "forged"}})
        assert (await writer.receive_output(timeout=2))["type"] == "websocket.close"
        communicator = WebsocketCommunicator(application, path, headers=ORIGIN)
        assert (await communicator.connect())[0]
        assert await communicator.receive_nothing(timeout=0.3)
        from asgiref.sync import sync_to_async

        await sync_to_async(animation_services.animation_publish)(animation=ready)
        messages = [await communicator.receive_json_from(timeout=5) for _ in range(2)]
        await sync_to_async(contribution_services.recording_withdraw)(recording=ready.recording)
        messages.append(await communicator.receive_json_from(timeout=5))
        # The counter did not change (the queued film is still being made): it is not sent again.
        assert await communicator.receive_nothing(timeout=0.5)
        await communicator.disconnect()
        return messages

    messages = asyncio.run(scenario())
    by_type = {}
    for message in messages:
        by_type.setdefault(message["type"], []).append(message)
    published = by_type["animation.published"][0]["animation"]
    assert published["id"] == str(ready.id) and published["reader"] == "Li Ming"
    assert set(published) <= {
        "id", "url", "video_url", "poster_url", "subtitles_url", "painting_id", "painting_title",
        "passage_title", "language", "reader", "published_at", "published_on",
        "passage_title_en", "painting_title_en",
    }  # fmt: skip
    assert by_type["animation.removed"] == [{"type": "animation.removed", "animation_id": str(ready.id)}]
    for progress in by_type["animation.progress"]:
        assert set(progress) == {"type", "in_progress"}  # no recording, no person: counts only
    assert by_type["animation.progress"][-1]["in_progress"] == 1  # the queued one
    assert str(queued.recording_id) not in str(messages)


# ---------------------------------------------------------------------------------------------------
# Curators


@pytest.fixture
def curator(db, groups, festival):
    from accounts.models import User

    user = User.objects.create_user("curator", password="curator-pass-1", display_name="Zhang Wei")
    user.groups.add(groups["curators"])
    festival["event"].curators.add(user)  # curators are per festival
    return user


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def image_file(size=(600, 800), image_format="PNG", mode="RGB", name="painting.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new(mode, size, "white").save(buffer, image_format)
    return SimpleUploadedFile(name, buffer.getvalue())


@pytest.mark.django_db
def test_only_curators_reach_the_curation_pages(festival, resident, moderator, curator):
    assert Client().get("/curation/").status_code == 302
    for user in (resident, moderator):
        assert logged_in(user).get("/curation/").status_code == 403
        assert logged_in(user).get(f"/curation/paintings/{festival['painting'].id}/").status_code == 403
    assert logged_in(curator).get("/curation/").status_code == 200


@pytest.mark.django_db
def test_a_curator_creates_an_event_that_asks_for_a_second_review(curator):
    client = logged_in(curator)
    response = client.post(
        "/curation/events/new/",
        {"title": "Lantern Festival", "slug": "lanterns", "starts_on": "2026-02-01", "ends_on": "2026-02-15",
         "publish_mode": "review", "is_open": "on"},
    )  # fmt: skip
    assert response.status_code == 302 and response["Location"] == "/curation/events/lanterns/"
    backwards = client.post(
        "/curation/events/new/",
        {"title": "Backwards", "slug": "backwards", "starts_on": "2026-02-15", "ends_on": "2026-02-01",
         "publish_mode": "auto"},
    )  # fmt: skip
    assert "The festival cannot end before it starts." in backwards.content.decode()
    from catalogue.models import Event

    assert Event.objects.get(slug="lanterns").publish_mode == "review"
    assert not Event.objects.filter(slug="backwards").exists()


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("notes.png", b"these are not pixels"), "not an image we can read"),
        (image_file(size=(100, 100)), "each side needs at least 256"),
        (image_file(size=(8000, 8000), mode="1"), "at most 50 million are accepted"),
        (image_file(size=(20000, 20000), mode="1"), "more pixels than is safe to open"),
        (image_file(image_format="GIF", name="painting.gif"), "not an image we can read"),
    ],
    ids=["not-an-image", "tiny", "too-many-pixels", "decompression-bomb", "gif"],
)
@pytest.mark.django_db
def test_a_painting_upload_is_refused_with_the_reason(festival, curator, upload, message, settings):
    response = logged_in(curator).post(
        f"/curation/events/{festival['event'].slug}/", {"action": "painting", "title": "Bad", "image": upload}
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Painting.objects.filter(title="Bad").exists()
    assert not list((settings.MEDIA_ROOT / "paintings").glob("*/image.*"))[1:]  # only the fixture's painting


@pytest.mark.django_db
def test_a_truncated_image_is_refused(festival):
    whole = io.BytesIO()
    Image.effect_noise((600, 600), 50).convert("RGB").save(whole, "JPEG")
    truncated = SimpleUploadedFile("cut.jpg", whole.getvalue()[: len(whole.getvalue()) // 2])
    with pytest.raises(catalogue_services.CurationError) as refused:
        catalogue_services.painting_create(event=festival["event"], title="Cut", image=truncated)
    assert refused.value.code == "format"


@pytest.mark.django_db(transaction=True)
def test_faces_are_found_shown_and_corrected_by_hand(festival, curator, demo_media):
    with open(demo_media["paintings"][0], "rb") as handle:
        painting = catalogue_services.painting_create(
            event=festival["event"], title="Detected", image=SimpleUploadedFile("upload.JPG", handle.read())
        )
    assert painting.image.name == f"paintings/{painting.id}/image.jpg"
    catalogue_tasks.painting_detect_faces(str(painting.id))  # what the render worker runs
    painting.refresh_from_db()
    assert painting.face_status == Painting.FaceStatus.FOUND, painting.face_error
    face = painting.faces[0]
    assert {"left_eye", "mouth_outer", "jaw"} <= set(face["landmarks"])
    client = logged_in(curator)
    assert "face-box" in client.get(f"/curation/paintings/{painting.id}/").content.decode()
    public_page = Client().get(f"/paintings/{painting.id}/").content.decode()
    # The public sees the painting, never the curator's face boxes or their count (issue 26).
    assert "face-box" not in public_page and "faces found" not in public_page and "face found" not in public_page

    figure = painting.figures.get()
    editor = client.get(f"/curation/paintings/{painting.id}/landmarks/?figure={figure.id}")
    assert editor.context["start"]["landmarks"] == face["landmarks"]
    moved = {name: [[x + 3, y + 2] for x, y in points] for name, points in face["landmarks"].items()}
    url = f"/curation/paintings/{painting.id}/landmarks/"
    saved = client.post(url, {"landmarks": moved, "figure": str(figure.id)}, content_type="application/json")
    assert saved.status_code == 200, saved.content
    painting.refresh_from_db()
    figure.refresh_from_db()
    assert painting.face_status == Painting.FaceStatus.MANUAL and figure.corrected
    assert figure.face["landmarks"]["jaw"][0] == pytest.approx(moved["jaw"][0])

    broken = {name: points for name, points in moved.items() if name != "mouth_outer"}
    refused = client.post(url, {"landmarks": broken, "figure": str(figure.id)}, content_type="application/json")
    assert refused.status_code == 400 and "mouth_outer" in refused.json()["error"]
    # Running detection again keeps the curator's points in charge.
    catalogue_tasks.painting_detect_faces(str(painting.id))
    painting.refresh_from_db()
    figure.refresh_from_db()
    assert painting.face_status == Painting.FaceStatus.MANUAL
    assert figure.face["landmarks"]["jaw"][0] == pytest.approx(moved["jaw"][0])
    client.post(f"/curation/figures/{figure.id}/", {"action": "remove"})
    painting.refresh_from_db()
    figure.refresh_from_db()
    assert not figure.corrected and figure.face["landmarks"] == painting.faces[0]["landmarks"]
    assert painting.face_status == Painting.FaceStatus.FOUND


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_passage_opens_only_after_a_test_film_with_a_sample_voice(festival, curator, resident):
    client = logged_in(curator)
    painting = festival["painting"]
    response = client.post(
        f"/curation/paintings/{painting.id}/",
        {"action": "passage", "title": "静夜思 (test)", "text": festival["chinese"].text, "language": "zh",
         "max_seconds": 20},
    )  # fmt: skip
    assert response.status_code == 302
    from catalogue.models import Passage

    passage = Passage.objects.get(title="静夜思 (test)")
    assert passage.is_open is False
    refused = client.post(f"/curation/passages/{passage.id}/open/", {"open": "1"}, follow=True)
    assert "Make a test film" in refused.content.decode()
    passage.refresh_from_db()
    assert passage.is_open is False

    with CHINESE_POEM.open("rb") as handle:
        client.post(f"/curation/passages/{passage.id}/", {"action": "preview", "sample_voice": handle})
    preview = PassagePreview.objects.get(passage=passage)
    tasks.passage_preview_render(str(preview.id))  # what the render worker runs
    preview.refresh_from_db()
    assert preview.status == PassagePreview.Status.READY, preview.error
    video = client.get(f"/curation/previews/{preview.id}/video/")
    assert video.status_code == 200 and b"ftyp" in b"".join(video.streaming_content)[:64]
    subtitles = b"".join(client.get(f"/curation/previews/{preview.id}/subtitles/").streaming_content).decode()
    assert subtitles.startswith("WEBVTT") and "<00:00:" in subtitles
    assert Client().get(f"/curation/previews/{preview.id}/video/").status_code == 302
    assert Client().get(f"/media/previews/{preview.id}/film.mp4").status_code == 404

    client.post(f"/curation/passages/{passage.id}/open/", {"open": "1"})
    passage.refresh_from_db()
    assert passage.is_open is True

    # The text changes after its test film: the passage closes until a new film vouches for it.
    client.post(
        f"/curation/passages/{passage.id}/",
        {"title": passage.title, "text": "床前明月光。", "language": "zh", "max_seconds": 20},
    )
    passage.refresh_from_db()
    preview.refresh_from_db()
    assert passage.is_open is False
    assert preview.status == PassagePreview.Status.FAILED and "changed after this test film" in preview.error
    refused = client.post(f"/curation/passages/{passage.id}/open/", {"open": "1"}, follow=True)
    assert "Make a test film" in refused.content.decode()


@pytest.mark.django_db
def test_the_demo_festival_queues_films_of_the_demo_voices_once(django_capture_on_commit_callbacks):
    """First `make run`: the gallery is not empty for long. load_demo submits and approves the demo
    voices through the real services; the worker renders them after the commit. A second start adds none."""
    from django.core.management import call_command

    from contributions.models import Recording

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        call_command("load_demo", stdout=io.StringIO())
    recordings = Recording.objects.filter(passage__event__slug="spring-reading")
    assert sorted(recordings.values_list("passage__title", flat=True)) == ["Holidays", "静夜思 · 李白"]
    assert set(recordings.values_list("status", flat=True)) == {Recording.Status.APPROVED}
    assert Animation.objects.filter(recording__in=recordings, status=Animation.Status.QUEUED).count() == 2
    assert callbacks, "nothing was handed to the workers"
    call_command("load_demo", stdout=io.StringIO())
    assert Recording.objects.filter(passage__event__slug="spring-reading").count() == 2


@pytest.mark.django_db
def test_the_demo_festival_says_its_paintings_are_example_images(django_capture_on_commit_callbacks):
    """Issue 26: the demo shows example portraits (anime, digital art): labelled as such, never as
    classical works; a demo festival loaded under the old titles is relabelled, not duplicated, and
    each demo painting has its smaller copies for pages at once."""
    from django.core.management import call_command

    from catalogue.models import Painting

    with django_capture_on_commit_callbacks(execute=False):
        call_command("load_demo", "--no-films", stdout=io.StringIO())
        Painting.objects.filter(title="示例：动漫风格少女").update(title="The Reader", title_en="")
        call_command("load_demo", "--no-films", stdout=io.StringIO())
    paintings = Painting.objects.filter(event__slug="spring-reading")
    assert paintings.count() == 5
    for painting in paintings:
        assert painting.title.startswith("示例") and painting.title_en.startswith("Demo image"), painting.title
        assert "not a classical Chinese figure painting" in painting.story_en and painting.era == ""
        assert painting.renditions, painting.title
    assert "demo" in paintings.first().event.title_en.lower()


@pytest.mark.django_db(transaction=True)
def test_one_address_holds_a_bounded_number_of_sockets_without_nginx_too(festival, settings):
    """Daphne alone (make run) caps the sockets of one address, across processes (the shared cache); a
    socket closed gives its place back, and another address is not affected."""
    from config.asgi import application

    settings.WEBSOCKETS_PER_ADDRESS = 2
    path = f"/ws/events/{festival['event'].id}/"

    def socket_from(address: str) -> WebsocketCommunicator:
        communicator = WebsocketCommunicator(application, path, headers=ORIGIN)
        communicator.scope["client"] = (address, 40000)
        return communicator

    async def scenario():
        held = [socket_from("203.0.113.7") for _ in range(2)]
        assert [(await socket.connect())[0] for socket in held] == [True, True]
        refused = socket_from("203.0.113.7")
        accepted, code = await refused.connect()
        assert not accepted and code == 4429
        neighbour = socket_from("198.51.100.2")
        assert (await neighbour.connect())[0]
        await held[0].disconnect()
        again = socket_from("203.0.113.7")
        assert (await again.connect())[0]
        for socket in (held[1], neighbour, again):
            await socket.disconnect()

    asyncio.run(scenario())


@pytest.mark.django_db(transaction=True)
def test_the_festival_counter_is_sent_to_the_sockets_only_when_it_changes(festival, monkeypatch):
    from gallery import events

    sent = []
    monkeypatch.setattr(events, "_send_now", lambda group, message: sent.append((group, message["in_progress"])))
    event_id = festival["event"].id
    for count in (1, 1, 1, 2, 2, 0, 0):  # progress ticks of two renders, then both done
        events.broadcast_event_progress(event_id=event_id, in_progress=count)
    group = events.event_group(event_id)
    assert sent == [(group, 1), (group, 2), (group, 0)]
