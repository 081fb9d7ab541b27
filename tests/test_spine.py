"""The whole spine on real components: upload -> approve -> Celery (align, animate) -> Channels -> MP4.

Real Redis (broker and channel layer), a real Celery worker, real Whisper, the real engine and ffmpeg.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import av
import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from rest_framework.test import APIClient

from testkit.media import CHINESE_POEM, transcode

PUBLISH_TIMEOUT_SECONDS = 300


def stream_facts(path: Path) -> dict:
    """Codec and duration of each stream, read with FFmpeg's own libraries (PyAV) as ffprobe would."""
    with av.open(str(path)) as container:
        facts = {}
        for stream in container.streams:
            duration = float(stream.duration * stream.time_base) if stream.duration else None
            facts[stream.type] = {"codec": stream.codec_context.name, "duration": duration}
        facts["format"] = container.format.name
        return facts


@pytest.mark.slow
def test_a_reading_travels_from_upload_to_the_live_gallery(
    tmp_path, festival, resident, moderator, celery_worker, settings
):
    from animation.models import Animation
    from config.asgi import application
    from contributions.models import Recording

    event = festival["event"]
    take = transcode(CHINESE_POEM, tmp_path / "take.webm", "-c:a", "libopus", "-b:a", "64k")

    resident_client, moderator_client = APIClient(), APIClient()
    resident_client.force_authenticate(resident)
    moderator_client.force_authenticate(moderator)

    def upload() -> dict:
        with take.open("rb") as handle:
            response = resident_client.post(
                "/api/recordings/", {"passage": str(festival["chinese"].id), "audio": handle}, format="multipart"
            )
        assert response.status_code == 201, response.content
        return response.json()

    def approve(recording_id: str) -> None:
        response = moderator_client.post(f"/api/moderation/recordings/{recording_id}/approve/")
        assert response.status_code == 200, response.content

    async def scenario() -> tuple[dict, list[dict], float, dict]:
        communicator = WebsocketCommunicator(
            application, f"/ws/events/{event.id}/", headers=[(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]
        )
        connected, _ = await communicator.connect()
        assert connected
        recording = await sync_to_async(upload)()
        await sync_to_async(approve)(recording["id"])
        approved_at = time.monotonic()
        progress_messages = []
        try:
            while True:
                message = await communicator.receive_json_from(timeout=PUBLISH_TIMEOUT_SECONDS)
                if message["type"] == "animation.published":
                    seconds = time.monotonic() - approved_at
                    # The counter's last word comes right after the publication: nothing in progress.
                    after = await communicator.receive_json_from(timeout=30)
                    return message, progress_messages, seconds, after
                assert message["type"] == "animation.progress"
                progress_messages.append(message)
        finally:
            await communicator.disconnect()

    published, progress_messages, seconds, after = asyncio.run(scenario())

    animation = Animation.objects.select_related("recording").get(id=published["animation"]["id"])
    assert animation.status == Animation.Status.PUBLISHED, animation.error
    assert animation.recording.status == Recording.Status.APPROVED
    assert published["animation"]["video_url"].endswith("/film.mp4")
    assert published["animation"]["reader"] == "Li Ming"
    # One film in the making from approval to publication (queued, aligning, rendering...), then none:
    # the counter is sent when it changes, not at every tick of the render.
    assert progress_messages == [{"type": "animation.progress", "in_progress": 1}], progress_messages
    assert after == {"type": "animation.progress", "in_progress": 0}, after

    film = settings.MEDIA_ROOT / animation.video.name
    facts = stream_facts(film)
    assert facts["video"]["codec"] == "h264"
    assert facts["audio"]["codec"] == "aac"
    clip_seconds = animation.recording.duration_seconds
    assert abs(facts["audio"]["duration"] - clip_seconds) <= 0.1, (facts, clip_seconds)
    assert abs(facts["video"]["duration"] - clip_seconds) <= 0.1, (facts, clip_seconds)
    assert (settings.MEDIA_ROOT / animation.poster.name).stat().st_size > 5_000
    subtitles = (settings.MEDIA_ROOT / animation.subtitles.name).read_text(encoding="utf-8")
    assert subtitles.startswith("WEBVTT") and "床" in subtitles
    print(f"approval -> animation.published: {seconds:.2f} s; stages {animation.stage_seconds}")
