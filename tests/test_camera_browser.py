"""Reading with the camera in a real browser (issue 15): Chromium's fake camera plays a real talking head
(demo/video/talking_head_1.mp4 as .y4m) and its fake microphone the Chinese poem. The resident opts in,
gives the video consent, sees the live preview and the framing guide, records and submits; the real
worker extracts the motion; the moderator sees the video in the console and approves with the keyboard;
the published film's head follows the reader's (from the film's own curves)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from contributions.models import Recording
from testkit.browser import REVIEW_SHOWN, PageWatch, chromium, log_in, wait_until
from testkit.media import CHINESE_POEM, DEMO, transcode

FILM_TIMEOUT_SECONDS = 300


@pytest.mark.browser
@pytest.mark.slow
def test_a_camera_reading_moves_the_published_film(
    tmp_path, asgi_live_server, festival, resident, moderator, celery_worker, chromium_path, settings
):
    from animation.engine.capture import MotionCurves
    from animation.engine.retarget import resample
    from animation.models import Animation

    settings.ANIMATION_SIZE = 256
    settings.RECORDING_VIDEO_KEEP_FOR_REVIEW = True  # so that the moderator sees it
    microphone = transcode(CHINESE_POEM, tmp_path / "microphone.wav", "-ac", "1", "-ar", "48000", "-c:a", "pcm_s16le")
    camera = transcode(DEMO / "video" / "talking_head_1.mp4", tmp_path / "camera.y4m", "-pix_fmt", "yuv420p", "-an")
    passage = festival["chinese"]
    base = asgi_live_server.url
    with chromium(chromium_path, fake_microphone_wav=microphone, fake_camera_y4m=camera) as browser:
        reader = browser.new_context().new_page()
        watch = PageWatch().attach(reader)
        log_in(reader, base, username="resident", password="resident-pass-1", next_path=f"/record/{passage.id}/")
        assert reader.locator("#camera-studio").is_visible()
        # The camera stays off until its own consent is ticked.
        reader.check("#camera-optin")
        assert reader.locator("#camera-frame").is_hidden()
        assert "consent" in reader.locator("#camera-guide").inner_text()
        reader.check("#camera-consent")
        reader.wait_for_function("() => document.getElementById('camera-preview').videoWidth > 0", timeout=15_000)
        reader.wait_for_function(
            "() => document.getElementById('camera-guide').classList.contains('good')", timeout=15_000
        )
        # The focus is on the consent box (where the r key types nothing): the Record button, as a reader would.
        reader.click("#record-button")
        reader.wait_for_function(
            "() => document.getElementById('record-status').textContent.includes('Recording')", timeout=15_000
        )
        reader.wait_for_timeout(6000)
        reader.click("#record-button")
        reader.wait_for_function("() => !document.getElementById('submit-button').disabled", timeout=10_000)
        reader.focus("#submit-button")
        reader.keyboard.press("Enter")
        reader.wait_for_url("**/me/recordings/", timeout=60_000)
        watch.assert_clean()

        recording = Recording.objects.get(contributor=resident)
        assert recording.video_consented_at is not None
        assert recording.video.name.endswith("video.webm"), recording.video.name
        wait_until(
            lambda: Recording.objects.filter(id=recording.id, motion_extracted_at__isnull=False).exists(),
            timeout=180,
            message="the motion was never extracted from the browser's video",
        )
        recording.refresh_from_db()
        assert recording.motion_curves["usable"], recording.motion_note
        wait_until(
            lambda: Recording.objects.filter(id=recording.id).exclude(voice_wav="").exists(),
            timeout=120,
            message="no normalised voice copy",
        )

        # The moderator sees the video beside the sound, listens, and approves with the keyboard.
        moderation = browser.new_context().new_page()
        log_in(moderation, base, username="moderator", password="moderator-pass-1", next_path="/moderation/")
        moderation.wait_for_function(REVIEW_SHOWN.format(recording.id), timeout=20_000)
        moderation.wait_for_function(
            "() => { const v = document.getElementById('review-video'); return !v.hidden && v.readyState >= 1 "
            "&& v.videoWidth > 0; }",
            timeout=20_000,
        )
        moderation.keyboard.press("s")
        moderation.wait_for_function("() => document.getElementById('player').paused === false", timeout=10_000)
        moderation.wait_for_function("() => document.getElementById('player').ended", timeout=30_000)
        moderation.keyboard.press("a")
        moderation.wait_for_function("() => !document.getElementById('empty').hidden", timeout=15_000)

    animation = wait_until(
        lambda: Animation.objects.filter(
            recording_id=recording.id, status__in=[Animation.Status.PUBLISHED, Animation.Status.FAILED]
        ).first(),
        timeout=FILM_TIMEOUT_SECONDS,
        message="no film",
    )
    assert animation.status == Animation.Status.PUBLISHED, animation.error
    recording.refresh_from_db()
    assert recording.motion_source == "video"
    assert recording.video.name == "", "the video outlived the moderator's decision"
    film_curves = json.loads((settings.MEDIA_ROOT / animation.curves.name).read_text())
    film_yaw = np.asarray(film_curves["tracks"]["head_yaw"])
    motion = MotionCurves.from_dict(recording.motion_curves)
    times = np.arange(film_yaw.size) / film_curves["fps"]
    inside = times < motion.duration - 0.2
    correlation = float(np.corrcoef(film_yaw[inside], resample(motion, "head_yaw", times[inside]))[0, 1])
    assert correlation > 0.8, f"the figure's head does not follow the reader's (r = {correlation:.2f})"
