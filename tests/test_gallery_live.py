"""The festival gallery in a real browser: a film made by the real worker slides into an open page,
plays with word-by-word subtitles, and disappears live when its reader withdraws it.

Real components throughout: daphne (HTTP + websockets) in this process, Redis as channel layer and
broker, a real Celery worker running Whisper and the engine, Debian's Chromium.
"""

from __future__ import annotations

import pytest

from testkit.browser import chromium
from testkit.live_server import asgi_live_server, in_another_thread, submit_and_approve, withdraw  # noqa: F401
from testkit.media import CHINESE_POEM, transcode

FILM_TIMEOUT_MS = 240_000


@pytest.mark.browser
@pytest.mark.slow
def test_a_new_film_appears_live_plays_with_subtitles_and_leaves_when_withdrawn(
    tmp_path,
    asgi_live_server,  # noqa: F811
    festival,
    resident,
    moderator,
    celery_worker,
    chromium_path,
):
    from animation.models import Animation

    event = festival["event"]
    with chromium(chromium_path) as browser:
        visitor = browser.new_page()
        visitor.goto(f"{asgi_live_server.url}/events/{event.slug}/")
        visitor.wait_for_function("() => document.documentElement.dataset.live === 'open'")
        assert visitor.locator("#animation-grid .card").count() == 0
        # Marks this page load: a reload would lose it. Also records every value the counter showed.
        visitor.evaluate(
            """() => {
              window.sameLoad = true; window.counterValues = [];
              new MutationObserver(() => window.counterValues.push(
                  Number(document.getElementById('in-progress').textContent))
              ).observe(document.getElementById('in-progress'), {childList: true, characterData: true, subtree: true});
            }"""
        )

        take = transcode(CHINESE_POEM, tmp_path / "take.webm", "-c:a", "libopus", "-b:a", "64k")
        recording_id = submit_and_approve(
            take=take, passage=festival["chinese"], resident=resident, moderator=moderator
        )

        card = visitor.locator("#animation-grid .card").first
        card.wait_for(timeout=FILM_TIMEOUT_MS)
        animation = Animation.objects.get(recording_id=recording_id)
        assert animation.status == Animation.Status.PUBLISHED, animation.error
        assert visitor.evaluate("window.sameLoad") is True
        assert card.get_attribute("data-animation-id") == str(animation.id)
        assert "静夜思" in card.inner_text()
        assert "Portrait of a Young Woman" in card.inner_text()
        assert "Li Ming" in card.inner_text()
        assert card.locator("img").evaluate("image => image.complete && image.naturalWidth > 0")
        counter_values = visitor.evaluate("window.counterValues")
        assert max(counter_values) >= 1 and counter_values[-1] == 0, counter_values

        # A second visitor opens the film from the card and watches it.
        viewer = browser.new_page()
        viewer.goto(asgi_live_server.url + card.locator("a").get_attribute("href"))
        viewer.wait_for_function("() => document.getElementById('film').readyState >= 1", timeout=20_000)
        viewer.evaluate("() => { const v = document.getElementById('film'); v.muted = true; return v.play(); }")
        viewer.wait_for_function("() => document.getElementById('film').currentTime > 2.5", timeout=30_000)
        track = viewer.evaluate(
            """() => { const t = document.getElementById('film').textTracks[0];
                       return {mode: t.mode, cues: t.cues ? t.cues.length : 0,
                               text: t.cues ? Array.from(t.cues).map(c => c.text).join('|') : ''}; }"""
        )
        assert track["mode"] == "showing"
        assert track["cues"] >= 2, track
        assert "<00:00:" in track["text"], "the cues carry no word timestamps"
        assert "床" in track["text"]
        highlighted = viewer.locator("#passage-text .unit.current")
        assert highlighted.count() == 1
        assert int(viewer.locator("#passage-text").get_attribute("data-current-unit")) >= 3
        assert viewer.locator("#passage-text .unit.spoken").count() >= 3
        assert "Li Ming" in viewer.locator(".ai-label").inner_text()
        assert viewer.locator('meta[property="og:image"]').get_attribute("content").endswith("/poster.jpg")

        # The reader takes the voice back: the card leaves the open page without a reload.
        withdraw(recording_id=recording_id, resident=resident)
        visitor.locator(f'[data-animation-id="{animation.id}"]').wait_for(state="detached", timeout=15_000)
        assert visitor.evaluate("window.sameLoad") is True
        assert visitor.locator("#empty-note").is_visible()
        # The visitor watching the film is told, on the open page, instead of a film failing silently.
        viewer.locator("#film-withdrawn").wait_for(state="visible", timeout=15_000)
        assert viewer.locator("#film").is_hidden()
        gone = viewer.request.get(f"{asgi_live_server.url}/animations/{animation.id}/")
        assert gone.status in (404, 410) and "film.mp4" not in gone.text()
        assert viewer.request.get(f"{asgi_live_server.url}/media/animations/{animation.id}/film.mp4").status == 404
