"""The recording studio in a real browser (issue 26), on a laptop, a 1080p screen and a phone: leaving the
page while a take is being made or waits to be sent asks first, and a take is never lost silently (even
one interrupted mid-recording comes back after a reload), yet one offered back can be discarded; a camera
take plays back with its picture and its sound; the camera consent says how long the video is really kept,
in English and in Chinese."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest

from contributions.models import Recording
from testkit.browser import (
    LAPTOP,
    PHONE,
    WALL_HD,
    chromium,
    horizontal_overflow,
    log_in,
    record_take,
    start_take,
    stop_take,
    takes_kept,
)
from testkit.media import CHINESE_POEM, DEMO, transcode

SCREENS = [LAPTOP, WALL_HD, PHONE]
SCREEN_IDS = ["1366x768", "1920x1080", "phone"]
STATUS = "() => document.getElementById('record-status').textContent"


def fake_microphone_wav(tmp_path):
    # Chromium's fake capture reads plain 16-bit PCM only; anything else records silence.
    return transcode(CHINESE_POEM, tmp_path / "microphone.wav", "-ac", "1", "-ar", "48000", "-c:a", "pcm_s16le")


def chromium_with_camera(executable: str, tmp_path):
    """Chromium whose fake camera plays the demo talking head and whose fake microphone reads the poem."""
    microphone = fake_microphone_wav(tmp_path)
    camera = transcode(DEMO / "video" / "talking_head_1.mp4", tmp_path / "camera.y4m", "-pix_fmt", "yuv420p", "-an")
    return chromium(executable, fake_microphone_wav=microphone, fake_camera_y4m=camera)


class Dialogs:
    """The page's dialogs, answered as a resident would: stay on the page, or leave it."""

    def __init__(self, page):
        self.seen: list[str] = []
        self.leave = False
        page.on("dialog", self.answer)

    def answer(self, dialog) -> None:
        self.seen.append(dialog.type)
        if self.leave:
            dialog.accept()
        else:
            dialog.dismiss()


def open_record_page(page, base_url: str, passage) -> None:
    """Log in as the resident and land on PASSAGE's record page."""
    log_in(page, base_url, username="resident", password="resident-pass-1", next_path=f"/record/{passage.id}/")


@contextlib.contextmanager
def on_the_record_page(chromium_path: str, tmp_path, base_url: str, passage, screen) -> Iterator[tuple[Any, Dialogs]]:
    """The resident on PASSAGE's record page, on SCREEN, in a Chromium whose fake microphone reads the
    poem: yields the page and its Dialogs."""
    with chromium(chromium_path, fake_microphone_wav=fake_microphone_wav(tmp_path)) as browser:
        page = browser.new_context(**screen).new_page()
        open_record_page(page, base_url, passage)
        yield page, Dialogs(page)


@pytest.mark.parametrize("screen", SCREENS, ids=SCREEN_IDS)
@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_leaving_during_a_take_asks_first_and_the_take_comes_back(
    tmp_path, asgi_live_server, festival, resident, chromium_path, screen
):
    passage = festival["chinese"]
    with on_the_record_page(chromium_path, tmp_path, asgi_live_server.url, passage, screen) as (page, dialogs):
        # A reload in the middle of a recording asks first; staying keeps the recording running.
        start_take(page)
        page.wait_for_timeout(2500)
        page.evaluate("() => { window.stillHere = true; setTimeout(() => location.reload(), 0); }")
        page.wait_for_timeout(1500)
        assert dialogs.seen == ["beforeunload"], "the page left during a recording without asking"
        assert page.evaluate("() => window.stillHere === true")
        assert "Recording" in page.evaluate(STATUS)

        # A recorded take not yet sent: leaving asks again; leaving anyway, the take is offered back.
        stop_take(page)
        assert takes_kept(page) == 1
        dialogs.leave = True
        page.reload()
        page.wait_for_function("() => !document.getElementById('submit-button').disabled", timeout=10_000)
        assert dialogs.seen == ["beforeunload"] * 2
        assert "not been sent yet" in page.evaluate(STATUS)
        assert page.locator("#record-status").is_visible()
        assert horizontal_overflow(page) == 0

        # Left in the middle of a new recording (after asking): what was read until then comes back.
        start_take(page)
        page.wait_for_timeout(3000)
        page.reload()
        page.wait_for_function("() => !document.getElementById('submit-button').disabled", timeout=10_000)
        assert dialogs.seen == ["beforeunload"] * 3
        assert "during a recording" in page.evaluate(STATUS)
        assert horizontal_overflow(page) == 0
        assert takes_kept(page) == 1
        page.click("#play-button")
        page.wait_for_function("() => document.getElementById('playback').currentTime > 0.5", timeout=10_000)

        # Sent: the server has it, nothing is left to lose, and going to "My recordings" asks nothing.
        page.click("#submit-button")
        page.wait_for_url("**/me/recordings/", timeout=60_000)
        assert dialogs.seen == ["beforeunload"] * 3
        assert takes_kept(page) == 0

    recording = Recording.objects.get(contributor=resident)
    # The interrupted take: about the 3 s read before the reload (kept once a second).
    assert 1.0 < recording.duration_seconds < 4.5, recording.duration_seconds


@pytest.mark.parametrize("screen", SCREENS, ids=SCREEN_IDS)
@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_take_offered_back_after_a_reload_can_be_discarded(
    tmp_path, asgi_live_server, festival, resident, chromium_path, screen
):
    passage = festival["chinese"]
    with on_the_record_page(chromium_path, tmp_path, asgi_live_server.url, passage, screen) as (page, dialogs):
        dialogs.leave = True
        discard = page.locator("#discard-button")
        # A take just made is not an earlier one: nothing to discard yet.
        record_take(page, 2.0)
        assert discard.is_hidden()

        page.reload()
        page.wait_for_function("() => !document.getElementById('submit-button').disabled", timeout=10_000)
        assert dialogs.seen == ["beforeunload"]
        assert "not been sent yet" in page.evaluate(STATUS)
        discard.scroll_into_view_if_needed()
        assert discard.is_visible() and discard.inner_text() == "Discard this recording"
        assert horizontal_overflow(page) == 0

        discard.click()
        page.wait_for_function(f"() => ({STATUS})().includes('discarded')", timeout=10_000)
        assert discard.is_hidden() and page.locator("#playback").is_hidden()
        assert page.locator("#submit-button").is_disabled() and page.locator("#play-button").is_disabled()
        assert takes_kept(page) == 0

        # Nothing is left to lose: leaving asks nothing (the click gave the page the user activation that
        # Chromium wants before it asks), and nothing is offered on the next visit.
        page.reload()
        page.wait_for_function("() => !document.getElementById('recorder').classList.contains('pending')")
        page.wait_for_timeout(500)  # the restore reads IndexedDB after the page is shown
        assert dialogs.seen == ["beforeunload"], "leaving asked although the take was discarded"
        assert page.locator("#submit-button").is_disabled() and discard.is_hidden()
        assert "not been sent" not in page.evaluate(STATUS)
        assert takes_kept(page) == 0

        # The studio records again as before.
        record_take(page, 1.5)
        assert discard.is_hidden() and takes_kept(page) == 1
    assert not Recording.objects.filter(contributor=resident).exists()


PLAYBACK = """() => {
  const element = document.getElementById('playback');
  return {tag: element.tagName, width: element.videoWidth, time: element.currentTime, muted: element.muted,
          paused: element.paused, sound: element.webkitAudioDecodedByteCount,
          picture: element.webkitVideoDecodedByteCount};
}"""


def assert_take_plays_with_picture_and_sound(page) -> None:
    page.click("#play-button")
    page.wait_for_function("() => document.getElementById('playback').currentTime > 1", timeout=10_000)
    playback = page.evaluate(PLAYBACK)
    assert playback["tag"] == "VIDEO" and playback["width"] > 0, (
        f"the camera take plays without its picture: {playback}"
    )
    assert playback["picture"] > 0 and playback["sound"] > 0 and not playback["muted"], playback
    assert page.locator("#playback").is_visible()


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_camera_take_plays_back_with_its_picture_and_sound(
    tmp_path, asgi_live_server, festival, resident, chromium_path
):
    passage = festival["chinese"]
    with chromium_with_camera(chromium_path, tmp_path) as browser:
        page = browser.new_context(**LAPTOP).new_page()
        open_record_page(page, asgi_live_server.url, passage)
        page.check("#camera-optin")
        page.check("#camera-consent")
        page.wait_for_function("() => document.getElementById('camera-preview').videoWidth > 0", timeout=15_000)
        page.click("#record-button")
        page.wait_for_function(f"() => ({STATUS})().includes('Recording')", timeout=15_000)
        # No stale picture while recording.
        assert page.locator("#playback").is_hidden()
        page.wait_for_timeout(3500)
        page.click("#record-button")
        page.wait_for_function("() => !document.getElementById('submit-button').disabled", timeout=10_000)

        assert_take_plays_with_picture_and_sound(page)
        # On each screen the picture is there, whole, and the page does not scroll sideways.
        for screen in SCREENS:
            page.set_viewport_size(screen["viewport"])
            page.locator("#playback").scroll_into_view_if_needed()
            box = page.locator("#playback").bounding_box()
            assert box["width"] >= 200 and box["height"] >= 150, (screen, box)
            assert box["x"] >= 0 and box["x"] + box["width"] <= screen["viewport"]["width"], (screen, box)
            assert horizontal_overflow(page) == 0, screen

        # Brought back after a reload, the camera take is still a video with its sound.
        page.on("dialog", lambda dialog: dialog.accept())
        page.reload()
        page.wait_for_function("() => !document.getElementById('submit-button').disabled", timeout=10_000)
        assert_take_plays_with_picture_and_sound(page)


@pytest.mark.parametrize("kept_for_review", [True, False], ids=["kept-for-review", "deleted-once-measured"])
@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_camera_consent_says_how_long_the_video_is_kept(
    asgi_live_server, festival, resident, chromium_path, settings, kept_for_review
):
    """What governs it: settings.RECORDING_VIDEO_KEEP_FOR_REVIEW (on by default) in
    contributions.services.recording_discard_video: kept while the reading is pending, deleted at the
    moderator's decision; off, deleted once the motion is extracted."""
    settings.RECORDING_VIDEO_KEEP_FOR_REVIEW = kept_for_review
    passage = festival["chinese"]
    expected = {
        # (language, what the note must say, what it must not say) per setting
        True: {
            "en-GB": ("kept until a moderator has decided", "they are measured"),
            "zh-CN": ("保留到审核员", "一经测量"),
        },
        False: {
            "en-GB": ("they are measured", "until a moderator"),
            "zh-CN": ("一经测量", "保留到审核员"),
        },
    }[kept_for_review]
    with chromium(chromium_path) as browser:
        for language, (says, never_says) in expected.items():
            context = browser.new_context(locale=language, extra_http_headers={"Accept-Language": language})
            page = context.new_page()
            open_record_page(page, asgi_live_server.url, passage)
            for screen in SCREENS:
                page.set_viewport_size(screen["viewport"])
                note = page.locator(".camera-note")
                note.scroll_into_view_if_needed()
                assert note.is_visible(), (language, screen)
                text = note.inner_text()
                assert says in text and never_says not in text, (language, text)
                # The upload form's video consent says the same.
                label = page.locator("label[for=id_video_consent]").inner_text()
                assert says in label and never_says not in label, (language, label)
                assert horizontal_overflow(page) == 0, (language, screen)
            context.close()
