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


def tile_urls_as_the_viewer_builds_them(tiles_url: str, descriptor: dict) -> dict[str, str]:
    """static/js/deep_zoom.js: data-tiles-url + "/<level>/<column>_<row>.<format>", for every tile of the
    smallest level and the first row of the largest: {stored name: address}."""
    urls = {}
    first, last = descriptor["levels"][0], descriptor["levels"][-1]
    wanted = [(first, column, row) for column in range(first["columns"]) for row in range(first["rows"])]
    wanted += [(last, column, 0) for column in range(last["columns"])]
    for level, column, row in wanted:
        tail = f"{level['level']}/{column}_{row}.{descriptor['format']}"
        urls[f"{descriptor['prefix']}/{tail}"] = f"{tiles_url}/{tail}"
    return urls


@pytest.mark.django_db(transaction=True)
def test_a_scrolls_deep_zoom_tiles_come_from_a_bucket_that_signs_each_object(s3_storage, festival, settings, tmp_path):
    """With SERVE_MEDIA off, pages hand out the bucket's presigned URLs, one per object: the tiles'
    folder has no URL a tile's name can be appended to, so the viewer's tiles go through the platform's
    tile route, which redirects each to its own presigned URL."""
    import re

    from django.test import Client

    import config.urls  # noqa: F401  (read once, with the suite's SERVE_MEDIA: it decides the /media/ route)
    from catalogue import services, tasks
    from core.media import served_name_url
    from tests.test_painting_tiles import upload

    settings.SERVE_MEDIA = False
    painting = services.painting_create(event=festival["event"], title="Scroll", image=upload(tmp_path, 1500, 300))
    tasks.painting_make_tiles(str(painting.id))
    painting.refresh_from_db()
    descriptor = painting.tiles
    keys = bucket_keys(s3_storage)
    assert f"{descriptor['prefix']}/tiles.json" in keys
    client = s3_storage["server"].client()

    # What the page handed out before: the folder's own presigned URL, with a tile's name appended.
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(served_name_url(descriptor["prefix"]) + "/0/0_0.jpg", timeout=10)  # noqa: S310
    assert refused.value.code in (400, 403)

    page = Client().get(f"/paintings/{painting.id}/").content.decode()
    tiles_url = re.search(r'data-tiles-url="([^"]*)"', page).group(1)
    assert tiles_url == f"/paintings/{painting.id}/tiles/{descriptor['prefix'].rsplit('/', 1)[1]}"
    urls = tile_urls_as_the_viewer_builds_them(tiles_url, descriptor)
    assert len(urls) >= 7 and all(name in keys for name in urls)
    for name, url in urls.items():
        response = Client().get(url)
        assert response.status_code == 302, (url, response.status_code)
        location = response["Location"]
        assert location.startswith(s3_storage["server"].endpoint) and "X-Amz-Signature=" in location
        expires = int(re.search(r"X-Amz-Expires=(\d+)", location).group(1))
        max_age = int(re.search(r"max-age=(\d+)", response["Cache-Control"]).group(1))
        assert 0 < max_age < expires and "public" in response["Cache-Control"]
        with urllib.request.urlopen(location, timeout=10) as tile:  # noqa: S310
            assert tile.status == 200
            body = tile.read()
        assert body == client.get_object(Bucket=s3_storage["bucket"], Key=name)["Body"].read()
        assert body[:3] == b"\xff\xd8\xff"  # a JPEG

    # Only tiles of the painting's current pyramid: nothing else of the bucket is signed for anyone.
    folder = descriptor["prefix"].rsplit("/", 1)[1]
    last = descriptor["levels"][-1]
    for wrong in (
        f"/paintings/{painting.id}/tiles/{folder}/{last['level'] + 1}/0_0.jpg",
        f"/paintings/{painting.id}/tiles/{folder}/{last['level']}/{last['columns']}_0.jpg",
        f"/paintings/{painting.id}/tiles/{folder}/{last['level']}/0_{last['rows']}.jpg",
        f"/paintings/{painting.id}/tiles/{folder}/0/0_0.png",
        f"/paintings/{painting.id}/tiles/0123456789ab/0/0_0.jpg",
        f"/paintings/{uuid.uuid4()}/tiles/{folder}/0/0_0.jpg",
    ):
        assert Client().get(wrong).status_code == 404, wrong
    assert Client().post(next(iter(urls.values()))).status_code == 405


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_chromium_draws_a_scrolls_tiles_from_the_bucket_through_the_tile_route(
    s3_storage, festival, settings, tmp_path, asgi_live_server, chromium_path
):
    """The public page of a scroll in Chromium, its tiles from the bucket: each tile asked of the platform,
    redirected to its presigned URL and drawn, the page's content policy allowing the bucket (as
    config/settings.py does with STORAGE_BACKEND=s3), no failed request or console error."""
    import copy

    import config.urls  # noqa: F401  (read once, with the suite's SERVE_MEDIA: it decides the /media/ route)
    from catalogue import services, tasks
    from testkit.browser import LAPTOP, PageWatch, chromium
    from tests.test_deep_zoom_browser import wait_for_tiles
    from tests.test_painting_tiles import upload

    endpoint = s3_storage["server"].endpoint
    settings.SERVE_MEDIA = False
    policy = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
    for directive in ("img-src", "media-src", "connect-src"):
        policy["DIRECTIVES"][directive] = [*policy["DIRECTIVES"][directive], endpoint]
    settings.CONTENT_SECURITY_POLICY = policy
    painting = services.painting_create(event=festival["event"], title="Scroll", image=upload(tmp_path, 6000, 600))
    tasks.painting_make_tiles(str(painting.id))
    tasks.painting_make_renditions(str(painting.id))
    with chromium(chromium_path) as browser:
        page = browser.new_page(**LAPTOP)
        watch = PageWatch().attach(page)
        redirects, drawn = [], []
        page.on("response", lambda response: (redirects if response.status == 302 else drawn).append(response.url))
        page.goto(f"{asgi_live_server.url}/paintings/{painting.id}/", wait_until="networkidle")
        wait_for_tiles(page, "[data-deep-zoom]")
        page.keyboard.press("+")  # a closer level: tiles not asked for yet
        page.wait_for_timeout(300)
        wait_for_tiles(page, "[data-deep-zoom]")
        watch.assert_clean()
    tile_route = f"{asgi_live_server.url}/paintings/{painting.id}/tiles/"
    asked = [url for url in redirects if url.startswith(tile_route)]
    from_bucket = [url for url in drawn if url.startswith(f"{endpoint}/{s3_storage['bucket']}/paintings/")]
    assert len(asked) >= 2, redirects
    assert len(from_bucket) >= len(asked) and all("X-Amz-Signature=" in url for url in from_bucket)
