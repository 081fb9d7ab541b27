"""A resident records a reading in a real browser through a fake microphone and submits it."""

from __future__ import annotations

import numpy as np
import pytest

from animation.engine import audio
from conftest import CHINESE_POEM, transcode
from contributions.models import Recording
from tests.browser import chromium, log_in


def fake_microphone_wav(tmp_path):
    # Chromium's fake capture reads plain 16-bit PCM only; anything else records silence.
    return transcode(CHINESE_POEM, tmp_path / "microphone.wav", "-ac", "1", "-ar", "48000", "-c:a", "pcm_s16le")


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_resident_records_plays_back_and_submits_in_the_browser(
    tmp_path, live_server, festival, resident, chromium_path, settings
):
    microphone = fake_microphone_wav(tmp_path)
    passage = festival["chinese"]
    with chromium(chromium_path, fake_microphone_wav=microphone) as browser:
        page = browser.new_page()
        log_in(
            page, live_server.url, username="resident", password="resident-pass-1", next_path=f"/record/{passage.id}/"
        )
        assert page.locator(".passage-text").inner_text().startswith("床前明月光")

        page.keyboard.press("r")  # record, after the 3-2-1 count-in
        page.wait_for_function("document.getElementById('record-status').textContent.includes('Recording')")
        page.wait_for_timeout(4500)
        page.keyboard.press("r")  # stop
        page.wait_for_function("!document.getElementById('play-button').disabled", timeout=10_000)
        page.click("#play-button")
        page.wait_for_function("document.getElementById('playback').currentTime > 0.5", timeout=10_000)
        page.click("#submit-button")
        page.wait_for_url("**/me/recordings/", timeout=60_000)
        assert "静夜思" in page.content()

    recording = Recording.objects.get(contributor=resident)
    assert recording.status == Recording.Status.PENDING
    assert recording.original_extension in {"webm", "ogg"}
    stored = audio.decode_audio(settings.MEDIA_ROOT / recording.original.name, sample_rate=16000)
    assert abs(len(stored) / 16000 - recording.duration_seconds) < 0.1
    assert 3.5 < recording.duration_seconds < 6.5
    rms_dbfs = 20 * np.log10(np.sqrt(np.mean(stored**2)) + 1e-9)
    assert rms_dbfs > -40, f"the recording is silent ({rms_dbfs:.1f} dBFS)"


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_take_survives_a_reload_and_a_dropped_upload(tmp_path, live_server, festival, resident, chromium_path):
    microphone = fake_microphone_wav(tmp_path)
    passage = festival["chinese"]
    with chromium(chromium_path, fake_microphone_wav=microphone) as browser:
        page = browser.new_page()
        log_in(
            page, live_server.url, username="resident", password="resident-pass-1", next_path=f"/record/{passage.id}/"
        )

        page.click("#pinyin-toggle")
        assert "chuáng" in page.locator("#passage-text").inner_text()

        page.click("#record-button")
        page.wait_for_function("document.getElementById('record-status').textContent.includes('Recording')")
        page.wait_for_timeout(2500)
        page.click("#record-button")
        page.wait_for_function("!document.getElementById('submit-button').disabled", timeout=10_000)

        # The tab is reloaded before submitting: the take comes back from the browser's storage.
        page.reload()
        page.wait_for_function("!document.getElementById('submit-button').disabled", timeout=10_000)
        assert "not been sent yet" in page.locator("#record-status").inner_text()

        # The network drops during the first upload; the page retries by itself.
        attempts = []

        def drop_first_upload(route):
            attempts.append(route.request.method)
            if len(attempts) == 1:
                route.abort("connectionreset")
            else:
                route.continue_()

        page.route("**/api/recordings/", drop_first_upload)
        page.keyboard.press("Enter")
        page.wait_for_url("**/me/recordings/", timeout=60_000)
        assert len(attempts) == 2

        # Once the server confirmed it, the kept take is gone: a new visit starts clean.
        page.goto(f"{live_server.url}/record/{passage.id}/")
        page.wait_for_timeout(500)
        assert page.locator("#submit-button").is_disabled()

    assert Recording.objects.filter(contributor=resident).count() == 1
