"""The moderation console's player in a real browser (issue 26), on a laptop, a 1080p screen and a phone:
what a reading does not have stays hidden (no empty video player for a voice-only reading, no reject
reasons before `r`), and a camera reading's picture and sound play as one reading (play, pause, seek and
speed act on both)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from contributions import services
from contributions.models import Recording
from testkit.browser import LAPTOP, PHONE, REVIEW_SHOWN, WALL_HD, chromium, horizontal_overflow, log_in
from testkit.media import CHINESE_POEM, DEMO, transcode

VIEWPORTS = pytest.mark.parametrize("screen", [LAPTOP, WALL_HD, PHONE], ids=["1366x768", "1920x1080", "phone"])
# How far apart picture and sound may be, in seconds: a frame or two, plus the page's polling.
IN_SYNC_SECONDS = 0.35
MEDIA_TIMES = """() => {
  const player = document.getElementById('player'), video = document.getElementById('review-video');
  return {player: player.currentTime, video: video.currentTime, playerPaused: player.paused,
          videoPaused: video.paused, videoRate: video.playbackRate, playerRate: player.playbackRate,
          videoMuted: video.muted, playerMuted: player.muted};
}"""
BOTH_AT_SAME_TIME = f"""() => {{
  const player = document.getElementById('player'), video = document.getElementById('review-video');
  return Math.abs(player.currentTime - video.currentTime) < {IN_SYNC_SECONDS};
}}"""


def open_console(browser, base_url: str, screen: dict):
    page = browser.new_context(**screen).new_page()
    log_in(page, base_url, username="moderator", password="moderator-pass-1", next_path="/moderation/")
    return page


@VIEWPORTS
@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_voice_reading_shows_no_video_player_and_no_reasons_before_r(
    asgi_live_server, festival, resident, moderator, chromium_path, screen
):
    recording = services.recording_submit(
        contributor=resident,
        passage=festival["chinese"],
        upload=SimpleUploadedFile(CHINESE_POEM.name, CHINESE_POEM.read_bytes()),
    )
    with chromium(chromium_path) as browser:
        page = open_console(browser, asgi_live_server.url, screen)
        page.wait_for_function(REVIEW_SHOWN.format(recording.id), timeout=15_000)
        # A voice-only reading: no empty video player, no camera note; the reasons wait for `r`.
        shown = {name: page.locator(name).is_visible() for name in ("#review-video", "#review-video-note", "#reasons")}
        assert not any(shown.values()), f"shown although hidden: {shown}"
        page.keyboard.press("r")
        assert page.locator("#reasons").is_visible()
        assert page.locator(".reason").first.is_visible()
        page.keyboard.press("Escape")
        assert page.locator("#reasons").is_hidden()
        assert horizontal_overflow(page) == 0


def camera_reading(tmp_path, festival, resident) -> Recording:
    """A camera reading as the studio sends it: WebM, VP8 picture (the demo talking head) and Opus sound."""
    take = tmp_path / "recording.webm"
    transcode(
        DEMO / "video" / "talking_head_1.mp4",
        take,
        *("-i", str(CHINESE_POEM), "-map", "0:v:0", "-map", "1:a:0", "-t", "5.5", "-c:v", "libvpx", "-b:v", "500k"),
        *("-c:a", "libopus", "-ac", "1"),
    )
    recording = services.recording_submit(
        contributor=resident,
        passage=festival["chinese"],
        upload=SimpleUploadedFile(take.name, take.read_bytes()),
        video_consent=True,
    )
    assert recording.video, "the camera video was not kept for the review"
    return recording


@VIEWPORTS
@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_camera_readings_picture_and_sound_play_as_one(
    tmp_path, asgi_live_server, festival, resident, moderator, chromium_path, settings, screen
):
    settings.RECORDING_VIDEO_KEEP_FOR_REVIEW = True
    recording = camera_reading(tmp_path, festival, resident)
    with chromium(chromium_path) as browser:
        page = open_console(browser, asgi_live_server.url, screen)
        page.wait_for_function(REVIEW_SHOWN.format(recording.id), timeout=15_000)
        video = page.locator("#review-video")
        page.wait_for_function("() => document.getElementById('review-video').readyState >= 2", timeout=15_000)
        assert video.is_visible()
        box = video.bounding_box()
        assert box["width"] > 100 and box["x"] + box["width"] <= screen["viewport"]["width"]
        assert horizontal_overflow(page) == 0

        # The console starts the reading by itself: the picture runs with the sound, which the player carries.
        page.wait_for_function("() => document.getElementById('player').currentTime > 1", timeout=15_000)
        times = page.evaluate(MEDIA_TIMES)
        assert not times["videoPaused"], times
        assert abs(times["player"] - times["video"]) < IN_SYNC_SECONDS, times
        assert times["videoMuted"] and not times["playerMuted"], "two sound tracks, or none"

        # Pause: both stop, at the same moment.
        page.keyboard.press(" ")
        page.wait_for_function("() => document.getElementById('review-video').paused", timeout=5_000)
        times = page.evaluate(MEDIA_TIMES)
        assert times["playerPaused"] and abs(times["player"] - times["video"]) < IN_SYNC_SECONDS, times

        # Seek forward (the arrow keys) and back: the picture goes where the sound goes.
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowRight")
        page.wait_for_function(BOTH_AT_SAME_TIME, timeout=5_000)
        assert page.evaluate(MEDIA_TIMES)["video"] > 3
        page.keyboard.press("ArrowLeft")
        page.wait_for_function(BOTH_AT_SAME_TIME, timeout=5_000)

        # Faster (s) and playing again: the same speed, still together while it plays.
        page.keyboard.press("s")
        page.keyboard.press(" ")
        page.wait_for_function("() => !document.getElementById('review-video').paused", timeout=5_000)
        for _sample in range(4):
            page.wait_for_timeout(250)
            times = page.evaluate(MEDIA_TIMES)
            if times["playerPaused"]:
                break  # the reading ended
            assert times["videoRate"] == times["playerRate"] == 1.5, times
            assert abs(times["player"] - times["video"]) < IN_SYNC_SECONDS, times

        # Clicking the picture pauses the reading (it has no controls of its own to run apart).
        if not page.evaluate(MEDIA_TIMES)["playerPaused"]:
            video.click()
            page.wait_for_function("() => document.getElementById('player').paused", timeout=5_000)
        assert page.evaluate("() => document.getElementById('review-video').controls") is False
