"""Every file of the spine in S3-compatible object storage: a real SeaweedFS server, no mock.

Upload -> approve -> align -> render with STORAGES pointing at a bucket: recordings, paintings and films
are objects, nothing lands on the local disk, and the published film plays from a presigned URL with
byte ranges (what a phone asks for) while an unsigned request is refused.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import av
import pytest
from rest_framework.test import APIClient

from testkit.media import CHINESE_POEM


@pytest.fixture
def s3_storage(seaweedfs, settings):
    bucket = f"shuohua-{uuid.uuid4().hex[:12]}"
    seaweedfs.create_bucket(bucket)
    settings.STORAGES = {**settings.STORAGES, "default": seaweedfs.storage_settings(bucket)}
    return {"server": seaweedfs, "bucket": bucket}


def bucket_keys(s3_storage) -> list[str]:
    client = s3_storage["server"].client()
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=s3_storage["bucket"])
    return sorted(item["Key"] for page in pages for item in page.get("Contents", []))


def test_the_storage_api_round_trips_objects_in_seaweedfs(s3_storage):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from core import storage

    name = default_storage.save("animations/probe/film.mp4", ContentFile(b"\0\0\0\x18ftypisom" + b"x" * 5000))
    assert name == "animations/probe/film.mp4"
    assert bucket_keys(s3_storage) == [name]
    assert storage.list_names("animations/probe") == [name]
    assert storage.delete_prefix("animations/probe") == 1
    assert bucket_keys(s3_storage) == []


@pytest.mark.slow
def test_a_reading_becomes_a_published_film_with_every_file_in_object_storage(
    s3_storage, festival, resident, moderator, celery_worker, settings, tmp_path
):
    from animation.models import Animation

    resident_client, moderator_client = APIClient(), APIClient()
    resident_client.force_authenticate(resident)
    moderator_client.force_authenticate(moderator)
    with CHINESE_POEM.open("rb") as handle:
        response = resident_client.post(
            "/api/recordings/", {"passage": str(festival["chinese"].id), "audio": handle}, format="multipart"
        )
    assert response.status_code == 201, response.content
    recording_id = response.json()["id"]
    response = moderator_client.post(f"/api/moderation/recordings/{recording_id}/approve/")
    assert response.status_code == 200, response.content

    animation = Animation.objects.get(recording_id=recording_id)
    deadline = time.monotonic() + 300
    while animation.status not in (Animation.Status.PUBLISHED, Animation.Status.FAILED):
        assert time.monotonic() < deadline, f"still {animation.status}"
        time.sleep(0.3)
        animation.refresh_from_db()
    assert animation.status == Animation.Status.PUBLISHED, animation.error

    keys = bucket_keys(s3_storage)
    film_folder = f"animations/{animation.id}/"
    assert sorted(key for key in keys if key.startswith(film_folder)) == [
        film_folder + name for name in ("curves.json", "film.mp4", "poster.jpg", "subtitles.vtt")
    ]
    assert any(key.startswith(f"recordings/{recording_id}/original.") for key in keys), keys
    assert f"recordings/{recording_id}/voice48k.wav" in keys, keys
    assert festival["painting"].image.name in keys
    on_disk = [path for path in Path(settings.MEDIA_ROOT).rglob("*") if path.is_file()]
    assert on_disk == [], f"files written to the local disk instead of storage: {on_disk}"

    # The film plays from a presigned URL, by byte ranges.
    url = animation.video.url
    assert url.startswith(s3_storage["server"].endpoint) and "X-Amz-Signature=" in url
    size = animation.video.size
    request = urllib.request.Request(url, headers={"Range": "bytes=0-1023"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        assert response.status == 206
        assert response.headers["Content-Range"] == f"bytes 0-1023/{size}"
        head = response.read()
    assert len(head) == 1024 and head[4:8] == b"ftyp"
    request = urllib.request.Request(url, headers={"Range": f"bytes={size - 100}-"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        assert response.status == 206 and len(response.read()) == 100
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(url.split("?")[0], timeout=10)  # noqa: S310
    assert refused.value.code == 403

    # Pages never hand out the bucket's URL: the card points at /media/, which the platform answers from
    # the bucket by byte ranges, checking who asks; a withdrawn film is gone from there at once.
    from django.test import Client

    from contributions import services
    from gallery.events import animation_card

    card = animation_card(animation)
    assert card["video_url"] == f"/media/animations/{animation.id}/film.mp4", card
    assert "X-Amz" not in str(card)
    played = Client().get(card["video_url"], HTTP_RANGE="bytes=0-1023")
    assert played.status_code == 206 and b"".join(played.streaming_content)[4:8] == b"ftyp"
    local = tmp_path / "film.mp4"
    with animation.video.open("rb") as source:
        local.write_bytes(source.read())
    with av.open(str(local)) as container:
        assert {stream.type: stream.codec_context.name for stream in container.streams} == {
            "video": "h264",
            "audio": "aac",
        }
    services.recording_withdraw(recording=animation.recording)
    assert Client().get(card["video_url"]).status_code == 404
