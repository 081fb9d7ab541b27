"""The festival night in one browser test, with what browsers really produce.

A resident records a reading with Chromium's MediaRecorder (a WebM take that carries no duration) ->
a moderator hears it with its true duration and approves it with the keyboard -> the real Celery worker
aligns and renders the film -> the card slides into an open festival page over the websocket, and the
reader's own page shows the film's progress live -> a visitor watches the H.264 film on its page.

Everything runs on the product's own ASGI server (Daphne in this process: HTTP, websockets, the
/media/ publication gate), Redis as broker and channel layer, Debian's Chromium.
"""

from __future__ import annotations

import pytest

from contributions.models import Recording
from testkit.browser import REVIEW_SHOWN, PageWatch, chromium, log_in, wait_until
from testkit.media import CHINESE_POEM, transcode

FILM_TIMEOUT_MS = 300_000


@pytest.mark.browser
@pytest.mark.slow
def test_a_browser_take_goes_from_the_microphone_to_a_film_on_the_festival_page(
    tmp_path,
    asgi_live_server,
    festival,
    resident,
    moderator,
    celery_worker,
    chromium_path,
):
    from animation.models import Animation

    microphone = transcode(CHINESE_POEM, tmp_path / "microphone.wav", "-ac", "1", "-ar", "48000", "-c:a", "pcm_s16le")
    passage, event = festival["chinese"], festival["event"]
    base = asgi_live_server.url
    with chromium(chromium_path, fake_microphone_wav=microphone) as browser:
        # A visitor keeps the festival page open all along.
        visitor = browser.new_context().new_page()
        visitor_watch = PageWatch().attach(visitor)
        visitor.goto(f"{base}/events/{event.slug}/")
        visitor.wait_for_function("() => document.documentElement.dataset.live === 'open'")
        visitor.evaluate("() => { window.sameLoad = true; }")

        # 1. The resident records with the page's own recorder and sends the take with the keyboard.
        reader = browser.new_context().new_page()
        log_in(reader, base, username="resident", password="resident-pass-1", next_path=f"/record/{passage.id}/")
        reader.keyboard.press("r")
        reader.wait_for_function("() => document.getElementById('record-status').textContent.includes('Recording')")
        reader.wait_for_timeout(6500)
        reader.keyboard.press("r")
        reader.wait_for_function("() => !document.getElementById('submit-button').disabled", timeout=10_000)
        reader.focus("#submit-button")
        reader.keyboard.press("Enter")
        reader.wait_for_url("**/me/recordings/", timeout=60_000)
        recording = Recording.objects.get(contributor=resident)
        assert recording.original_extension == "webm"
        # The speech worker makes the 48 kHz voice copy and the transcript from the browser's take.
        wait_until(
            lambda: Recording.objects.filter(id=recording.id).exclude(voice_wav="").exists(),
            timeout=120,
            message="no normalised voice copy was made from the browser's take",
        )

        # 2. The moderator hears a file with a true duration and approves it without the mouse.
        moderation = browser.new_context().new_page()
        log_in(moderation, base, username="moderator", password="moderator-pass-1", next_path="/moderation/")
        moderation.wait_for_function(REVIEW_SHOWN.format(recording.id), timeout=20_000)
        moderation.wait_for_function(
            "() => { const player = document.getElementById('player'); "
            "return isFinite(player.duration) && player.duration > 0; }",
            timeout=15_000,
        )
        heard = moderation.evaluate("document.getElementById('player').duration")
        recording.refresh_from_db()
        assert abs(heard - recording.duration_seconds) < 0.25, (heard, recording.duration_seconds)
        assert "Infinity" not in moderation.locator("#clock").inner_text()
        moderation.keyboard.press("s")  # 1.5x
        moderation.wait_for_function("() => document.getElementById('player').playbackRate === 1.5")
        moderation.wait_for_function("() => document.getElementById('player').paused === false", timeout=10_000)
        moderation.wait_for_function("() => document.getElementById('player').ended", timeout=30_000)
        moderation.keyboard.press("a")
        moderation.wait_for_function("() => !document.getElementById('empty').hidden", timeout=15_000)
        recording.refresh_from_db()
        assert recording.status == Recording.Status.APPROVED

        # 3. The reader's page follows the film being made and offers it when it is published.
        reader.reload()
        watch_link = reader.locator(f"[data-recording-id='{recording.id}'] a[href^='/animations/']")

        # 4. The film slides into the visitor's open page without a reload.
        card = visitor.locator("#animation-grid .card").first
        card.wait_for(timeout=FILM_TIMEOUT_MS)
        animation = Animation.objects.get(recording_id=recording.id)
        assert animation.status == Animation.Status.PUBLISHED, animation.error
        assert visitor.evaluate("window.sameLoad") is True
        assert card.get_attribute("data-animation-id") == str(animation.id)
        assert "Li Ming" in card.inner_text()
        assert card.locator("img").evaluate("image => image.complete && image.naturalWidth > 0")
        watch_link.wait_for(timeout=30_000)

        # 5. The visitor opens the film page and watches the H.264 film with word-by-word captions.
        card.locator("a").click()
        visitor.wait_for_url(f"**/animations/{animation.id}/")
        visitor.wait_for_function("() => document.getElementById('film').readyState >= 1", timeout=20_000)
        visitor.evaluate("() => { const v = document.getElementById('film'); v.muted = true; return v.play(); }")
        visitor.wait_for_function("() => document.getElementById('film').currentTime > 2", timeout=30_000)
        film = visitor.evaluate(
            """() => { const v = document.getElementById('film');
                       return {width: v.videoWidth, height: v.videoHeight, duration: v.duration,
                               source: v.currentSrc}; }"""
        )
        assert film["width"] > 0 and film["height"] > 0, film
        assert film["source"].endswith(".mp4"), film
        assert abs(film["duration"] - recording.duration_seconds) < 0.5, film
        # The poem beside the film lights up word by word as the film plays (the take starts mid-poem:
        # Chromium's fake microphone began during the count-in, so wait rather than pick a time).
        visitor.wait_for_function(
            "() => document.querySelectorAll('#passage-text .unit.spoken').length >= 3", timeout=15_000
        )
        visitor_watch.assert_clean()
