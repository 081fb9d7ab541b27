"""Media files: who may fetch what, no way around it with "..", byte ranges streamed from storage.

Every file asked for here exists (a real reading through the upload checks, real films encoded by
ffmpeg): a 404 means "refused", not "nothing there".
"""

from __future__ import annotations

import asyncio
import io
import subprocess
import wave

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import AsyncClient, Client

from animation.models import Animation
from core import media
from testkit.media import CHINESE_POEM, ffmpeg
from testkit.roles import build_world


@pytest.fixture
def world(festival, resident, other_resident, groups):
    return build_world(festival, resident, other_resident, groups)


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


# Every way we know to spell "go up one folder" in a URL path.
UP = ["..", "%2e%2e", "%2E%2E", ".%2e", "%252e%252e", "..%5c..", "..\\.."]
SLASH = ["/", "%2F", "%2f", "%252F"]


def traversal_urls(public_prefix: str, target: str) -> list[str]:
    """URLs that start in PUBLIC_PREFIX and climb back to the media root, then down to TARGET."""
    depth = public_prefix.count("/") + 1
    urls = []
    for up in UP:
        for slash in SLASH:
            climb = slash.join([up] * depth)
            urls.append(f"/media/{public_prefix}{slash}{climb}{slash}{target}")
    return urls


@pytest.mark.django_db
def test_no_spelling_of_dot_dot_reaches_a_private_file_from_any_prefix(world):
    original = world.recording_a.original.name  # recordings/<id>/original.flac
    removed_film = f"animations/{world.film_a.id}/film.mp4"
    assert default_storage.exists(original)
    assert default_storage.exists(removed_film)
    secret = default_storage.open(original).read()[:64]
    prefixes = [
        f"paintings/{world.painting_x.id}",
        f"animations/{world.film_b.id}",  # a published film's folder
        "paintings",
        "animations",
        f"recordings/{world.recording_a.id}",
    ]
    client = Client()
    tried = 0
    for prefix in prefixes:
        for target in (original, removed_film):
            for url in traversal_urls(prefix, target):
                response = client.get(url)
                tried += 1
                assert response.status_code == 404, url
                assert secret not in body(response), url
    assert tried == len(prefixes) * 2 * len(UP) * len(SLASH)
    # Direct names of private folders are refused too, even to the reader who owns them.
    owner = world.client("resident_a")
    for url in (f"/media/{original}", f"/media/previews/{world.film_a.id}/film.mp4", "/media/", "/media/paintings/"):
        assert owner.get(url).status_code == 404, url
    # The same requests without the detour do work: what is refused above exists and is servable.
    assert client.get(f"/media/animations/{world.film_b.id}/film.mp4").status_code == 200
    assert client.get(f"/media/{world.painting_x.image.name}").status_code == 200


@pytest.mark.parametrize(
    "raw",
    ["a/../b", "a/%2e%2e/b", "a%2F..%2Fb", "a/%252e%252e/b", "a\\..\\b", "a//b", "a/./b", "/a", "a/b\x00", ""],
)
def test_media_names_that_climb_or_hide_are_refused(raw):
    assert media.clean_media_name(raw) is None


def test_ordinary_media_names_are_kept():
    assert media.clean_media_name("paintings/1/image.jpg") == "paintings/1/image.jpg"


@pytest.mark.django_db
def test_an_unpublished_film_is_seen_only_by_its_reader_curators_and_its_events_moderators(world):
    for name in ("film.mp4", "poster.jpg", "subtitles.vtt"):
        url = f"/media/animations/{world.film_a.id}/{name}"
        expected = {
            "anonymous": 404,
            "resident_a": 200,  # the reader watches their own film before it is published
            "resident_b": 404,
            "moderator_x": 200,
            "moderator_y": 404,  # moderates another event
            "curator": 200,
        }
        seen = {role: world.client(role).get(url).status_code for role in expected}
        assert seen == expected, name
    Animation.objects.filter(id=world.film_a.id).update(status=Animation.Status.PUBLISHED)
    assert Client().get(f"/media/animations/{world.film_a.id}/film.mp4").status_code == 200
    # The motion curves (from the reader's face, for a camera reading) are never served, to anyone.
    curves = f"/media/animations/{world.film_a.id}/curves.json"
    assert world.film_a.curves.name.endswith("curves.json")
    assert {role: world.client(role).get(curves).status_code for role in ("anonymous", "resident_a", "curator")} == {
        "anonymous": 404,
        "resident_a": 404,
        "curator": 404,
    }
    Animation.objects.filter(id=world.film_a.id).update(status=Animation.Status.REMOVED)
    assert Client().get(f"/media/animations/{world.film_a.id}/film.mp4").status_code == 404


@pytest.mark.django_db
def test_a_reader_watches_their_own_unpublished_film_and_it_plays(world):
    response = world.client("resident_a").get(f"/media/animations/{world.film_a.id}/film.mp4")
    assert response.status_code == 200
    assert response["Content-Type"] == "video/mp4"
    data = body(response)
    assert int(response["Content-Length"]) == len(data) == default_storage.size(world.film_a.video.name)
    import av

    with av.open(io.BytesIO(data)) as container:
        assert {stream.type for stream in container.streams} == {"video", "audio"}
        assert float(container.duration / 1_000_000) == pytest.approx(2.0, abs=0.3)


@pytest.mark.django_db
def test_videos_answer_byte_ranges(world):
    url = f"/media/animations/{world.film_b.id}/film.mp4"
    whole = Client().get(url)
    assert whole["Accept-Ranges"] == "bytes"
    assert whole["Content-Type"] == "video/mp4"
    data = body(whole)
    size = len(data)
    assert size > 1000
    part = Client().get(url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part["Content-Range"] == f"bytes 100-199/{size}"
    assert part["Content-Length"] == "100"
    assert body(part) == data[100:200]
    assert body(Client().get(url, headers={"Range": "bytes=-10"})) == data[-10:]
    assert body(Client().get(url, headers={"Range": f"bytes={size - 5}-"})) == data[-5:]
    assert Client().get(url, headers={"Range": f"bytes={size}-"}).status_code == 416
    # Ranges nobody's player sends are ignored, never a 500: the whole file is the answer.
    for hostile in ("bytes=" + "9" * 4300 + "-", "bytes=0-" + "1" * 5000, "bytes=\u0661\u0662-", "bytes=1-2-3"):
        answer = Client().get(url, headers={"Range": hostile})
        assert answer.status_code == 200, hostile[:20]
        assert answer["Content-Length"] == str(size)


@pytest.mark.django_db(transaction=True)
def test_under_asgi_a_range_is_streamed_in_chunks_never_read_whole(festival, settings):
    """Django gathers a synchronous iterator into one list under ASGI: ours must be asynchronous."""
    from django.core.files.base import ContentFile

    big = bytes(range(256)) * 4096  # 1 MiB
    name = default_storage.save(f"paintings/{festival['painting'].id}/big.png", ContentFile(big))

    async def fetch():
        response = await AsyncClient().get(f"/media/{name}", headers={"Range": "bytes=1000-800999"})
        chunks = [chunk async for chunk in response.streaming_content]
        return response, chunks

    response, chunks = asyncio.run(fetch())
    assert response.status_code == 206
    assert b"".join(chunks) == big[1000:801000]
    assert len(chunks) >= 800_000 // media.CHUNK_BYTES
    assert max(len(chunk) for chunk in chunks) <= media.CHUNK_BYTES


def no_duration_webm(tmp_path):
    """Opus in WebM written to a pipe, as a browser's MediaRecorder writes it: no duration in the header."""
    webm = subprocess.run(
        [ffmpeg(), "-v", "error", "-i", str(CHINESE_POEM), "-c:a", "libopus", "-f", "webm", "pipe:1"],
        check=True,
        capture_output=True,
    ).stdout
    return webm


@pytest.mark.django_db
def test_moderators_and_owners_hear_the_voice_copy_with_its_true_duration(festival, resident, moderator, tmp_path):
    import av

    from contributions.services import recording_submit
    from contributions.tasks import recording_prepare_voice

    webm = no_duration_webm(tmp_path)
    with av.open(io.BytesIO(webm)) as container:
        assert container.duration is None  # the premise: the original tells a player nothing
    recording = recording_submit(
        contributor=resident, passage=festival["chinese"], upload=SimpleUploadedFile("take.webm", webm)
    )
    url = f"/recordings/{recording.id}/audio/"
    moderator_client, owner_client = Client(), Client()
    moderator_client.force_login(moderator)
    owner_client.force_login(resident)
    # Until the voice copy exists, the original is served.
    before = moderator_client.get(url)
    assert before["Content-Type"] == "audio/webm"
    # The kept original: the upload's own packets, without its tags (a stream copy, issue 19).
    served = body(before)
    with recording.original.open("rb") as kept:
        assert served == kept.read()
    assert served[:4] == webm[:4]

    recording_prepare_voice(str(recording.id))
    recording.refresh_from_db()
    assert recording.voice_wav.name.endswith("voice48k.wav")
    for client in (moderator_client, owner_client):
        response = client.get(url)
        assert response.status_code == 200
        assert response["Content-Type"] == "audio/wav"
        data = body(response)
        assert int(response["Content-Length"]) == len(data)
        with wave.open(io.BytesIO(data)) as served:
            served_seconds = served.getnframes() / served.getframerate()
        assert served_seconds == pytest.approx(recording.duration_seconds, abs=0.1)
    part = moderator_client.get(url, headers={"Range": "bytes=0-11"})
    assert part.status_code == 206
    assert body(part)[:4] == b"RIFF"
