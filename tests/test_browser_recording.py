"""A resident records a reading in a real browser (Chromium's MediaRecorder, a fake microphone) and
submits it, against the product's own ASGI server: on a laptop, on a phone, on a slow network, after a
reload, and from Safari (an AAC .m4a file)."""

from __future__ import annotations

import numpy as np
import pytest

from animation.engine import audio
from contributions.models import Recording
from testkit.browser import (
    PHONE,
    PageWatch,
    chromium,
    horizontal_overflow,
    line_breaks,
    log_in,
    record_take,
    takes_kept,
)
from testkit.media import CHINESE_POEM, transcode


def fake_microphone_wav(tmp_path):
    # Chromium's fake capture reads plain 16-bit PCM only; anything else records silence.
    return transcode(CHINESE_POEM, tmp_path / "microphone.wav", "-ac", "1", "-ar", "48000", "-c:a", "pcm_s16le")


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_resident_records_plays_back_and_submits_in_the_browser(
    tmp_path,
    asgi_live_server,
    festival,
    resident,
    chromium_path,
    settings,
):
    microphone = fake_microphone_wav(tmp_path)
    passage = festival["chinese"]
    with chromium(chromium_path, fake_microphone_wav=microphone) as browser:
        page = browser.new_page()
        watch = PageWatch().attach(page)
        log_in(
            page,
            asgi_live_server.url,
            username="resident",
            password="resident-pass-1",
            next_path=f"/record/{passage.id}/",
        )
        assert page.locator(".passage-text").inner_text().startswith("床前明月光")

        # Escape during a recording throws it away and says so (it once kept saying "Recording…").
        page.keyboard.press("r")
        page.wait_for_function("() => document.getElementById('record-status').textContent.includes('Recording')")
        page.keyboard.press("Escape")
        assert "cancelled" in page.locator("#record-status").inner_text()
        assert page.locator("#submit-button").is_disabled()

        record_take(page, 4.5)
        assert takes_kept(page) == 1
        # Enter on a focused "Play back" plays the take; it must not send it (it once did).
        page.focus("#play-button")
        page.keyboard.press("Enter")
        page.wait_for_function("() => document.getElementById('playback').currentTime > 0.5", timeout=10_000)
        assert "/record/" in page.url
        assert Recording.objects.filter(contributor=resident).count() == 0

        page.focus("#submit-button")
        page.keyboard.press("Enter")
        page.wait_for_url("**/me/recordings/", timeout=60_000)
        assert "静夜思" in page.content()
        watch.assert_clean()

    recording = Recording.objects.get(contributor=resident)
    assert recording.status == Recording.Status.PENDING
    assert recording.original_extension == "webm"  # what Chromium's MediaRecorder makes
    stored = audio.decode_audio(settings.MEDIA_ROOT / recording.original.name, sample_rate=16000)
    assert abs(len(stored) / 16000 - recording.duration_seconds) < 0.1
    assert 3.5 < recording.duration_seconds < 6.5
    rms_dbfs = 20 * np.log10(np.sqrt(np.mean(stored**2)) + 1e-9)
    assert rms_dbfs > -40, f"the recording is silent ({rms_dbfs:.1f} dBFS)"
    # Each step of the flow was counted once, anonymously, for the organisers' dashboard.
    from contributions.models import RecordingFunnelCount

    counted = dict(RecordingFunnelCount.objects.filter(passage=recording.passage).values_list("step", "count"))
    assert counted == dict.fromkeys(RecordingFunnelCount.Step.values, 1), counted


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_take_survives_a_reload_and_a_dropped_upload(
    tmp_path,
    asgi_live_server,
    festival,
    resident,
    chromium_path,
):
    microphone = fake_microphone_wav(tmp_path)
    passage = festival["chinese"]
    with chromium(chromium_path, fake_microphone_wav=microphone) as browser:
        page = browser.new_page()
        log_in(
            page,
            asgi_live_server.url,
            username="resident",
            password="resident-pass-1",
            next_path=f"/record/{passage.id}/",
        )

        page.click("#pinyin-toggle")
        assert "chuáng" in page.locator("#passage-text").inner_text()

        page.click("#record-button")
        page.wait_for_function("() => document.getElementById('record-status').textContent.includes('Recording')")
        page.wait_for_timeout(2500)
        page.click("#record-button")
        page.wait_for_function("() => !document.getElementById('submit-button').disabled", timeout=10_000)
        assert takes_kept(page) == 1

        # The tab is reloaded before submitting: the take comes back from the browser's storage.
        page.reload()
        page.wait_for_function("() => !document.getElementById('submit-button').disabled", timeout=10_000)
        assert "not been sent yet" in page.locator("#record-status").inner_text()
        assert takes_kept(page) == 1

        # The first upload reaches the server, which keeps it, but its answer is lost on the way back;
        # the page retries by itself, with the take's same key, and the server answers with that reading.
        attempts = []

        def lose_first_answer(route):
            attempts.append(route.request.headers.get("idempotency-key"))
            if len(attempts) == 1:
                route.fetch(timeout=60_000)
                route.abort("connectionreset")
            else:
                route.continue_()

        page.route("**/api/recordings/", lose_first_answer)
        page.click("#submit-button")
        page.wait_for_url("**/me/recordings/", timeout=60_000)
        assert len(attempts) == 2 and attempts[0] and attempts[0] == attempts[1], attempts

        # Once the server confirmed it, the kept take is gone: a new visit starts clean.
        page.goto(f"{asgi_live_server.url}/record/{passage.id}/")
        assert takes_kept(page) == 0
        assert page.locator("#submit-button").is_disabled()

    assert Recording.objects.filter(contributor=resident).count() == 1


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_phone_records_a_chinese_poem_over_a_slow_network_that_drops(
    tmp_path,
    asgi_live_server,
    festival,
    resident,
    chromium_path,
):
    """390 x 844, the poem and the status wrap instead of widening the page; the upload is throttled
    to a slow 3G uplink and the network is cut at the first try: the page retries and gets through."""
    microphone = fake_microphone_wav(tmp_path)
    passage = festival["chinese"]
    with chromium(chromium_path, fake_microphone_wav=microphone) as browser:
        context = browser.new_context(**PHONE)
        page = context.new_page()
        log_in(
            page,
            asgi_live_server.url,
            username="resident",
            password="resident-pass-1",
            next_path=f"/record/{passage.id}/",
        )
        # The poem wraps only after a phrase's punctuation (never "低头思故/乡。", never a line starting
        # with "。"), with or without pinyin, on a 390 px phone and on a 320 px one.
        for width in (390, 320):
            page.set_viewport_size({"width": width, "height": 844})
            for pinyin in (False, True):
                if pinyin != ("show-pinyin" in (page.locator("#passage-text").get_attribute("class") or "")):
                    page.click("#pinyin-toggle")
                assert horizontal_overflow(page) == 0, (width, pinyin)
                # Not merely clipped: the poem's box ends inside the screen (it once ran 635 px wide).
                right = page.evaluate("document.getElementById('passage-text').getBoundingClientRect().right")
                assert right <= width, (width, pinyin, right)
                breaks = line_breaks(page, "#passage-text")
                assert all(before in "，。！？；：、" for before, _after in breaks), (width, pinyin, breaks)
        page.set_viewport_size({"width": 390, "height": 844})

        page.click("#record-button")
        page.wait_for_function("() => document.getElementById('record-status').textContent.includes('Recording')")
        assert horizontal_overflow(page) == 0
        page.wait_for_timeout(5000)
        page.click("#record-button")
        page.wait_for_function("() => !document.getElementById('submit-button').disabled", timeout=10_000)

        session = context.new_cdp_session(page)
        session.send("Network.enable")
        session.send(
            "Network.emulateNetworkConditions",
            {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
        )
        page.evaluate(
            """() => { window.progressSeen = [];
                 const bar = document.getElementById('upload-progress');
                 setInterval(() => window.progressSeen.push(bar.value), 50); }"""
        )
        page.click("#submit-button")
        page.wait_for_function("() => document.getElementById('record-status').textContent.includes('trying again')")
        # Slow 3G uplink: 400 ms round trip, 50 kB/s.
        session.send(
            "Network.emulateNetworkConditions",
            {"offline": False, "latency": 400, "downloadThroughput": 50_000, "uploadThroughput": 50_000},
        )
        page.wait_for_url("**/me/recordings/", timeout=90_000)
        assert takes_kept(page) == 0

    recording = Recording.objects.get(contributor=resident)
    assert 4 < recording.duration_seconds < 7.5


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_safari_take_in_aac_is_uploaded_and_plays_back(
    tmp_path,
    asgi_live_server,
    festival,
    resident,
    chromium_path,
    settings,
):
    """Safari's MediaRecorder makes audio/mp4 (AAC); an .m4a file stands in, sent through the page's form."""
    take = transcode(CHINESE_POEM, tmp_path / "recording.m4a", "-ac", "1", "-c:a", "aac", "-b:a", "96k")
    passage = festival["chinese"]
    with chromium(chromium_path) as browser:
        page = browser.new_page()
        watch = PageWatch().attach(page)
        log_in(
            page,
            asgi_live_server.url,
            username="resident",
            password="resident-pass-1",
            next_path=f"/record/{passage.id}/",
        )
        page.set_input_files(".upload-fallback input[type=file]", str(take))
        page.click(".upload-fallback button[type=submit]")
        page.wait_for_url("**/me/recordings/", timeout=60_000)
        recording = Recording.objects.get(contributor=resident)
        # The reader hears it back with its true length.
        player = page.locator(f"[data-recording-id='{recording.id}'] audio")
        player.evaluate("element => { element.preload = 'auto'; element.load(); }")
        page.wait_for_function(
            f"() => document.querySelector(\"[data-recording-id='{recording.id}'] audio\").readyState >= 1",
            timeout=15_000,
        )
        duration = player.evaluate("element => element.duration")
        watch.assert_clean()

    assert recording.original_extension == "m4a"
    assert abs(recording.duration_seconds - 5.5) < 0.3
    assert abs(duration - recording.duration_seconds) < 0.3
    stored = audio.decode_audio(settings.MEDIA_ROOT / recording.original.name, sample_rate=16000)
    assert abs(len(stored) / 16000 - recording.duration_seconds) < 0.1
