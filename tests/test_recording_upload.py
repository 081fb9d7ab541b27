"""Uploading readings through the API: what is kept, and what is refused with which message."""

from __future__ import annotations

import subprocess
import zipfile

import numpy as np
import pytest
from rest_framework.test import APIClient

from animation.engine.audio import decode_audio
from contributions.models import Recording
from testkit.media import CHINESE_POEM, ENGLISH_CLIP, ffmpeg, transcode


@pytest.fixture
def client_for():
    def make(user) -> APIClient:
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make


def upload(client: APIClient, passage, path, name: str | None = None):
    with open(path, "rb") as handle:
        return client.post(
            "/api/recordings/",
            {"passage": str(passage.id), "audio": (handle if name is None else _named(handle, name))},
            format="multipart",
        )


def _named(handle, name):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, handle.read(), content_type="audio/webm")


def assert_json_error(response, status: int) -> dict:
    """An API error is JSON with a message for the resident, never an HTML page."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    return response.json()


def assert_nothing_stored(settings):
    assert Recording.objects.count() == 0
    # Files go through the storage API, which may leave an empty folder: no file may be left.
    recordings = settings.MEDIA_ROOT / "recordings"
    assert not recordings.exists() or not [path for path in recordings.rglob("*") if path.is_file()]


@pytest.mark.django_db
def test_it_keeps_a_webm_opus_reading_with_its_measurements(tmp_path, festival, resident, client_for, settings):
    webm = transcode(CHINESE_POEM, tmp_path / "take.webm", "-c:a", "libopus", "-b:a", "48k")
    response = upload(client_for(resident), festival["chinese"], webm)
    assert response.status_code == 201, response.content
    recording = Recording.objects.get(id=response.json()["id"])
    assert recording.status == Recording.Status.PENDING
    assert recording.original.name.endswith("original.webm")
    assert abs(recording.duration_seconds - 5.47) < 0.1
    assert (settings.MEDIA_ROOT / recording.speech_wav.name).stat().st_size > 16000 * 2 * 5
    assert recording.audio_stats["silence_ratio"] < 0.6
    assert recording.audio_stats["peak_dbfs"] > -20


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("arguments", "extension", "codec"),
    [
        (("-c:a", "libmp3lame"), "mp3", "mp3"),
        (("-c:a", "flac"), "flac", "flac"),
        (("-c:a", "aac"), "m4a", "aac"),
        (("-c:a", "pcm_s16le"), "wav", "pcm_s16le"),
        (("-c:a", "libopus"), "ogg", "opus"),
        (("-c:a", "libvorbis"), "ogg", "vorbis"),
    ],
)
def test_it_accepts_every_browser_and_file_format(
    tmp_path, festival, resident, client_for, arguments, extension, codec
):
    path = transcode(ENGLISH_CLIP, tmp_path / f"take.{extension}", *arguments)
    # The name lies on purpose: the server must probe the content, never trust the extension.
    response = upload(client_for(resident), festival["english"], path, name="take.webm")
    assert response.status_code == 201, response.content
    recording = Recording.objects.get()
    # Each format is kept as what it is: its own extension and codec, whatever the name said.
    assert recording.original_extension == extension
    assert recording.original.name == f"recordings/{recording.id}/original.{extension}"
    assert recording.codec == codec
    # A stream copy without the file's tags (tests/test_upload_metadata.py): other bytes, the same sound.
    kept = tmp_path / f"kept.{extension}"
    with recording.original.open("rb") as stored:
        kept.write_bytes(stored.read())
    assert np.array_equal(decode_audio(kept), decode_audio(path))


@pytest.mark.django_db
def test_it_rejects_an_empty_file(tmp_path, festival, resident, client_for, settings):
    empty = tmp_path / "empty.webm"
    empty.write_bytes(b"")
    response = upload(client_for(resident), festival["chinese"], empty)
    assert_json_error(response, 400)
    assert "empty" in response.json()["detail"]
    assert_nothing_stored(settings)


@pytest.mark.django_db
def test_it_rejects_a_renamed_text_file(tmp_path, festival, resident, client_for, settings):
    text = tmp_path / "poem.webm"
    text.write_text("床前明月光 " * 200)
    response = upload(client_for(resident), festival["chinese"], text)
    assert_json_error(response, 400)
    assert response.json()["code"] == "not_audio"
    assert "could not read this file" in response.json()["detail"]
    assert_nothing_stored(settings)


@pytest.mark.django_db
def test_it_rejects_a_truncated_webm(tmp_path, festival, resident, client_for, settings):
    webm = transcode(CHINESE_POEM, tmp_path / "take.webm", "-c:a", "libopus")
    truncated = tmp_path / "truncated.webm"
    truncated.write_bytes(webm.read_bytes()[:300])
    response = upload(client_for(resident), festival["chinese"], truncated)
    assert_json_error(response, 400)
    assert response.json()["code"] in {"not_audio", "too_short"}
    assert_nothing_stored(settings)


@pytest.mark.django_db
def test_it_rejects_a_two_hour_file_that_unpacks_from_a_tiny_upload_without_decoding_it(
    tmp_path, festival, resident, client_for, settings
):

    long_file = tmp_path / "long.flac"
    # FLAC of digital silence is tiny (0.7 MB for two hours) and quick to make, yet a real two-hour file.
    subprocess.run(
        [
            ffmpeg(),
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "anullsrc=r=8000:cl=mono",
            "-t",
            "7200",
            "-c:a",
            "flac",
            str(long_file),
        ],
        check=True,
    )
    response = upload(client_for(resident), festival["chinese"], long_file)
    assert_json_error(response, 400)
    assert response.json()["code"] == "too_long"
    assert "30 seconds" in response.json()["detail"]
    assert_nothing_stored(settings)


@pytest.mark.django_db
def test_it_rejects_a_file_over_the_size_cap(tmp_path, festival, resident, client_for, settings):
    settings.RECORDING_MAX_BYTES = 100_000
    bomb = tmp_path / "bomb.zip"
    # Highly compressible padding: small on the wire for a zip, large once written out as an upload.
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("audio.wav", b"\0" * 200_000)
    response = upload(client_for(resident), festival["chinese"], bomb)
    assert_json_error(response, 413)
    assert "larger than" in response.json()["detail"]
    assert_nothing_stored(settings)


@pytest.mark.django_db
def test_it_rejects_a_silent_recording(tmp_path, festival, resident, client_for, settings):

    silent = tmp_path / "silent.wav"
    subprocess.run(
        [ffmpeg(), "-v", "error", "-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-t", "4", str(silent)], check=True
    )
    response = upload(client_for(resident), festival["chinese"], silent)
    assert_json_error(response, 400)
    assert response.json()["code"] == "silent"
    assert "could not hear a voice" in response.json()["detail"]
    assert_nothing_stored(settings)


@pytest.mark.django_db
def test_it_rejects_an_upload_for_a_closed_passage(tmp_path, festival, resident, client_for, settings):
    festival["chinese"].is_open = False
    festival["chinese"].save()
    response = upload(client_for(resident), festival["chinese"], CHINESE_POEM)
    assert_json_error(response, 409)
    assert_nothing_stored(settings)


@pytest.mark.django_db
def test_it_requires_consent_before_keeping_a_voice(festival, client_for, settings):
    from accounts.models import User

    newcomer = User.objects.create_user("newcomer", password="newcomer-pass-1")
    response = upload(client_for(newcomer), festival["chinese"], CHINESE_POEM)
    assert_json_error(response, 403)
    assert "agree" in response.json()["detail"]
    assert_nothing_stored(settings)


@pytest.mark.django_db
def test_a_resident_cannot_see_or_delete_another_residents_recording(festival, resident, other_resident, client_for):
    created = upload(client_for(resident), festival["chinese"], CHINESE_POEM).json()
    stranger = client_for(other_resident)
    assert stranger.get(f"/api/recordings/{created['id']}/").status_code == 404
    assert stranger.delete(f"/api/recordings/{created['id']}/").status_code == 404
    assert stranger.get("/api/recordings/").json() == []
    assert Recording.objects.get(id=created["id"]).status == Recording.Status.PENDING


@pytest.mark.django_db
def test_anonymous_visitors_cannot_upload(festival):
    with open(CHINESE_POEM, "rb") as handle:
        response = APIClient().post("/api/recordings/", {"passage": str(festival["chinese"].id), "audio": handle})
    assert response.status_code in {401, 403}


@pytest.mark.django_db
def test_it_rejects_an_upload_for_a_passage_that_does_not_exist(resident, client_for, settings):
    import uuid

    with open(CHINESE_POEM, "rb") as handle:
        response = client_for(resident).post(
            "/api/recordings/", {"passage": str(uuid.uuid4()), "audio": handle}, format="multipart"
        )
    assert_json_error(response, 400)
    assert "passage" in response.json()
    assert_nothing_stored(settings)


@pytest.mark.django_db
def test_api_errors_are_json_for_a_missing_file_a_wrong_method_and_an_unknown_recording(resident, client_for):
    import uuid

    client = client_for(resident)
    assert "audio" in assert_json_error(client.post("/api/recordings/", {}, format="multipart"), 400)
    assert "detail" in assert_json_error(client.put("/api/recordings/", {}, format="json"), 405)
    assert "detail" in assert_json_error(client.get(f"/api/recordings/{uuid.uuid4()}/"), 404)
    assert "detail" in assert_json_error(APIClient().get("/api/recordings/"), 403)


@pytest.mark.django_db
def test_a_retried_upload_whose_answer_was_lost_finds_the_reading_it_made(festival, resident, client_for, settings):
    client = client_for(resident)
    headers = {"HTTP_IDEMPOTENCY_KEY": "take-7f3a"}
    with open(CHINESE_POEM, "rb") as handle:
        first = client.post(
            "/api/recordings/", {"passage": str(festival["chinese"].id), "audio": handle}, format="multipart", **headers
        )
    assert first.status_code == 201, first.content
    with open(CHINESE_POEM, "rb") as handle:
        again = client.post(
            "/api/recordings/", {"passage": str(festival["chinese"].id), "audio": handle}, format="multipart", **headers
        )
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert Recording.objects.filter(contributor=resident).count() == 1
    files = [path for path in (settings.MEDIA_ROOT / "recordings").rglob("*") if path.is_file()]
    assert len(files) == 2, files  # the first upload's original and speech copy; the retry stored nothing
    # Without a key (an API client that sends none), each upload is a reading of its own.
    assert upload(client, festival["chinese"], CHINESE_POEM).status_code == 201
    assert Recording.objects.filter(contributor=resident).count() == 2
    with open(CHINESE_POEM, "rb") as handle:
        bad = client.post(
            "/api/recordings/",
            {"passage": str(festival["chinese"].id), "audio": handle},
            format="multipart",
            HTTP_IDEMPOTENCY_KEY="../../etc/passwd",
        )
    assert_json_error(bad, 400)


@pytest.mark.django_db
def test_the_same_take_sent_twice_at_once_is_kept_once(festival, resident, settings, monkeypatch):
    """Two requests with one key race past the first look-up: the database's unique key keeps one."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from contributions import services

    first = services.recording_submit(
        contributor=resident,
        passage=festival["chinese"],
        upload=SimpleUploadedFile("a.flac", CHINESE_POEM.read_bytes()),
        idempotency_key="same-take",
    )
    # The second request looked before the first was committed: it found nothing.
    monkeypatch.setattr(services, "recording_for_idempotency_key", _found_only_on_second_look())
    second = services.recording_submit(
        contributor=resident,
        passage=festival["chinese"],
        upload=SimpleUploadedFile("a.flac", CHINESE_POEM.read_bytes()),
        idempotency_key="same-take",
    )
    assert second.id == first.id and Recording.objects.count() == 1
    files = [path for path in (settings.MEDIA_ROOT / "recordings").rglob("*") if path.is_file()]
    assert len(files) == 2, files


def _found_only_on_second_look():
    looks = []

    def look(*, contributor, key):
        looks.append(key)
        if len(looks) == 1:
            return None
        return Recording.objects.filter(contributor=contributor, idempotency_key=key).first()

    return look
